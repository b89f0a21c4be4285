import { GatehouseError } from '@gatehouse-ci/core';
import Dockerode from 'dockerode';

/** Where the engine is expected: `DOCKER_HOST`, or the default socket. */
export function engineAddress(env: Record<string, string | undefined>): string {
  return env.DOCKER_HOST && env.DOCKER_HOST.length > 0
    ? env.DOCKER_HOST
    : 'unix:///var/run/docker.sock';
}

/** A client for the engine at `DOCKER_HOST` (unix:// or tcp://) or the default socket. */
export function connect(env: Record<string, string | undefined>): Dockerode {
  const address = engineAddress(env);
  if (address.startsWith('unix://'))
    return new Dockerode({ socketPath: address.slice('unix://'.length) });
  if (
    address.startsWith('tcp://') ||
    address.startsWith('http://') ||
    address.startsWith('https://')
  ) {
    const url = new URL(address.replace(/^tcp:/, env.DOCKER_TLS_VERIFY ? 'https:' : 'http:'));
    const protocol = url.protocol === 'https:' ? 'https' : 'http';
    return new Dockerode({
      host: url.hostname,
      port: Number(url.port || (protocol === 'https' ? 2376 : 2375)),
      protocol,
    });
  }
  // ssh:// and friends: docker-modem reads DOCKER_HOST (and the TLS variables) itself.
  return new Dockerode();
}

/** Fails with `GH_DOCKER_UNREACHABLE` (one line, where it looked, what to do) unless the engine answers. */
export async function ensureReachable(
  docker: Dockerode,
  env: Record<string, string | undefined>,
): Promise<void> {
  try {
    await docker.ping();
  } catch (err) {
    const where = env.DOCKER_HOST ? `DOCKER_HOST=${env.DOCKER_HOST}` : '/var/run/docker.sock';
    const why =
      err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : String(err);
    throw new GatehouseError(
      'GH_DOCKER_UNREACHABLE',
      `cannot reach the Docker engine at ${where} (${why}); start Docker or use --executor local`,
      {
        hint: 'set DOCKER_HOST to point at another engine, or run the gates as local processes with --executor local',
        cause: err,
      },
    );
  }
}
