/**
 * @gatehouse-ci/report — the unified gate report: evidence parsers, policies, evaluation of a
 * gate, the run report and its verdict, renderers, merge, sealing/signing and the ledger.
 */
export { outcome, EMPTY_SHA256, type GateOutcome } from './outcome.js';
export {
  evaluateGate,
  skippedResult,
  cachedResult,
  loadBaseline,
  judgeRun,
  gateCommand,
  MAX_FINDINGS,
  LOG_TAIL_BYTES,
  type EvaluateOptions,
  type Judgement,
  type RunFacts,
} from './evaluate.js';
export {
  buildReport,
  computeVerdict,
  effectiveStatus,
  collectGitInfo,
  collectContext,
  newRunId,
  orderGates,
  projectRelativeLog,
  collectEnvironment,
  NO_RESULT_REASON,
  REPORT_PACKAGE_VERSION,
  type BuildReportInput,
} from './build.js';
export { mergeReports, type MergeOptions } from './merge.js';
export {
  diffReports,
  formatDiff,
  thresholdMargin,
  type DiffSide,
  type FindingChanges,
  type ReportDiff,
  type ThresholdMove,
} from './diff.js';
export {
  timelineOf,
  renderTimelineSvg,
  type Timeline,
  type TimelineRow,
} from './render/timeline.js';
export { renderHistoryHtml, type HistoryOptions, type HistoryRun } from './render/history.js';
export { judgeShard, type JudgedShard, type ShardOptions } from './shard.js';
export {
  readExportedGate,
  judgeExportedGate,
  MAX_EXPORTED_LOG_BYTES,
  type ExportReadOptions,
} from './docker.js';
export {
  isReportWriteError,
  ReportWriteError,
  reportWriteError,
  writeReport,
  type WriteReportOptions,
  type WrittenReport,
} from './write.js';
export {
  sealReport,
  verifyReport,
  verifyReportText,
  checkAttestations,
  provenanceProblems,
  reportDigest,
  serialiseReport,
  serialiseEnvelope,
  generateSigningKeyPair,
  keyIdOf,
  pae,
  DSSE_PAYLOAD_TYPE,
  ENVELOPE_FILE,
  type DsseEnvelope,
  type SealOptions,
  type SealedReport,
  type VerifyOptions,
  type VerifyResult,
} from './integrity.js';
export {
  toVsa,
  toReleaseProvenance,
  signStatement,
  checkStatementEnvelope,
  serialiseStatement,
  VSA_PREDICATE,
  PROVENANCE_PREDICATE,
  GATEHOUSE_VERIFIER_ID,
  GATEHOUSE_BUILDER_ID,
  GATEHOUSE_BUILD_TYPE,
  GATES_PASSED_LEVEL,
  VSA_ENVELOPE_FILE,
  PROVENANCE_FILE,
  PROVENANCE_ENVELOPE_FILE,
  type ImageRef,
  type ReleaseBuild,
  type Statement,
  type VsaPredicate,
} from './slsa.js';
export {
  appendLedger,
  readLedger,
  checkLedgerText,
  ledgerPath,
  ledgerHeadPath,
  auditLedger,
  type LedgerEntry,
  type LedgerCheck,
  type LedgerAudit,
  type LedgerHead,
  type LedgerOptions,
} from './ledger.js';
export { checkPolicy, effectivePolicy, describeCheck } from './policy.js';
export * from './render/index.js';
export { sourceHostOfCi, sourceHostOfRemote, sourceLink } from './source-links.js';
export * as evidence from './evidence/index.js';
export {
  parseEvidence,
  mergeEvidence,
  EvidenceError,
  type ParsedEvidence,
  type ParseContext,
} from './evidence/index.js';
export { prettyCanonical } from './canonical.js';
export { writeFileAtomic } from './util.js';
export { publishLatest } from './latest.js';
export {
  validateReportSchema,
  validateGateResultSchema,
  reportSchema,
  REPORT_SCHEMA_ID,
} from './schema.js';
export {
  dockerVerdictJudge,
  dockerVerdictSpec,
  judgeDockerResults,
  type DockerVerdictSpec,
} from './docker-verdict.js';
