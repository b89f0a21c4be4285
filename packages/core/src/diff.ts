/**
 * A small unified diff (`diff -u` format), enough to show drift in generated files.
 */

const NO_NEWLINE = '\u0000no-newline';

function toLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  else lines[lines.length - 1] += NO_NEWLINE;
  return lines;
}

type Op = { kind: ' ' | '-' | '+'; line: string };

// Beyond this many cells the middle is shown as one replaced block: still a correct diff.
const MAX_CELLS = 25_000_000;

function edits(a: string[], b: string[]): Op[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (
    suf < a.length - pre &&
    suf < b.length - pre &&
    a[a.length - 1 - suf] === b[b.length - 1 - suf]
  )
    suf++;
  const am = a.slice(pre, a.length - suf);
  const bm = b.slice(pre, b.length - suf);
  const ops: Op[] = a.slice(0, pre).map((line) => ({ kind: ' ', line }));
  const n = am.length;
  const m = bm.length;
  if (n * m > MAX_CELLS) {
    ops.push(
      ...am.map((line) => ({ kind: '-' as const, line })),
      ...bm.map((line) => ({ kind: '+' as const, line })),
    );
  } else {
    // lcs[i][j] = LCS length of am[i..] and bm[j..], row-major in one array.
    const w = m + 1;
    const lcs = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * w + j] =
          am[i] === bm[j]
            ? lcs[(i + 1) * w + j + 1]! + 1
            : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && am[i] === bm[j]) {
        ops.push({ kind: ' ', line: am[i]! });
        i++;
        j++;
      } else if (i < n && (j >= m || lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!)) {
        // Deletions first, as diff(1) prints them.
        ops.push({ kind: '-', line: am[i++]! });
      } else {
        ops.push({ kind: '+', line: bm[j++]! });
      }
    }
  }
  ops.push(...a.slice(a.length - suf).map((line) => ({ kind: ' ' as const, line })));
  return ops;
}

/** Options of {@link unifiedDiff}. */
export interface DiffOptions {
  /** @default 'a' */
  fromFile?: string;
  /** @default 'b' */
  toFile?: string;
  /** Unchanged lines around each change. @default 3 */
  context?: number;
}

/** A unified diff from `a` to `b`; '' when they are equal. */
export function unifiedDiff(a: string, b: string, options: DiffOptions = {}): string {
  if (a === b) return '';
  const ctx = options.context ?? 3;
  const ops = edits(toLines(a), toLines(b));
  const out = [`--- ${options.fromFile ?? 'a'}`, `+++ ${options.toFile ?? 'b'}`];
  const changed = ops.map((o, i) => (o.kind !== ' ' ? i : -1)).filter((i) => i >= 0);
  let k = 0;
  while (k < changed.length) {
    let start = Math.max(0, changed[k]! - ctx);
    let end = Math.min(ops.length, changed[k]! + ctx + 1);
    while (k + 1 < changed.length && changed[k + 1]! - ctx <= end) {
      k++;
      end = Math.min(ops.length, changed[k]! + ctx + 1);
    }
    k++;
    // Line numbers of the hunk start in each file.
    let aLine = 1;
    let bLine = 1;
    for (let i = 0; i < start; i++) {
      if (ops[i]!.kind !== '+') aLine++;
      if (ops[i]!.kind !== '-') bLine++;
    }
    const hunk = ops.slice(start, end);
    const aLen = hunk.filter((o) => o.kind !== '+').length;
    const bLen = hunk.filter((o) => o.kind !== '-').length;
    out.push(
      `@@ -${aLen === 0 ? aLine - 1 : aLine},${aLen} +${bLen === 0 ? bLine - 1 : bLine},${bLen} @@`,
    );
    for (const o of hunk) {
      if (o.line.endsWith(NO_NEWLINE)) {
        out.push(`${o.kind}${o.line.slice(0, -NO_NEWLINE.length)}`, '\\ No newline at end of file');
      } else out.push(`${o.kind}${o.line}`);
    }
    start = end;
  }
  return `${out.join('\n')}\n`;
}
