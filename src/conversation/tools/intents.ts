import { transferFailedPhrase } from "../../call/transfer.ts";
import type { EngineSink } from "../engine.ts";
import type { ToolIntent } from "./executor.ts";

/**
 * transfer_call and end_call, once the model has asked for one: what the caller hears before
 * it happens, and handing it to the call session once that has played. The same in every mode
 * (turns mode speaks through TwiML, the stream engines through their audio).
 */

/** Said when the model ends the call without saying goodbye itself. */
export const DEFAULT_GOODBYE = "Thank you for calling. Goodbye!";

/**
 * What the agent says after the model's own words (`said`, maybe empty) for `intent`: a
 * transfer's announcement, or a goodbye when the model ended the call without one. null: nothing.
 */
export function intentSpeech(intent: ToolIntent | null, said: string): string | null {
  if (intent?.kind === "transfer") return intent.announcement;
  if (intent?.kind === "end_call" && !said.trim()) return DEFAULT_GOODBYE;
  return null;
}

/**
 * The intent's audio has all played: hand the caller to the transfer target, or hang up with
 * end reason agent_hangup. `seq` is the turn that asked (the call log's transfer record). When
 * Twilio does not move the call, the caller is still here: `say` gets the words telling them.
 */
export function carryOutIntent(
  intent: ToolIntent,
  seq: number,
  sink: Partial<Pick<EngineSink, "onEnd" | "onTransfer">>,
  say: (text: string) => void,
): void {
  if (intent.kind === "end_call") {
    sink.onEnd?.({ reason: "agent_hangup", goodbye: "" });
    return;
  }
  const refused = () => say(transferFailedPhrase(intent.target.name, "failed"));
  sink.onTransfer?.(intent, seq).then((moved) => moved || refused(), refused);
}
