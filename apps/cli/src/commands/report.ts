import {
  chmod,
  lstat,
  readdir,
  readFile,
  realpath,
  stat,
  writeFile,
  mkdir,
} from 'node:fs/promises';
import { createPrivateKey } from 'node:crypto';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { assertKnownGates, GatehouseError, runDirOf, stateDirOf } from '@gatehouse-ci/core';
import type { GateResult, RunReport } from '@gatehouse-ci/core';
import {
  generateSigningKeyPair,
  mergeReports,
  judgeExportedGate,
  auditLedger,
  collectContext,
  collectGitInfo,
  diffReports,
  formatDiff,
  renderHistoryHtml,
  reportDigest,
  render,
  RENDER_FORMATS,
  sealReport,
  serialiseEnvelope,
  serialiseReport,
  verifyReport,
  writeFileAtomic,
  writeReport,
  ENVELOPE_FILE,
  keyIdOf,
  provenanceProblems,
  signStatement,
  PROVENANCE_ENVELOPE_FILE,
  PROVENANCE_FILE,
  VSA_ENVELOPE_FILE,
  type Statement,
  validateGateResultSchema,
  validateReportSchema,
  type HistoryRun,
  type RenderFormat,
} from '@gatehouse-ci/report';
import type { Command, CommandContext, Io } from '../command.js';
import { CLI_VERSION } from '../version.js';
import { ciLogOf, githubFenced } from '../progress/ci-log.js';

/** Where `gatehouse run` keeps the latest report. */
export const DEFAULT_REPORT = '.gatehouse/report/report.json';

const SUBCOMMANDS = ['render', 'merge', 'verify', 'history', 'diff', 'sign', 'keygen'] as const;
type Sub = (typeof SUBCOMMANDS)[number];

/** How a path is shown: relative to cwd when inside it (as the other commands do). */
function shown(io: Io, abs: string): string {
  const rel = relative(io.cwd, abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function usageError(message: string, hint?: string): GatehouseError {
  return new GatehouseError('GH_USAGE', message, hint ? { hint } : {});
}

/** Read a report JSON file; refuses anything that is not shaped like one. */
async function readReportFile(io: Io, file: string): Promise<RunReport> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GatehouseError(
      'GH_REPORT_NOT_FOUND',
      `cannot read ${shown(io, file)} (${code ?? (err as Error).message})`,
      {
        hint: code === 'ENOENT' ? 'run `gatehouse run` first, or pass the report file' : undefined,
      },
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new GatehouseError(
      'GH_REPORT_INVALID',
      `${shown(io, file)} is not valid JSON: ${(err as Error).message}`,
    );
  }
  const r = data as RunReport;
  if (
    !r ||
    typeof r !== 'object' ||
    r.schemaVersion !== 1 ||
    !Array.isArray(r.gates) ||
    typeof r.runId !== 'string'
  ) {
    throw new GatehouseError(
      'GH_REPORT_INVALID',
      `${shown(io, file)} is not a gatehouse report (schemaVersion 1 with gates)`,
    );
  }
  return r;
}

async function readKey(
  io: Io,
  given: string | undefined,
  envName: string,
): Promise<string | undefined> {
  if (given) {
    try {
      return await readFile(resolve(io.cwd, given), 'utf8');
    } catch (err) {
      throw new GatehouseError(
        'GH_REPORT_KEY_INVALID',
        `cannot read key ${given} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
  }
  const fromEnv = io.env[envName];
  return fromEnv && fromEnv.trim() !== '' ? fromEnv : undefined;
}

async function renderCmd({ io, values, positionals }: CommandContext): Promise<number> {
  const format = str(values.format);
  if (!format || !(RENDER_FORMATS as readonly string[]).includes(format)) {
    throw usageError(
      `--format must be one of ${RENDER_FORMATS.join(', ')}`,
      'e.g. `gatehouse report render --format html -o report.html`',
    );
  }
  if (positionals.length > 1) throw usageError('render takes at most one report file');
  const file = resolve(io.cwd, positionals[0] ?? DEFAULT_REPORT);
  const report = await readReportFile(io, file);
  // Rendering does not check the seal (hashing a large report costs more than rendering it): `verify` does.
  const out = str(values.output);
  const text = render(report, format as RenderFormat, {
    fullReport: str(values.link) ?? join(dirname(shown(io, file)), 'report.html'),
    ...(str(values['image-digest']) ? { imageDigest: str(values['image-digest'])! } : {}),
  });
  if (out) {
    await writeFileAtomic(resolve(io.cwd, out), text);
    io.stderr.write(`wrote ${out}\n`);
  } else {
    io.stdout.write(text);
  }
  return 0;
}

/** Every `*.json` file under `dir` (recursively, sorted), as CI artifact downloads nest them. */
async function jsonFilesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  )) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await jsonFilesUnder(p)));
    else if (e.isFile() && e.name.endsWith('.json') && !e.name.endsWith('.dsse.json')) out.push(p);
  }
  return out;
}

async function mergeCmd({ io, values, positionals }: CommandContext): Promise<number> {
  const out = str(values.output);
  if (!out)
    throw usageError(
      'merge needs -o FILE',
      'e.g. `gatehouse report merge gatehouse-results -o gatehouse-report/report.json`',
    );
  const dockerDirs = ((values.docker as string[] | undefined) ?? []).map((d) => resolve(io.cwd, d));
  if (!positionals.length && !dockerDirs.length)
    throw usageError('merge needs result files or directories (or --docker DIR)');
  // Loaded here only: the project loader brings every built-in plugin with it.
  const { openProject } = await import('../project.js');
  const project = await openProject(io, values.config);
  const full = project.pipeline;
  if (!full)
    throw new GatehouseError(
      'GH_CONFIG_INVALID',
      `${shown(io, project.configPath)} is invalid; run \`gatehouse validate\``,
    );
  // CI of a monorepo runs only the affected gates: the others are not expected to report.
  const only =
    typeof values.gates === 'string' ? values.gates.split(/[\s,]+/).filter(Boolean) : null;
  if (only) assertKnownGates(full, only);
  const parts: Array<RunReport | GateResult> = [];
  const sources: string[] = [];
  for (const p of positionals) {
    const abs = resolve(io.cwd, p);
    const st = await stat(abs).catch(() => null);
    if (!st) throw new GatehouseError('GH_REPORT_NOT_FOUND', `${p} does not exist`);
    const files = st.isDirectory() ? await jsonFilesUnder(abs) : [abs];
    for (const f of files) {
      let data: unknown;
      try {
        data = JSON.parse(await readFile(f, 'utf8'));
      } catch (err) {
        throw new GatehouseError(
          'GH_REPORT_INVALID',
          `${shown(io, f)} is not valid JSON: ${(err as Error).message}`,
        );
      }
      const d = data as Partial<RunReport & GateResult>;
      const isReport = !!d && typeof d === 'object' && Array.isArray(d.gates);
      const problems = isReport ? validateReportSchema(d) : validateGateResultSchema(d);
      if (problems.length) {
        throw new GatehouseError(
          'GH_REPORT_INVALID',
          `${shown(io, f)} is not a valid ${isReport ? 'report' : 'gate result'}: ${problems[0]}`,
        );
      }
      if (isReport && d.integrity && reportDigest(d as RunReport) !== d.integrity.digest) {
        throw new GatehouseError(
          'GH_REPORT_TAMPERED',
          `${shown(io, f)} does not match its digest; refusing to merge it`,
        );
      }
      parts.push(data as RunReport | GateResult);
      sources.push(shown(io, f));
    }
  }
  // Gates outside `--gates` that reported anyway (a CI that ran more) are judged all the same,
  // from a result file or from a docker export.
  const exported = await Promise.all(
    dockerDirs.map(async (dir) =>
      (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1)),
    ),
  );
  const reported = new Set([
    ...parts.flatMap((p) => ('gates' in p ? p.gates : [p]).map((g: GateResult) => g.id)),
    ...exported
      .flat()
      .filter((e) => e.isDirectory() || e.isSymbolicLink())
      .map((e) => e.name),
  ]);
  const pipeline = only
    ? { ...full, gates: full.gates.filter((g) => only.includes(g.id) || reported.has(g.id)) }
    : full;
  const fromExport = new Set<number>();
  for (const [i, dir] of dockerDirs.entries()) {
    const byId = new Map(pipeline.gates.map((g) => [g.id, g]));
    for (const e of exported[i]!) {
      // A link in the export is judged too: the reader refuses it, and the report says so.
      if (!e.isDirectory() && !e.isSymbolicLink()) continue;
      const gate = byId.get(e.name);
      if (!gate) {
        io.stderr.write(
          `gatehouse report: warning: ${shown(io, join(dir, e.name))} is not a gate of ${pipeline.name}; ignored\n`,
        );
        continue;
      }
      fromExport.add(parts.length);
      parts.push(
        await judgeExportedGate(join(dir, e.name), gate, 'docker', {
          rootDir: pipeline.rootDir,
          sourceRoots: [pipeline.workdir],
        }),
      );
      sources.push(shown(io, join(dir, e.name)));
    }
  }
  // The merged report is of this checkout's commit, and every result must be of it too: a
  // result left from an earlier build fails the verdict instead of standing for this one.
  const merged = await mergeReports(parts, pipeline, {
    sources,
    gatehouseVersion: CLI_VERSION,
    git: await collectGitInfo(pipeline.rootDir, io.env),
    context: collectContext(io.env),
    exported: fromExport,
    anyCommit: values['any-commit'] === true,
  });
  const key = await readKey(io, str(values.key), 'GATEHOUSE_SIGNING_KEY');
  const outAbs = resolve(io.cwd, out);
  const written = await writeReport(merged, dirname(outAbs), {
    jsonName: basename(outAbs),
    ...(key ? { key } : {}),
  });
  const summary = [
    `${merged.verdict.status === 'passed' ? 'PASSED' : 'FAILED'}: ${merged.gates.length} gates merged from ${sources.length} results → ${shown(io, written.jsonPath)}`,
    ...merged.verdict.reasons.map((r) => `  ${r}`),
  ];
  // A reason can quote a gate's result file: on GitHub Actions it is printed with commands stopped.
  io.stdout.write(
    `${(ciLogOf(io.env) === 'github' ? githubFenced(summary) : summary).join('\n')}\n`,
  );
  return values['fail-on-verdict'] === true && merged.verdict.status !== 'passed' ? 1 : 0;
}

/** Version of the `report verify --json` output; bumped only on incompatible changes. */
export const VERIFY_JSON_VERSION = 1;

async function verifyCmd({ io, values, positionals }: CommandContext): Promise<number> {
  if (positionals.length > 1) throw usageError('verify takes one report file');
  const file = resolve(io.cwd, positionals[0] ?? DEFAULT_REPORT);
  const keyFile = str(values['public-key']);
  const publicKey = keyFile ? await readKey(io, keyFile, '') : undefined;
  const v = await verifyReport(file, {
    ...(publicKey ? { publicKey } : {}),
    schema: values.schema === true,
  });
  if (values.json === true) {
    io.stdout.write(
      `${JSON.stringify(
        {
          version: VERIFY_JSON_VERSION,
          command: 'report verify',
          file: shown(io, file),
          ok: v.ok,
          digest: v.digest,
          signature: v.signature,
          run: v.report
            ? {
                runId: v.report.runId ?? null,
                verdict: v.report.verdict?.status ?? null,
                commit: v.report.git?.commit ?? null,
              }
            : null,
          attestations: v.attestations ?? [],
          problems: v.problems,
        },
        null,
        2,
      )}\n`,
    );
    return v.ok ? 0 : 1;
  }
  if (v.ok) {
    const sig =
      v.signature === 'valid'
        ? 'signature valid'
        : v.signature === 'unverified'
          ? 'signed (pass --public-key to check the signature)'
          : 'not signed';
    io.stdout.write(`OK ${shown(io, file)}: sha256 ${v.digest}, ${sig}\n`);
    if (v.report)
      io.stdout.write(
        `  run ${v.report.runId}, verdict ${v.report.verdict.status}, commit ${v.report.git.commit ?? 'unknown'}\n`,
      );
    for (const a of v.attestations ?? [])
      io.stdout.write(
        `  ${a.file}: ${a.predicateType}, ${a.status === 'valid' ? 'signature valid' : 'signed (pass --public-key to check the signature)'}\n`,
      );
    return 0;
  }
  io.stdout.write(`FAILED ${shown(io, file)}\n${v.problems.map((p) => `  - ${p}\n`).join('')}`);
  return 1;
}

async function historyCmd({ io, values }: CommandContext): Promise<number> {
  const root = resolve(io.cwd, str(values.dir) ?? '.');
  const ledger = await auditLedger(root);
  if (
    !ledger.entries.length &&
    ledger.brokenAt === null &&
    !ledger.headProblems.length &&
    !ledger.unrecorded.length
  ) {
    io.stdout.write(`no runs recorded in ${shown(io, join(root, '.gatehouse', 'ledger.jsonl'))}\n`);
    return 0;
  }
  let bad = false;
  const runs: HistoryRun[] = [];
  for (const e of ledger.entries) {
    const reportFile = join(runDirOf(stateDirOf(root), e.runId), 'report.json');
    let state = 'report missing';
    let report: RunReport | null = null;
    const exists = await stat(reportFile).catch(() => null);
    if (exists) {
      const v = await verifyReport(reportFile);
      if (v.ok && v.digest === e.reportDigest) {
        state = `${v.report?.verdict.status ?? '?'}`;
        report = v.report ?? null;
      } else {
        state = v.ok
          ? 'REPORT DIGEST DIFFERS FROM LEDGER'
          : `REPORT DOES NOT VERIFY (${v.problems[0]})`;
        bad = true;
      }
    }
    io.stdout.write(`${e.at}  ${e.runId}  sha256:${e.reportDigest.slice(0, 16)}  ${state}\n`);
    runs.push({
      runId: e.runId,
      at: e.at,
      reportDigest: e.reportDigest,
      report,
      problem: report ? null : state,
    });
  }
  const status: string[] = [];
  const say = (line: string): void => {
    status.push(line);
    io.stdout.write(`${line}\n`);
  };
  if (ledger.brokenAt !== null) {
    say(`ledger broken at line ${ledger.brokenAt}: ${ledger.problem}`);
    bad = true;
  }
  for (const p of ledger.headProblems) say(`ledger head: ${p}`);
  for (const u of ledger.unrecorded) {
    say(
      u.report
        ? `run folder ${u.runId} is not in the ledger (it holds a report no run recorded)`
        : `run folder ${u.runId} is not in the ledger and has no report (a run still going, or one stopped before its report)`,
    );
  }
  if (ledger.headProblems.length || ledger.unrecorded.some((u) => u.report)) bad = true;
  if (ledger.brokenAt !== null || ledger.headProblems.length)
    say(`${ledger.entries.length} runs listed; the ledger is NOT intact`);
  else say(`${ledger.entries.length} runs, chain intact, head pointer matches`);
  if (values.html === true) {
    const last = Number(str(values.last) ?? '50');
    if (!Number.isInteger(last) || last < 1)
      throw usageError('--last must be a whole number of runs, at least 1');
    const out = resolve(
      io.cwd,
      str(values.output) ?? join(root, '.gatehouse', 'report', 'history.html'),
    );
    const page = renderHistoryHtml(runs.slice(-last), {
      title: runs.findLast((r) => r.report)?.report?.pipeline ?? basename(root),
      ledgerStatus: status,
      intact: !bad,
    });
    await mkdir(dirname(out), { recursive: true });
    await writeFileAtomic(out, page);
    io.stdout.write(`wrote ${shown(io, out)} (${Math.min(last, runs.length)} runs)\n`);
  }
  return bad ? 1 : 0;
}

/** A report named on the command line: a file, or the id of a run in `.gatehouse/runs/`. */
async function reportArg(io: Io, arg: string): Promise<string> {
  const file = resolve(io.cwd, arg);
  if (/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(arg) && !(await stat(file).catch(() => null))) {
    const run = resolve(io.cwd, '.gatehouse', 'runs', arg, 'report.json');
    if (await stat(run).catch(() => null)) return run;
  }
  return file;
}

async function diffCmd({ io, values, positionals }: CommandContext): Promise<number> {
  if (positionals.length !== 2)
    throw usageError(
      'diff takes two reports: diff A B (A the earlier run)',
      'each is a report.json, or a run id from `gatehouse report history`',
    );
  const files = await Promise.all(positionals.map((p) => reportArg(io, p)));
  const [from, to] = await Promise.all(files.map((f) => readReportFile(io, f)));
  for (const f of files) {
    const v = await verifyReport(f);
    // Compared all the same: a diff of an edited report is still what it says, but say so.
    if (!v.ok)
      io.stderr.write(
        `warning: ${shown(io, f)} does not verify (${v.problems[0]}); compared as it is\n`,
      );
  }
  if (from!.pipeline !== to!.pipeline)
    io.stderr.write(
      `warning: the reports are of different pipelines (${JSON.stringify(from!.pipeline)} and ${JSON.stringify(to!.pipeline)})\n`,
    );
  const d = diffReports(from!, to!);
  io.stdout.write(values.json === true ? `${JSON.stringify(d, null, 2)}\n` : formatDiff(d));
  return 0;
}

async function signCmd({ io, values, positionals }: CommandContext): Promise<number> {
  if (positionals.length > 1) throw usageError('sign takes one report file');
  const file = resolve(io.cwd, positionals[0] ?? DEFAULT_REPORT);
  const key = await readKey(io, str(values.key), 'GATEHOUSE_SIGNING_KEY');
  if (!key)
    throw usageError(
      'sign needs --key FILE (or GATEHOUSE_SIGNING_KEY)',
      'create a key pair with `gatehouse report keygen`',
    );
  const report = await readReportFile(io, file);
  if (report.integrity) {
    // Signing an edited report would launder the edit: the content must still match its seal.
    const v = await verifyReport(file);
    const digestOk = v.problems.every(
      (p) =>
        p.startsWith('signature') || p.startsWith('envelope') || p.startsWith('signed statement'),
    );
    if (!digestOk)
      throw new GatehouseError(
        'GH_REPORT_TAMPERED',
        `${shown(io, file)} does not match its digest; refusing to sign it`,
        { hint: v.problems[0] },
      );
  }
  const sealed = sealReport(report, {
    key,
    ...(str(values['image-digest']) ? { imageDigest: str(values['image-digest'])! } : {}),
  });
  await writeFileAtomic(join(dirname(file), ENVELOPE_FILE), serialiseEnvelope(sealed.envelope!));
  await writeFileAtomic(
    join(dirname(file), VSA_ENVELOPE_FILE),
    serialiseEnvelope(sealed.vsaEnvelope!),
  );
  // The provenance the Docker executor wrote for a release image: signed when it names this report.
  const provenanceFile = join(dirname(file), PROVENANCE_FILE);
  const provenanceText = await readFile(provenanceFile, 'utf8').catch(() => null);
  let provenanceNote = '';
  if (provenanceText !== null) {
    let statement: Statement;
    try {
      statement = JSON.parse(provenanceText) as Statement;
    } catch (err) {
      throw new GatehouseError(
        'GH_REPORT_INVALID',
        `${shown(io, provenanceFile)} is not valid JSON: ${(err as Error).message}`,
      );
    }
    const problems = provenanceProblems(sealed.report, sealed.report.integrity!.digest, statement);
    if (problems.length)
      throw new GatehouseError(
        'GH_REPORT_TAMPERED',
        `${shown(io, provenanceFile)} does not belong to this report: ${problems.join('; ')}`,
      );
    const k = createPrivateKey(key);
    await writeFileAtomic(
      join(dirname(file), PROVENANCE_ENVELOPE_FILE),
      serialiseEnvelope(signStatement(statement, k, keyIdOf(k))),
    );
    provenanceNote = `, ${PROVENANCE_ENVELOPE_FILE}`;
  }
  await writeFileAtomic(file, serialiseReport(sealed.report));
  io.stdout.write(
    `signed ${shown(io, file)} with key ${sealed.report.integrity!.signature!.keyid}; envelopes ${shown(io, join(dirname(file), ENVELOPE_FILE))}, ${VSA_ENVELOPE_FILE} (SLSA VSA)${provenanceNote}\n`,
  );
  return 0;
}

/** Names `gatehouse report keygen` writes (the `.dockerignore` of the dockerfile target excludes the key). */
export const SIGNING_KEY_FILE = 'gatehouse-signing.key';
export const SIGNING_PUB_FILE = 'gatehouse-signing.pub';

/** Where keygen writes without `-o`: `$XDG_CONFIG_HOME/gatehouse/keys`, else `~/.config/gatehouse/keys`. */
export function defaultKeyDir(env: Record<string, string | undefined>): string {
  const xdg = env.XDG_CONFIG_HOME;
  const config = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.config');
  return join(config, 'gatehouse', 'keys');
}

/** Files whose presence makes a directory the root of a project (the Docker build context, a git work tree). */
const PROJECT_MARKERS = ['gatehouse.yml', 'gatehouse.yaml', '.git'];

/**
 * The marker (`…/gatehouse.yml`, `…/.git`) of the project `dir` is in, or null: `dir` and its
 * parents are searched, links of the part that exists followed.
 */
async function projectMarker(dir: string): Promise<string | null> {
  let existing = dir;
  const rest: string[] = [];
  for (;;) {
    const real = await realpath(existing).catch(() => null);
    if (real !== null) {
      existing = join(real, ...rest);
      break;
    }
    const parent = dirname(existing);
    if (parent === existing) break;
    rest.unshift(basename(existing));
    existing = parent;
  }
  for (let d = existing; ; d = dirname(d)) {
    for (const m of PROJECT_MARKERS) {
      if (await lstat(join(d, m)).catch(() => null)) return join(d, m);
    }
    if (dirname(d) === d) return null;
  }
}

async function keygenCmd({ io, values }: CommandContext): Promise<number> {
  const given = str(values.output);
  const dir = given ? resolve(io.cwd, given) : defaultKeyDir(io.env);
  // In a project, every Docker gate could read the key (the build context is the project)
  // and a commit could publish it.
  const marker = await projectMarker(dir);
  if (marker !== null && values.force !== true)
    throw new GatehouseError(
      'GH_KEY_IN_PROJECT',
      `refusing to write a private key into ${shown(io, dir)}: it is inside the project of ${marker}`,
      {
        hint: `omit -o to use ${defaultKeyDir(io.env)}, choose a directory outside any project, or pass --force`,
      },
    );
  const priv = join(dir, SIGNING_KEY_FILE);
  const pub = join(dir, SIGNING_PUB_FILE);
  for (const p of [priv, pub]) {
    if (await stat(p).catch(() => null))
      throw new GatehouseError(
        'GH_FILE_EXISTS',
        `${shown(io, p)} already exists; not overwriting a key`,
      );
  }
  const keys = generateSigningKeyPair();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(priv, keys.privateKeyPem, { mode: 0o600, flag: 'wx' });
  await chmod(priv, 0o600);
  await writeFile(pub, keys.publicKeyPem, { mode: 0o644, flag: 'wx' });
  if (marker !== null)
    io.stderr.write(
      `warning: ${shown(io, priv)} is inside the project of ${marker}; the generated .dockerignore excludes ${SIGNING_KEY_FILE}, but add it to .gitignore too and move it out when you can\n`,
    );
  io.stdout.write(
    `wrote ${shown(io, priv)} (keep secret; CI secret GATEHOUSE_SIGNING_KEY) and ${shown(io, pub)} (give to auditors)\nkey id ${keys.keyid}\n`,
  );
  return 0;
}

export const report: Command = {
  name: 'report',
  summary: 'Render, merge, sign and verify gate reports; show the run history',
  usage: 'report <render|merge|verify|history|diff|sign|keygen> [FILE…] [options]',
  details: [
    'Subcommands:',
    `  render [FILE] --format ${RENDER_FORMATS.join('|')} [-o OUT]   (FILE defaults to ${DEFAULT_REPORT})`,
    '  merge FILES|DIRS [--docker DIR] -o report.json [--config FILE] [--gates IDS] [--key F] [--fail-on-verdict] [--any-commit]',
    "                                        every result must be of the checkout's commit (`run --result-file` records it);",
    '                                        one of another commit, or naming none, fails the verdict',
    '  verify [FILE] [--public-key F] [--schema] [--json]   exit 1 when the report does not match its digest or the',
    '                                        signature fails; without --public-key it only proves the file matches',
    '                                        its own digest (an editor can recompute it): sign to prove more',
    '  history [--dir DIR]                   list runs from .gatehouse/ledger.jsonl; check the chain, its head pointer and the run folders',
    '  history --html [-o FILE] [--last N]   also write a page of trends over the last N runs (default 50): verdicts,',
    "                                        each gate's duration and findings, inline SVG and a table",
    '                                        (default FILE .gatehouse/report/history.html)',
    '  diff A B [--json]                     what changed from report A to report B: verdict, config, gates',
    '                                        added/removed, statuses, commands, threshold margins, findings new',
    '                                        and fixed (by fingerprint), tool versions; A and B are report.json',
    '                                        files or run ids (.gatehouse/runs/<id>/report.json); exit 0',
    '  sign [FILE] --key F                   add an ed25519 DSSE signature (report.dsse.json), the SLSA',
    '                                        verification summary (report.vsa.dsse.json) and, when the Docker',
    '                                        executor built a release image, its signed SLSA provenance',
    '                                        (release.provenance.dsse.json); verify checks each one present',
    '  keygen [-o DIR] [--force]             write gatehouse-signing.key (0600) / gatehouse-signing.pub,',
    '                                        by default into $XDG_CONFIG_HOME/gatehouse/keys (~/.config/gatehouse/keys);',
    '                                        a DIR inside a project or git work tree is refused without --force',
    '',
    'The signing key may also come from the GATEHOUSE_SIGNING_KEY environment variable (PEM text).',
    '',
    'What history proves: each ledger line was appended in that order and names that report digest;',
    'with the head pointer (.gatehouse/ledger.head, authenticated by your state key kept outside the',
    'project), that no line was removed from the end, added or replaced since the last run. It exits 1',
    'for a broken chain, a head that is missing or does not match, a report that differs from its line,',
    'or a run folder holding a report the ledger does not name. It cannot detect: edits by a process',
    'that can read your state key (a local gate runs as you); the ledger and its head both put back',
    'to an earlier copy; deleted run folders (shown as "report missing", exit 0).',
    '',
    'Examples:',
    '  gatehouse report render --format md -o "$GITHUB_STEP_SUMMARY"',
    '  gatehouse report merge gatehouse-results -o gatehouse-report/report.json',
    '  gatehouse report verify gatehouse-report/report.json --public-key gatehouse-signing.pub',
    '  gatehouse report diff main-report.json .gatehouse/report/report.json',
  ].join('\n'),
  allowPositionals: true,
  options: {
    format: {
      type: 'string',
      short: 'f',
      description: `render: output format (${RENDER_FORMATS.join(', ')})`,
      valueName: 'FORMAT',
    },
    output: {
      type: 'string',
      short: 'o',
      description:
        'render: output file (default stdout); merge: report file to write; history --html: page to write; keygen: directory (default ~/.config/gatehouse/keys)',
      valueName: 'PATH',
    },
    config: {
      type: 'string',
      short: 'c',
      description:
        'merge: config file (default: the nearest gatehouse.yml, from the current directory up)',
      valueName: 'FILE',
    },
    gates: {
      type: 'string',
      description:
        'merge: the gates that must have a result (ids separated by spaces or commas); other gates are in the report only when they have one',
      valueName: 'IDS',
    },
    docker: {
      type: 'string',
      multiple: true,
      description: 'merge: a directory exported from the gatehouse-results Docker stage',
      valueName: 'DIR',
    },
    key: {
      type: 'string',
      description: 'merge/sign: ed25519 private key (PEM file)',
      valueName: 'FILE',
    },
    'public-key': {
      type: 'string',
      description: 'verify: ed25519 public key (PEM file) the report must be signed with',
      valueName: 'FILE',
    },
    'image-digest': {
      type: 'string',
      description: 'render intoto/sign: release image digest to name as a subject',
      valueName: 'DIGEST',
    },
    link: {
      type: 'string',
      description:
        'render md: link or path to the full report, shown when the summary is shortened',
      valueName: 'URL',
    },
    dir: {
      type: 'string',
      description: 'history: project directory (default .)',
      valueName: 'DIR',
    },
    json: {
      type: 'boolean',
      description:
        'diff: print the differences as JSON; verify: print the result as one JSON object',
    },
    html: {
      type: 'boolean',
      description: 'history: also write an HTML page of trends (verdicts, durations, findings)',
    },
    last: {
      type: 'string',
      description: 'history --html: how many of the latest runs to chart (default 50)',
      valueName: 'N',
    },
    'fail-on-verdict': {
      type: 'boolean',
      description: 'merge: exit 1 when the merged verdict is failed',
    },
    'any-commit': {
      type: 'boolean',
      description:
        "merge: accept results of other commits than the checkout's (turbo's cache replays result files); each names its commit",
    },
    schema: {
      type: 'boolean',
      description: 'verify: also check the report against its JSON Schema',
    },
    force: {
      type: 'boolean',
      description: 'keygen: write the key even inside a project or git work tree',
    },
  },
  async run(ctx) {
    const [sub, ...rest] = ctx.positionals;
    if (!sub || !(SUBCOMMANDS as readonly string[]).includes(sub)) {
      throw usageError(
        sub ? `unknown report subcommand \`${sub}\`` : 'missing subcommand',
        `use one of ${SUBCOMMANDS.join(', ')}`,
      );
    }
    const c = { ...ctx, positionals: rest };
    const handlers: Record<Sub, (c: CommandContext) => Promise<number>> = {
      render: renderCmd,
      merge: mergeCmd,
      verify: verifyCmd,
      history: historyCmd,
      diff: diffCmd,
      sign: signCmd,
      keygen: keygenCmd,
    };
    return handlers[sub as Sub](c);
  },
};
