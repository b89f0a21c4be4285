/**
 * The Docker executor: compiles the pipeline to the multi-stage Dockerfile, builds its
 * collector stage through the Engine API with BuildKit (independent gate stages run in
 * parallel), copies every gate's result out of the built image and judges it with the
 * same code as the local executor.
 */
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import {
  newRunId,
  runDirOf,
  selectGates,
  type ExecuteOptions,
  type GateResult,
  type ResolvedGate,
  type ResolvedPipeline,
  type RunEvent,
  type RunReport,
} from '@gatehouse-ci/core';
import {
  appendLedger,
  buildReport,
  cachedResult,
  evaluateGate,
  judgeExportedGate,
  serialiseStatement,
  toReleaseProvenance,
  writeFileAtomic,
  writeReport,
  PROVENANCE_FILE,
  REPORT_PACKAGE_VERSION,
  type GateOutcome,
} from '@gatehouse-ci/report';
import type Dockerode from 'dockerode';
import { collectSecrets, conditionBuildArgs, runBuild } from './build.js';
import { EXECUTOR, LABEL } from './constants.js';
import { compileForBuild, gateOfStage, SETUP_STAGE } from './compile.js';
import { connect, ensureReachable } from './engine.js';
import { extractImageDirs } from './extract.js';
import {
  cacheRepository,
  CACHE_INDEX,
  exportCache,
  formatBytes,
  importCache,
  untag,
} from './cache-transfer.js';

import { redactor } from './redact.js';

async function imageInfo(
  docker: Dockerode,
  ref: string,
): Promise<{ ref: string; digest: string | null }> {
  try {
    const info = await docker.getImage(ref).inspect();
    const repoDigest = info.RepoDigests?.[0];
    return { ref, digest: repoDigest ? (repoDigest.split('@')[1] ?? null) : (info.Id ?? null) };
  } catch {
    return { ref, digest: null };
  }
}

function failedOutcome(
  gate: ResolvedGate,
  outDir: string,
  at: string,
  how: { interrupted?: boolean; error?: string },
): GateOutcome {
  return {
    id: gate.id,
    exitCode: null,
    signal: null,
    timedOut: false,
    interrupted: how.interrupted ?? false,
    spawnError: how.error ?? null,
    startedAt: at,
    finishedAt: at,
    durationMs: 0,
    outDir,
    log: {
      path: null,
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      bytes: 0,
      truncated: false,
    },
    executor: EXECUTOR,
    image: null,
  };
}

/**
 * Runs the pipeline's gates in BuildKit and returns the unified report (also written to the run
 * directory). With `releaseTag`, when the verdict passed and the pipeline has a `release`, it
 * also builds the release stage as an image with that tag and writes its SLSA provenance
 * (`release.provenance.json`) next to the report.
 */
export async function executeDocker(
  pipeline: ResolvedPipeline,
  opts: ExecuteOptions,
): Promise<RunReport> {
  const emit = (event: RunEvent): void => opts.onEvent(event);
  const now = (): string => new Date().toISOString();
  // A stage cannot run without its parent stages: `only` gates are built with their needs.
  const selected = selectGates(pipeline, [...opts.gates, ...(opts.only ?? [])]);
  // Config problems (a value no Dockerfile can carry, a CA file outside the project) come
  // before any question to the engine.
  const compiled = await compileForBuild(selected, opts.env);
  const docker = connect(opts.env);
  await ensureReachable(docker, opts.env);

  // Image tags are lower case; the report's ids are upper-case Crockford base32.
  const runId = opts.runId ?? newRunId();
  const startedAt = now();
  const runDir = runDirOf(opts.stateDir, runId);
  const outRoot = join(runDir, 'out');
  await mkdir(outRoot, { recursive: true });
  emit({ type: 'run-start', at: startedAt, gates: selected.gates.map((g) => g.id) });

  const secrets = await collectSecrets(selected, opts.env, compiled.fileSecrets);
  // The CA bundle is public material; redacting its lines would only garble logs.
  const redact = redactor(
    [...secrets].filter(([id]) => !compiled.fileSecrets.has(id)).map(([, v]) => v),
  );
  // An imported cache only lends BuildKit cache metadata: its tags are removed after the run.
  const imported = opts.cacheFrom ? await importCache(docker, opts.cacheFrom) : null;
  if (imported && opts.cacheFrom) {
    const i = imported.ok ? imported.index : null;
    emit({
      type: 'message',
      at: now(),
      level: imported.ok ? 'info' : 'warn',
      text: imported.ok
        ? `build cache imported from ${opts.cacheFrom}: ${i!.images.map((x) => x.stage).join(', ')} (${formatBytes(imported.bytes)} loaded in ${(imported.ms / 1000).toFixed(1)} s, gatehouse ${i!.gatehouseVersion}, ${i!.configSha256 === pipeline.configSha256 ? 'same config' : 'another config'})`
        : `build cache in ${opts.cacheFrom} not used (${imported.reason}); building without it`,
    });
  }
  const cacheFrom = imported?.ok ? imported.tags : [];
  try {
    return await buildAndJudge();
  } finally {
    await untag(docker, cacheFrom);
  }

  async function buildAndJudge(): Promise<RunReport> {
    const resultsTag = `gatehouse-results:${runId.toLowerCase()}`;
    const byStage = new Map(selected.gates.map((g) => [gateOfStage(g.id), g.id]));
    const started = new Set<string>();

    const handlers = {
      stageStart(stage: string, at: Date) {
        if (stage === SETUP_STAGE) emit({ type: 'setup-start', at: at.toISOString() });
        const id = byStage.get(stage);
        if (id && !started.has(id)) {
          started.add(id);
          emit({ type: 'gate-start', at: at.toISOString(), id });
        }
      },
      stageLog(stage: string, stream: 'stdout' | 'stderr', text: string) {
        const id = byStage.get(stage);
        if (id) emit({ type: 'gate-output', at: now(), id, stream, text: redact(text) });
      },
      stepError(stage: string | null, _name: string, error: string) {
        emit({
          type: 'message',
          at: now(),
          level: 'error',
          text: redact(`${stage ?? 'build'}: ${error}`),
        });
      },
    };

    const build = await runBuild(docker, {
      rootDir: pipeline.rootDir,
      compiled,
      target: compiled.resultsStage,
      tag: resultsTag,
      noCache: opts.noCache,
      secrets,
      buildArgs: conditionBuildArgs(selected, opts.env),
      labels: { [LABEL]: runId },
      cacheFrom,
      signal: opts.signal,
      handlers,
    });
    const progress = build.progress;
    let infraError = build.error;

    const interrupted = build.aborted || opts.signal.aborted;
    // Setup also copies the project after its command: any step that ran means setup ran.
    const setupRan = progress.stageRuns(SETUP_STAGE, 'all');
    const setupSpan = selected.setup ? progress.stageSpan(SETUP_STAGE) : null;
    if (selected.setup) {
      emit({
        type: 'setup-end',
        at: now(),
        ok: !infraError && !interrupted,
        durationMs: progress.stageDurationMs(SETUP_STAGE),
        cached: setupRan.state === 'cached',
      });
    }

    let exported = new Set<string>();
    if (!infraError && !interrupted) {
      try {
        exported = await extractImageDirs(
          docker,
          resultsTag,
          selected.gates.map((g) => g.id),
          outRoot,
        );
      } catch (err) {
        infraError = redact(
          `could not read the results image: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    await docker
      .getImage(resultsTag)
      .remove({ force: true })
      .catch(() => undefined);

    const images = new Map<string, { ref: string; digest: string | null }>();
    for (const ref of new Set(selected.gates.map((g) => g.image)))
      images.set(ref, await imageInfo(docker, ref));

    const results: GateResult[] = [];
    await mkdir(join(runDir, 'logs'), { recursive: true });
    for (const gate of selected.gates) {
      const dir = join(outRoot, gate.id);
      let result: GateResult;
      if (interrupted) {
        result = await evaluateGate(gate, failedOutcome(gate, dir, now(), { interrupted: true }), {
          rootDir: pipeline.rootDir,
        });
      } else if (infraError || !exported.has(gate.id)) {
        const reason = `docker build failed: ${infraError ?? `the build did not export ${gate.id}'s result`}`;
        const judged = await evaluateGate(
          gate,
          failedOutcome(gate, dir, now(), { error: reason }),
          {
            rootDir: pipeline.rootDir,
          },
        );
        // The gate never got to run: the build's reason as is, not "could not start: …".
        result = { ...judged, status: 'error', reason };
      } else {
        result = await judgeExportedGate(dir, gate, EXECUTOR, {
          rootDir: pipeline.rootDir,
          sourceRoots: [pipeline.workdir],
          redact,
          logCopy: join(runDir, 'logs', `${gate.id}.log`),
          image: images.get(gate.image) ?? null,
        });
        // The run keeps the redacted copy only: the exported log may still hold a secret.
        await rm(join(dir, 'log.txt'), { force: true });
        const run = progress.stageRuns(gateOfStage(gate.id));
        if (run.state === 'cached') result = cachedResult(result, run.digest ?? '', null);
      }
      results.push(result);
      emit({ type: 'gate-end', at: now(), id: gate.id, result });
    }

    const report = await buildReport({
      pipeline,
      gates: results,
      executor: EXECUTOR,
      startedAt,
      finishedAt: now(),
      runId,
      rootDir: pipeline.rootDir,
      env: opts.env,
      ...(opts.gatehouseVersion ? { gatehouseVersion: opts.gatehouseVersion } : {}),
      ...(setupSpan
        ? {
            setup: {
              status:
                setupRan.state === 'cached'
                  ? 'cached'
                  : progress.failure()?.stage === SETUP_STAGE
                    ? 'failed'
                    : 'passed',
              startedAt: setupSpan.started.toISOString(),
              finishedAt: setupSpan.completed.toISOString(),
              durationMs: setupSpan.completed.getTime() - setupSpan.started.getTime(),
            } as const,
          }
        : {}),
    });
    const written = await writeReport(report, runDir);
    const latest = join(opts.stateDir, 'report');
    await mkdir(latest, { recursive: true });
    for (const path of Object.values(written)) {
      if (typeof path !== 'string') continue;
      const dest = join(latest, relative(runDir, path));
      await copyFile(path, `${dest}.${process.pid}.tmp`);
      await rename(`${dest}.${process.pid}.tmp`, dest);
    }
    // The project's one ledger, chained like a local run's line (only for the project's own state dir).
    if (
      resolve(opts.stateDir) === resolve(pipeline.rootDir, '.gatehouse') &&
      written.report.integrity
    )
      await appendLedger(pipeline.rootDir, {
        runId,
        reportDigest: written.report.integrity.digest,
      });
    if (infraError)
      emit({
        type: 'message',
        at: now(),
        level: 'error',
        text: `docker build failed: ${infraError}`,
      });
    if (opts.cacheTo) {
      const dir = opts.cacheTo;
      const exported = interrupted
        ? ({ ok: false, reason: 'the run was interrupted' } as const)
        : infraError
          ? ({ ok: false, reason: 'the build failed' } as const)
          : await exportCache(docker, {
              build: {
                rootDir: pipeline.rootDir,
                compiled,
                secrets,
                buildArgs: conditionBuildArgs(selected, opts.env),
                labels: { [LABEL]: runId },
                cacheFrom,
                signal: opts.signal,
              },
              stages: [
                ...(selected.setup ? [SETUP_STAGE] : []),
                ...selected.gates.map((g) => gateOfStage(g.id)),
              ],
              repository: cacheRepository(pipeline),
              dir,
              secrets: [...secrets]
                .filter(([id]) => !compiled.fileSecrets.has(id))
                .map(([name, value]) => ({ name, value })),
              gatehouseVersion: opts.gatehouseVersion ?? REPORT_PACKAGE_VERSION,
              pipeline,
            });
      emit({
        type: 'message',
        at: now(),
        level: exported.ok ? 'info' : 'warn',
        text: exported.ok
          ? `build cache exported to ${exported.tar} (${formatBytes(exported.bytes)} in ${(exported.ms / 1000).toFixed(1)} s; ${exported.stages.join(', ')}; index ${CACHE_INDEX})`
          : `build cache not exported to ${dir}: ${redact(exported.reason)}`,
      });
    }
    const releaseTag = opts.releaseTag;
    if (
      releaseTag &&
      pipeline.release &&
      written.report.verdict.status === 'passed' &&
      !infraError
    ) {
      await buildRelease(pipeline, written.report, releaseTag, {
        docker,
        compiled,
        secrets,
        buildArgs: conditionBuildArgs(selected, opts.env),
        runId,
        signal: opts.signal,
        dirs: [runDir, latest],
        emit,
        redact,
      });
    }
    emit({ type: 'run-end', at: now(), report: written.report });
    return written.report;
  }
}

/**
 * Build the release stage (the Dockerfile's default target, which itself refuses to build on a
 * failed verdict) as `tag`, then write the SLSA provenance of that image into `dirs`. A failed
 * build is reported as an error message: the run's report stands as written.
 */
async function buildRelease(
  pipeline: ResolvedPipeline,
  report: RunReport & { integrity?: { digest: string } },
  tag: string,
  ctx: {
    docker: Dockerode;
    compiled: Awaited<ReturnType<typeof compileForBuild>>;
    secrets: Map<string, string>;
    buildArgs: Record<string, string>;
    runId: string;
    signal: AbortSignal;
    dirs: string[];
    emit: (e: RunEvent) => void;
    redact: (t: string) => string;
  },
): Promise<void> {
  const release = pipeline.release!;
  const startedOn = new Date().toISOString();
  const built = await runBuild(ctx.docker, {
    rootDir: pipeline.rootDir,
    compiled: ctx.compiled,
    tag,
    noCache: false,
    secrets: ctx.secrets,
    buildArgs: ctx.buildArgs,
    labels: { [LABEL]: ctx.runId },
    signal: ctx.signal,
  });
  const finishedOn = new Date().toISOString();
  const image = await imageInfo(ctx.docker, tag);
  if (built.error || built.aborted || !image.digest || !report.integrity) {
    ctx.emit({
      type: 'message',
      at: finishedOn,
      level: 'error',
      text: ctx.redact(
        `release image ${tag} not built: ${built.error ?? (built.aborted ? 'interrupted' : 'no image digest')}`,
      ),
    });
    return;
  }
  const statement = toReleaseProvenance(report, {
    image: { name: tag.replace(/:[^/:]*$/, ''), digest: image.digest },
    baseImage: await imageInfo(ctx.docker, release.image),
    release: { from: release.from, copy: release.copy, cmd: release.cmd, workdir: release.workdir },
    startedOn,
    finishedOn,
    reportDigest: report.integrity.digest,
  });
  for (const dir of ctx.dirs)
    await writeFileAtomic(join(dir, PROVENANCE_FILE), serialiseStatement(statement));
  ctx.emit({
    type: 'message',
    at: finishedOn,
    level: 'info',
    text: `release image ${tag} built (${image.digest}); provenance in ${PROVENANCE_FILE}`,
  });
}
