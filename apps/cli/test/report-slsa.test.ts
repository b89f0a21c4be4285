/** `report sign` writes the SLSA VSA (and signs a release provenance); `report verify` checks them. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PROVENANCE_FILE,
  serialiseStatement,
  toReleaseProvenance,
  type Statement,
} from '@gatehouse-ci/report';
import type { RunReport } from '@gatehouse-ci/core';
import { runCli, type CliResult } from './helpers.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
const cli = (argv: string[], cwd: string): Promise<CliResult> =>
  runCli(argv, cwd, {
    PATH: process.env.PATH,
    HOME: cwd,
    XDG_STATE_HOME: join(cwd, '.state'),
    XDG_CONFIG_HOME: join(cwd, '.config'),
  });

describe('SLSA attestations from the command line', () => {
  it('sign writes the VSA; verify lists it; a provenance of another run is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-slsa-'));
    dirs.push(dir);
    await writeFile(
      join(dir, 'gatehouse.yml'),
      'version: 1\nname: x\ngates:\n  a:\n    run: "true"\n',
    );
    expect((await cli(['run'], dir)).code).toBe(0);
    const keys = join(dir, '..', `${dir.split('/').pop()}-keys`);
    dirs.push(keys);
    expect((await cli(['report', 'keygen', '-o', keys], dir)).code).toBe(0);
    const key = join(keys, 'gatehouse-signing.key');
    const pub = join(keys, 'gatehouse-signing.pub');

    const signed = await cli(['report', 'sign', '--key', key], dir);
    expect(signed.err).toBe('');
    expect(signed.out).toContain('report.vsa.dsse.json (SLSA VSA)');
    const v = await cli(['report', 'verify', '--public-key', pub], dir);
    expect(v.code).toBe(0);
    expect(v.out).toContain(
      '  report.vsa.dsse.json: https://slsa.dev/verification_summary/v1, signature valid',
    );

    // A provenance that names another run is not signed.
    const reportFile = join(dir, '.gatehouse', 'report', 'report.json');
    const report = JSON.parse(await readFile(reportFile, 'utf8')) as RunReport;
    const build = {
      image: { name: 'shop', digest: `sha256:${'a'.repeat(64)}` },
      baseImage: { ref: 'node:20', digest: null },
      release: { from: 'a', copy: ['dist/'], cmd: ['node'], workdir: '/app' },
      startedOn: report.finishedAt,
      finishedOn: report.finishedAt,
      reportDigest: report.integrity!.digest,
    };
    const other = toReleaseProvenance({ ...report, runId: 'ANOTHER' }, build) as Statement;
    await writeFile(join(dir, '.gatehouse', 'report', PROVENANCE_FILE), serialiseStatement(other));
    const refused = await cli(['report', 'sign', '--key', key], dir);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain(
      `does not belong to this report: it is not of run ${report.runId}`,
    );

    // One of this run is signed and verified.
    await writeFile(
      join(dir, '.gatehouse', 'report', PROVENANCE_FILE),
      serialiseStatement(toReleaseProvenance(report, build)),
    );
    const ok = await cli(['report', 'sign', '--key', key], dir);
    expect(ok.out).toContain('release.provenance.dsse.json');
    const v2 = await cli(['report', 'verify', '--public-key', pub], dir);
    expect(v2.out).toContain(
      '  release.provenance.dsse.json: https://slsa.dev/provenance/v1, signature valid',
    );
    expect(v2.code).toBe(0);
  }, 60_000);
});
