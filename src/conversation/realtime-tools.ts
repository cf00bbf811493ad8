import type { RealtimeClientEvent, RealtimeFunctionTool } from "openai/resources/realtime/realtime";
import type { RealtimeTurn } from "./realtime-turns.ts";
import type { ToolCallRecord, ToolIntent } from "./tools/index.ts";

/**
 * Function calls in a Realtime session: the number's tools as Realtime function tools, and a
 * response's `function_call` outputs run one by one, each output sent back as a
 * `function_call_output` item, then a `response.create` so the model answers with them.
 */

/** The number's tools as Realtime function tools, and how to run one (src/conversation/tools). */
export interface RealtimeTools {
  definitions: RealtimeFunctionTool[];
  /**
   * Runs one function call (the model's JSON arguments); resolves to the output for the model,
   * what the call log keeps of it, and what must happen once the answer has played. Never rejects.
   */
  call(call: { id: string; name: string; arguments: string }): Promise<{
    output: string;
    record?: ToolCallRecord;
    intent: ToolIntent | null;
  }>;
}

/** A `function_call` output item of `response.done`, as the server sends it. */
export interface RealtimeFunctionCall {
  call_id?: string;
  name?: string;
  arguments?: string;
}

/**
 * Runs `calls` in order for `turn` (null: a response no caller turn owns), keeping each tool's
 * record and the first intent on the turn, and `emit`s each output, then the next response. A
 * transfer's announcement is what the model says next, word for word; the transfer or the hang-up
 * itself waits until that answer has played (the engine's job). Stops quietly once `stopped()`.
 */
export async function runToolCalls(
  tools: RealtimeTools,
  calls: RealtimeFunctionCall[],
  turn: RealtimeTurn | null,
  io: { emit(event: RealtimeClientEvent): void; stopped(): boolean },
): Promise<void> {
  for (const call of calls) {
    const id = call.call_id ?? "";
    const result = await tools.call({ id, name: call.name ?? "", arguments: call.arguments ?? "{}" });
    if (io.stopped()) return;
    if (turn) {
      if (result.record) turn.tools.push(result.record);
      turn.intent ??= result.intent;
    }
    io.emit({
      type: "conversation.item.create",
      item: { type: "function_call_output", call_id: id, output: result.output },
    });
  }
  const intent = turn?.intent;
  io.emit({
    type: "response.create",
    ...(intent?.kind === "transfer" && {
      response: {
        instructions: `Say exactly the following, word for word, and nothing else: "${intent.announcement}"`,
      },
    }),
  });
}
