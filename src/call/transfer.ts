import { TRANSFER_TOOL_NAME } from "../config/tools.ts";
import type { DialCallStatus } from "../twilio/webhook.ts";
import type { StoredTurn } from "./call-state.ts";

/**
 * After a transfer's <Dial>: Twilio reports how the dialled call ended. Connected, the call is
 * over; busy, unanswered or failed, the caller is back with the agent, which says so and goes on.
 */

/** The target took the call (Twilio says "completed" once that call has ended). */
export function transferConnected(status: DialCallStatus): boolean {
  return status === "completed" || status === "answered";
}

/** What the agent says when the caller comes back from a transfer that did not connect. */
export function transferFailedPhrase(targetName: string, status: DialCallStatus): string {
  const what =
    status === "busy"
      ? `${targetName} is busy right now`
      : status === "no-answer"
        ? `${targetName} didn't answer`
        : `I couldn't connect you to ${targetName}`;
  return `Sorry, ${what}. Is there anything else I can help you with?`;
}

/**
 * The turn that asked for the transfer, with the <Dial> outcome on its transfer record and, when
 * the caller is back, the agent's words in its history (so the model knows what happened).
 */
export function withDialOutcome(turn: StoredTurn, status: DialCallStatus, phrase: string | null): StoredTurn {
  const tools = turn.record.tools?.map((t) => ({ ...t }));
  const transfer = tools?.findLast((t) => t.name === TRANSFER_TOOL_NAME && t.target);
  if (transfer) transfer.dial_outcome = status;
  return {
    ...turn,
    record: { ...turn.record, ...(tools && { tools }) },
    ...(turn.messages &&
      phrase && { messages: [...turn.messages, { role: "assistant" as const, content: phrase }] }),
  };
}
