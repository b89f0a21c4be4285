/**
 * Copies the collector stage's files out of the engine. Exporting local outputs is not
 * available through the Engine API, so the collector is built as an image, a container
 * is created from it (never started) and its filesystem read with `getArchive`.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { pipeline as streamPipeline } from 'node:stream/promises';
import type Dockerode from 'dockerode';
import tar from 'tar-stream';

/**
 * Extracts `/<id>/…` for each id into `destRoot/<id>/…`; returns the ids found.
 * Only regular files and directories are written, and only under their gate's directory.
 */
export async function extractImageDirs(
  docker: Dockerode,
  image: string,
  ids: string[],
  destRoot: string,
): Promise<Set<string>> {
  const wanted = new Set(ids);
  const found = new Set<string>();
  // A scratch image has no command; one is required to create (not start) a container.
  const container = await docker.createContainer({
    Image: image,
    Cmd: ['/nonexistent'],
    Labels: { 'io.gatehouse.role': 'results' },
  });
  try {
    const archive = (await container.getArchive({ path: '/' })) as NodeJS.ReadableStream;
    const extract = tar.extract();
    const done = new Promise<void>((resolve, reject) => {
      extract.on('entry', (header, stream, next) => {
        // Register the end listener before anything async: empty entries end at once.
        const ended = new Promise<void>((res, rej) => {
          stream.on('end', () => res());
          stream.on('error', rej);
        });
        const handle = async (): Promise<void> => {
          // getArchive of `/` names entries `./<id>/…` (or `<id>/…`); normalise and confine.
          const name = posix.normalize(header.name.replace(/^\/+/, '').replace(/^\.\//, ''));
          const [top, ...rest] = name.split('/');
          if (
            !top ||
            !wanted.has(top) ||
            rest.includes('..') ||
            !['file', 'directory'].includes(header.type ?? '')
          ) {
            stream.resume();
            return ended;
          }
          found.add(top);
          const dest = join(destRoot, name);
          if (header.type === 'directory') {
            stream.resume();
            await mkdir(dest, { recursive: true });
            return ended;
          }
          await mkdir(dirname(dest), { recursive: true });
          await streamPipeline(stream, createWriteStream(dest, { mode: 0o644 }));
        };
        handle().then(() => next(), reject);
      });
      extract.on('finish', resolve);
      extract.on('error', reject);
    });
    archive.pipe(extract);
    await done;
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
  return found;
}
