// The one import site of @gatehouse-ci/report, so its API surface used here stays visible.
export {
  evaluateGate,
  skippedResult,
  cachedResult,
  buildReport,
  writeReport,
  appendLedger,
  publishLatest,
} from '@gatehouse-ci/report';
export type { GateOutcome } from '@gatehouse-ci/report';
