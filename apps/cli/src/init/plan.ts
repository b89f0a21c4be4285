/**
 * Turns project facts into the starter config: the `UserConfig` init intends to write,
 * the comment above each part, and the lines printed to explain what was detected. Each
 * part has its proposer in `proposers/`; this module puts their proposals together.
 */
import type { UserConfig, UserGate } from '@gatehouse-ci/core';
import type { ProjectFacts } from './detect.js';
import { applyWorkspaceProposal, proposeWorkspaceGates } from './monorepo.js';
import { proposeA11y } from './proposers/a11y.js';
import { proposeBuild } from './proposers/build.js';
import { initContext, monorepoCommand, safeRelative, type Proposal } from './proposers/context.js';
import { proposeLint } from './proposers/lint.js';
import { proposeRelease } from './proposers/release.js';
import { proposeSetup } from './proposers/setup.js';
import { proposeSonar } from './proposers/sonar.js';
import { proposeTargets } from './proposers/targets.js';
import { proposeUnit } from './proposers/unit.js';

/** What `gatehouse init` will write, before it becomes text. */
export interface InitPlan {
  /** The config the written file must parse back to, key order included. */
  config: UserConfig;
  /** Comment lines (without `# `) above each part of the file. */
  comments: {
    image: string[];
    setup: string[];
    gates: Record<string, string[]>;
    release: string[];
    targets: string[];
  };
  /** One line per finding, printed by the command ("lint: ESLint (eslint.config.js)"). */
  detected: string[];
}

/** Longest pipeline name the config accepts. */
const NAME_MAX = 100;

/** The package name, cut to what the config accepts without splitting a character. */
function pipelineName(name: string): string {
  let out = '';
  for (const ch of name) {
    if (out.length + ch.length > NAME_MAX) break;
    out += ch;
  }
  return out;
}

/** Builds the plan from the facts. Pure: same facts, same plan. */
export function planInit(f: ProjectFacts): InitPlan {
  const ctx = initContext(f);
  const { pm, mono } = ctx;
  const detected: string[] = [];
  const gates: Record<string, UserGate> = {};
  const gateComments: Record<string, string[]> = {};
  const take = (p: Proposal) => {
    detected.push(...p.detected);
    if (p.gate) {
      gates[p.gate.id] = p.gate.gate;
      gateComments[p.gate.id] = p.gate.comment;
    }
  };

  const member = f.memberOf;
  if (member)
    detected.push(
      `workspace: this config is a package (${member.dir}) of the workspace at ${member.root} (${member.up}); setup installs the workspace, root files are named with //`,
    );
  detected.push(`package manager: ${f.packageManager.name} (${f.packageManager.reason})`);
  for (const w of f.warnings) detected.push(`warning: ${w}`);
  const image = `node:${f.node.major}-bookworm-slim`;
  detected.push(`image: ${image} (Node ${f.node.major} from ${f.node.source})`);
  if (mono)
    detected.push(
      `monorepo: ${mono.tool} (${mono.file}; tasks: ${[...mono.tasks].sort().join(', ') || 'none found'})`,
    );
  detected.push(...f.notes);

  const setup = proposeSetup(ctx);
  take(proposeLint(ctx));
  take(proposeUnit(ctx));
  const build = proposeBuild(ctx);
  take(build);
  take(proposeA11y(ctx, build));
  take(proposeSonar(ctx));
  const release = proposeRelease(ctx, build);
  detected.push(...release.detected);
  const targets = proposeTargets(f);
  detected.push(...targets.detected);

  if (f.workspace) {
    const proposal = proposeWorkspaceGates(
      f.workspace,
      (mono?.outputs.get('build') ?? []).filter((o) => !o.startsWith('!') && safeRelative(o)),
    );
    // The whole-repository gates the proposal replaces: those run through turbo or nx.
    const viaTool = (id: string, g: UserGate) => {
      const task = ({ lint: 'lint', unit: 'test', build: 'build' } as Record<string, string>)[id];
      return mono !== null && task !== undefined && g.run === monorepoCommand(mono, pm.exec, task);
    };
    if (proposal)
      applyWorkspaceProposal(f.scripts, gates, gateComments, detected, proposal, viaTool);
  }

  if (member && Object.keys(gates).length) {
    const shared = member.sharedConfigs.map((c) => `//${c}`);
    detected.push(
      `cache: gates declare no inputs, so each is keyed on every file git knows in this package, the files at the workspace root outside every package, and the lockfiles${
        shared.length ? `; root configs the gates may read, in that key: ${shared.join(', ')}` : ''
      }`,
    );
  } else if (Object.values(gates).some((g) => g.packages)) {
    detected.push(
      "cache: a package's gates are keyed on its files, its workspace dependencies' files and the files at the root (lockfile, root configs); other gates on every file git knows",
    );
  } else if (Object.keys(gates).length) {
    detected.push(
      'cache: gates declare no inputs, so each is keyed on every file git knows in the project (add inputs only to narrow it, listing every file the gate reads)',
    );
  }

  if (!Object.keys(gates).length) {
    // A config needs at least one gate; a placeholder that passes would claim checks that do not exist.
    gates.todo = {
      kind: 'custom',
      run: "echo 'gatehouse: no checks configured yet; replace the todo gate in gatehouse.yml' >&2; exit 1",
    };
    gateComments.todo = [
      'todo — nothing to check was found (no lint, test, build, accessibility or Sonar setup).',
      'This gate fails on purpose until you replace it with your own checks.',
    ];
    detected.push('gates: nothing to check was found; wrote a failing `todo` gate to replace');
  }

  const config: UserConfig = {
    version: 1,
    name: pipelineName(f.name),
    image,
    setup: setup.setup,
    gates,
    ...(release.release ? { release: release.release } : {}),
    targets: targets.targets,
  };
  return {
    config,
    comments: {
      image: [
        `Runtime image for gates in containers: Node ${f.node.major}, from ${f.node.source}.`,
      ],
      setup: setup.comment,
      gates: gateComments,
      release: release.comment,
      targets: targets.comment,
    },
    detected,
  };
}
