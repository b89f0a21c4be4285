/** The `a11y` gate: pa11y-ci or axe, on the built app when there is a build. */
import type { UserGate } from '@gatehouse-ci/core';
import { PA11Y_FILES, type ProjectFacts } from '../detect.js';
import type { BuildProposal } from './build.js';
import { firstPresent, type InitContext, type Proposal } from './context.js';

/** Most the gate waits for the app's server to answer, in seconds. */
const SERVE_WAIT_SECONDS = 60;

/**
 * How an a11y gate serves the built app for URLs on localhost: the project's own `preview`
 * script (Vite, Astro and others serve the build with it), started in the background; the
 * gate waits until the first URL answers. Null when the URLs are not all on one local
 * origin or there is no such script. The server is a child of the gate: every executor
 * ends a gate's leftover processes with the gate.
 */
function servedBy(
  f: ProjectFacts,
  urls: string[],
  runScript: (name: string) => string,
): { prefix: string; script: string; origin: string } | null {
  if (urls.length === 0 || !f.scripts.preview) return null;
  let origin: string | null = null;
  for (const u of urls) {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      return null;
    }
    if (url.protocol !== 'http:' || !['localhost', '127.0.0.1'].includes(url.hostname)) return null;
    if (origin !== null && url.origin !== origin) return null;
    origin = url.origin;
  }
  const first = urls[0]!;
  // Shell-safe: a URL here is an http origin on localhost plus a path; quote it anyway.
  const quoted = `'${first.replace(/'/g, `'\\''`)}'`;
  const wait =
    `node -e "const u=process.argv[1],t=Date.now()+${SERVE_WAIT_SECONDS * 1000};` +
    `(function p(){fetch(u).then(()=>{},()=>Date.now()<t?setTimeout(p,250):process.exit(1))})()" ${quoted}`;
  return {
    prefix: `${runScript('preview')} > "$GATEHOUSE_OUT/preview.log" 2>&1 & ${wait} && `,
    script: 'preview',
    origin: origin!,
  };
}

export function proposeA11y({ f, pm }: InitContext, build: BuildProposal): Proposal {
  const pa11yWhy =
    firstPresent(f, PA11Y_FILES) ??
    (f.deps.has('pa11y-ci') ? 'pa11y-ci in devDependencies' : undefined);
  const hasBuild = build.gate !== null;
  /** The a11y gate running `run`, which writes `evidence`; any violation fails it. */
  const a11y = (run: string, evidence: NonNullable<UserGate['evidence']>[number]): UserGate => ({
    kind: 'a11y-test',
    ...(hasBuild ? { needs: ['build'] } : {}),
    run,
    evidence: [evidence],
    policy: { max_violations: 0 },
  });
  if (pa11yWhy) {
    const served = hasBuild ? servedBy(f, f.pa11yUrls, pm.runScript) : null;
    return {
      gate: {
        id: 'a11y',
        gate: a11y(
          `${served ? served.prefix : ''}${pm.exec} pa11y-ci --json > "$GATEHOUSE_OUT/pa11y.json"`,
          { format: 'pa11y', path: 'pa11y.json' },
        ),
        comment: [
          `a11y — pa11y-ci (found ${pa11yWhy}) checks the URLs of your pa11y-ci config.`,
          ...(served
            ? [
                `It needs build and checks the built app served by your \`${served.script}\` script at ${served.origin}:`,
                'the gate starts it, waits until it answers, and stops it when the scan ends.',
              ]
            : hasBuild
              ? ['It needs build, so it runs on the built site; serve it if your URLs are http://.']
              : []),
          'Any accessibility violation fails the gate (policy.max_violations: 0).',
        ],
      },
      detected: [
        `a11y: pa11y-ci (${pa11yWhy})${served ? `, the build served by the ${served.script} script` : ''}`,
      ],
    };
  }
  if (f.deps.has('@axe-core/cli')) {
    const url = build.outDir ? `file://$PWD/${build.outDir}/index.html` : 'http://localhost:3000';
    return {
      gate: {
        id: 'a11y',
        gate: a11y(`${pm.exec} axe "${url}" --dir "$GATEHOUSE_OUT" --save axe.json`, {
          format: 'axe',
          path: 'axe.json',
        }),
        comment: [
          'a11y — axe (found @axe-core/cli in devDependencies). The page is a guess: list your pages.',
          'Any accessibility violation fails the gate (policy.max_violations: 0).',
        ],
      },
      detected: [`a11y: @axe-core/cli, page guessed: ${url}`],
    };
  }
  return { gate: null, detected: [] };
}
