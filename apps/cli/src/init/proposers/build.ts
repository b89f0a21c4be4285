/** The `build` gate: the monorepo's build task or the project's build script, with guessed outputs. */
import type { ProjectFacts } from '../detect.js';
import {
  monorepoCommand,
  monorepoComment,
  quoteScript,
  safeRelative,
  type InitContext,
  type Proposal,
} from './context.js';

/** A build proposal; `outDir` is the directory a single-package build writes (null otherwise). */
export interface BuildProposal extends Proposal {
  outDir: string | null;
}

/** The directory a single-package build most likely writes, and why. */
function buildOutDir(f: ProjectFacts): { dir: string; why: string } {
  const build = f.scripts.build ?? '';
  if (f.deps.has('next')) return { dir: '.next', why: 'Next.js builds into .next/' };
  if (f.deps.has('react-scripts')) return { dir: 'build', why: 'react-scripts builds into build/' };
  const outDir = f.tsOutDir === null ? null : safeRelative(f.tsOutDir);
  if (/\btsc\b/.test(build) && outDir)
    return { dir: outDir, why: `tsconfig.json compilerOptions.outDir is ${outDir}` };
  if (f.present.has('build') && !f.present.has('dist'))
    return { dir: 'build', why: 'a build/ directory exists' };
  return { dir: 'dist', why: 'the usual output directory; adjust if your build writes elsewhere' };
}

export function proposeBuild({ f, pm, mono, monoHas }: InitContext): BuildProposal {
  if (monoHas('build')) {
    const perPackage = (mono!.outputs.get('build') ?? [])
      .map((o) => safeRelative(o))
      .filter((o): o is string => o !== null);
    const globs = perPackage.length ? perPackage : ['dist/**'];
    const outputs: string[] = [];
    for (const ws of f.workspaces.map(safeRelative).filter((w): w is string => w !== null)) {
      for (const g of globs) outputs.push(`${ws}/${g}`);
    }
    if (!outputs.length) outputs.push(...globs);
    return {
      gate: {
        id: 'build',
        gate: { kind: 'build', run: monorepoCommand(mono!, pm.exec, 'build'), outputs },
        comment: [
          `build — ${monorepoComment(mono!, 'build')}`,
          `outputs are a guess (${perPackage.length ? `${mono!.file} build outputs` : 'dist/'} in each workspace package); gates that need build see them.`,
        ],
      },
      detected: [`build: ${mono!.tool} task \`build\`, outputs guessed: ${outputs.join(', ')}`],
      outDir: null,
    };
  }
  if (f.scripts.build) {
    const out = buildOutDir(f);
    return {
      gate: {
        id: 'build',
        gate: { kind: 'build', run: pm.runScript('build'), outputs: [`${out.dir}/**`] },
        comment: [
          `build — your \`build\` script (${quoteScript(f.scripts.build)}).`,
          `outputs: ${out.dir}/** (${out.why}); gates that need build, and the release, see them.`,
        ],
      },
      detected: [`build: the build script, outputs guessed: ${out.dir}/** (${out.why})`],
      outDir: out.dir,
    };
  }
  return { gate: null, detected: ['build: no build script'], outDir: null };
}
