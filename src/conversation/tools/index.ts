/**
 * Tools for every conversation engine (turns, stream pipeline, speech-to-speech): definitions
 * from a number's `tools`, `ToolRunner.execute(call)` → a result for the model, a call-log
 * record and, for transfer and end_call, a typed intent the engine carries out.
 */
export { toolDefinitions } from "./definitions.ts";
export {
  type LoggedArguments,
  MAX_RESULT_BYTES,
  type ToolCallContext,
  type ToolCallRecord,
  type ToolExecution,
  type ToolIntent,
  ToolRunner,
  type ToolRunnerOptions,
  type ToolStatus,
  toolLogFields,
} from "./executor.ts";
export { carryOutIntent, DEFAULT_GOODBYE, intentSpeech } from "./intents.ts";
export { REDACTED, redactSecrets } from "./redact.ts";
export {
  completeWithTools,
  FILLER,
  FILLER_AFTER_MS,
  intentOf,
  MAX_TOOL_ROUNDS,
  mayRun,
  roundMessages,
  roundRequest,
  type ToolRoundsResult,
} from "./rounds.ts";
export { SIGNATURE_HEADER, signatureHeader } from "./signing.ts";
