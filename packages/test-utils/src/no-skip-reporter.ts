/**
 * A Vitest reporter for CI: under `CI=true` a run with any skipped or todo test fails,
 * listing them. A green CI run must mean every test ran.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class NoSkipReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    if (process.env.CI !== 'true') return;
    const skipped: string[] = [];
    for (const m of modules) {
      if (m.state() === 'skipped') skipped.push(m.moduleId);
      for (const t of m.children.allTests()) {
        if (t.result().state === 'skipped') skipped.push(`${m.moduleId} > ${t.fullName}`);
      }
    }
    if (skipped.length === 0) return;
    process.stderr.write(
      `\nCI=true: ${skipped.length} test(s) skipped, which CI does not accept:\n${skipped.map((s) => `  ${s}`).join('\n')}\n`,
    );
    process.exitCode = 1;
  }
}
