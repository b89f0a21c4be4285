// Pins the target contract's types: the driver resolves options once and `emit` receives the
// resolved type, never the raw mapping (checked by `tsc` through `pnpm typecheck`, and by vitest).
import { describe, expectTypeOf, it } from 'vitest';
import {
  defineTarget,
  definePlugin,
  resolveTargetOptions,
  type Diagnostic,
  type EmittedFile,
  type ExecuteOptions,
  type ExecutorDefinition,
  type GatehousePlugin,
  type ResolvedOptions,
  type ResolvedPipeline,
  type TargetContext,
  type TargetDefinition,
  type TargetOptions,
} from '../src/index.js';

interface Resolved {
  level: number;
}

const target = defineTarget({
  description: 'd',
  resolveOptions: (raw: TargetOptions): ResolvedOptions<Resolved> => ({
    value: { level: typeof raw.level === 'number' ? raw.level : 1 },
    diagnostics: [],
  }),
  emit: (_p, options) => [{ path: `${options.level}.txt`, contents: '' }],
});

describe('the target contract', () => {
  it('resolveOptions takes the raw mapping and returns the value with diagnostics', () => {
    expectTypeOf<TargetDefinition<Resolved>['resolveOptions']>().parameters.toEqualTypeOf<
      [TargetOptions]
    >();
    expectTypeOf<ReturnType<TargetDefinition<Resolved>['resolveOptions']>>().toEqualTypeOf<{
      value: Resolved;
      diagnostics: Diagnostic[];
    }>();
  });

  it('emit receives the resolved options, never TargetOptions', () => {
    expectTypeOf(target).toEqualTypeOf<TargetDefinition<Resolved>>();
    expectTypeOf<TargetDefinition<Resolved>['emit']>().parameters.toEqualTypeOf<
      [ResolvedPipeline, Resolved, TargetContext]
    >();
    expectTypeOf<TargetDefinition<Resolved>['emit']>().returns.toEqualTypeOf<EmittedFile[]>();
    defineTarget({
      description: 'd',
      resolveOptions: (): ResolvedOptions<Resolved> => ({ value: { level: 1 }, diagnostics: [] }),
      // @ts-expect-error: a raw option is not on the resolved type
      emit: (_p, options) => [{ path: String(options.path), contents: '' }],
    });
  });

  it('a plugin holds typed targets, and the driver resolves with the target type', () => {
    const plugin = definePlugin({ name: 'p', targets: { t: target } });
    expectTypeOf(plugin.targets.t).toEqualTypeOf<TargetDefinition<Resolved>>();
    expectTypeOf(plugin).toMatchTypeOf<GatehousePlugin>();
    expectTypeOf(resolveTargetOptions(target, 't', {})).toEqualTypeOf<ResolvedOptions<Resolved>>();
  });
});

describe('the executor contract', () => {
  it('carries what an executor needs from the caller, without casts', () => {
    expectTypeOf<ExecuteOptions['only']>().toEqualTypeOf<string[] | undefined>();
    expectTypeOf<ExecuteOptions['runId']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<ExecuteOptions['gatehouseVersion']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<ExecutorDefinition['writesReport']>().toEqualTypeOf<boolean | undefined>();
  });
});
