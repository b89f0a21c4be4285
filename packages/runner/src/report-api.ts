// The one import site of @gatehouse/report, so its API surface used here stays visible.
export {
  evaluateGate,
  skippedResult,
  cachedResult,
  buildReport,
  writeReport,
  appendLedger,
} from '@gatehouse/report';
export type { GateOutcome } from '@gatehouse/report';
