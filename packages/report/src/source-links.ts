/**
 * Links from findings to the file and line at the run's commit, on the forge that hosts the
 * repository (GitHub, GitLab, Bitbucket). The repository's web address comes from the CI's
 * own variables, else from the `origin` remote; credentials in a remote URL are never kept,
 * and anything that is not a plain https address of a known forge gives no link at all.
 */
import type { GitInfo, SourceHost } from '@gatehouse-ci/core';

/** Forges by host name, for remotes outside CI. Self-hosted forges are named by CI variables. */
const KNOWN_HOSTS: Record<string, SourceHost['kind']> = {
  'github.com': 'github',
  'gitlab.com': 'gitlab',
  'bitbucket.org': 'bitbucket',
};

/** A repository path: owner/name, or GitLab's nested groups. */
const REPO_PATH = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)+$/;
/** Host names only (no credentials, ports or paths ride along). */
const HOST_NAME = /^[A-Za-z0-9.-]+$/;

function web(kind: SourceHost['kind'], host: string, path: string): SourceHost | null {
  const clean = path.replace(/\.git$/, '').replace(/\/+$/, '');
  if (!HOST_NAME.test(host) || !REPO_PATH.test(clean) || clean.split('/').includes('..'))
    return null;
  return { kind, url: `https://${host.toLowerCase()}/${clean}` };
}

/**
 * The web address of the repository from a git remote URL (`git@github.com:o/r.git`,
 * `https://user:token@github.com/o/r.git`, `ssh://git@gitlab.com/g/s/r.git`), or null
 * when the host is not a known forge or the URL is not understood. User names and tokens
 * are dropped: only the host and the repository path are kept.
 */
export function sourceHostOfRemote(remote: string): SourceHost | null {
  const text = remote.trim();
  let host: string;
  let path: string;
  const scp = /^[A-Za-z0-9_.-]+@([A-Za-z0-9.-]+):(?!\/)(.+)$/.exec(text);
  if (scp) {
    host = scp[1]!;
    path = scp[2]!;
  } else {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return null;
    }
    if (!['https:', 'ssh:', 'git+ssh:', 'http:'].includes(url.protocol)) return null;
    host = url.hostname;
    path = decodeURIComponent(url.pathname).replace(/^\/+/, '');
  }
  const kind = KNOWN_HOSTS[host.toLowerCase()];
  return kind ? web(kind, host, path) : null;
}

/** The repository's web address as the CI names it (self-hosted forges included), or null. */
export function sourceHostOfCi(env: Record<string, string | undefined>): SourceHost | null {
  if (env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY) {
    const server = safeHttps(env.GITHUB_SERVER_URL);
    return server ? web('github', server, env.GITHUB_REPOSITORY) : null;
  }
  if (env.GITLAB_CI && env.CI_PROJECT_URL) {
    const url = safeUrl(env.CI_PROJECT_URL);
    return url ? web('gitlab', url.hostname, url.pathname.replace(/^\/+/, '')) : null;
  }
  if (env.BITBUCKET_WORKSPACE && env.BITBUCKET_REPO_SLUG)
    return web(
      'bitbucket',
      'bitbucket.org',
      `${env.BITBUCKET_WORKSPACE}/${env.BITBUCKET_REPO_SLUG}`,
    );
  return null;
}

function safeUrl(text: string): URL | null {
  try {
    const url = new URL(text);
    if (url.protocol !== 'https:' || url.username || url.password || url.port) return null;
    return url;
  } catch {
    return null;
  }
}

function safeHttps(text: string): string | null {
  const url = safeUrl(text);
  return url && (url.pathname === '/' || url.pathname === '') ? url.hostname : null;
}

/**
 * The address of `file` at `line` in the report's commit, or null (no forge, no commit, or a
 * path that is not a plain relative path inside the project).
 */
export function sourceLink(git: GitInfo, file: string, line?: number): string | null {
  const host = git.source;
  if (!host || !git.commit || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(git.commit)) return null;
  if (file.startsWith('/') || /^[A-Za-z]:/.test(file) || file.includes('\\')) return null;
  const parts = file.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return null;
  const path = parts.map(encodeURIComponent).join('/');
  const n = line !== undefined && Number.isInteger(line) && line > 0 ? line : null;
  switch (host.kind) {
    case 'github':
      return `${host.url}/blob/${git.commit}/${path}${n ? `#L${n}` : ''}`;
    case 'gitlab':
      return `${host.url}/-/blob/${git.commit}/${path}${n ? `#L${n}` : ''}`;
    case 'bitbucket':
      return `${host.url}/src/${git.commit}/${path}${n ? `#lines-${n}` : ''}`;
  }
}
