import type { ChatMessage, ChatModel, ChatRequest, ToolCall } from "../../providers/types.ts";
import type { ToolCallRecord, ToolExecution, ToolIntent, ToolRunner } from "./executor.ts";

/**
 * Tool rounds, the same in every mode: the model answers, perhaps asking for tool calls; each
 * call runs and its result goes back as a `tool` message; the model answers again. A caller's
 * turn gets at most MAX_TOOL_ROUNDS rounds, then the model must answer in words.
 */

export const MAX_TOOL_ROUNDS = 4;
/** Stream mode: a tool still running after this long gets one filler sentence, ms. */
export const FILLER_AFTER_MS = 1500;
export const FILLER = "One moment, please.";

/** The request for round `round` (0-based): tools offered; past the limit, words only. */
export function roundRequest(
  req: ChatRequest,
  runner: ToolRunner | null | undefined,
  round: number,
): ChatRequest {
  if (!runner?.hasTools) return req;
  return {
    ...req,
    tools: runner.definitions,
    ...(round >= MAX_TOOL_ROUNDS && { toolChoice: "none" as const }),
  };
}

/** Whether the model's tool calls in round `round` are to be run (past the limit they are not). */
export function mayRun(
  calls: readonly ToolCall[] | undefined,
  runner: ToolRunner | null | undefined,
  round: number,
) {
  return Boolean(runner?.hasTools && calls && calls.length > 0 && round < MAX_TOOL_ROUNDS);
}

/** What one round adds to the conversation: the assistant's tool calls, then each result. */
export function roundMessages(text: string, executions: readonly ToolExecution[]): ChatMessage[] {
  return [
    { role: "assistant", content: text, toolCalls: executions.map((e) => e.call) },
    ...executions.map((e): ChatMessage => ({ role: "tool", toolCallId: e.call.id, content: e.content })),
  ];
}

/** The intent a round leaves, if any: a transfer wins over ending the call. */
export function intentOf(executions: readonly ToolExecution[]): ToolIntent | null {
  const intents = executions.flatMap((e) => (e.intent ? [e.intent] : []));
  return intents.find((i) => i.kind === "transfer") ?? intents[0] ?? null;
}

export interface ToolRoundsResult {
  /** everything the model said, across rounds, to be spoken in order */
  text: string;
  /** the messages the rounds added before the final answer (assistant tool calls, tool results) */
  rounds: ChatMessage[];
  /** the text of the final answer (after the last round) */
  finalText: string;
  tools: ToolCallRecord[];
  intent: ToolIntent | null;
}

/**
 * Turns mode: the model's reply with its tool rounds resolved, before text-to-speech.
 * `llmSignal` and `toolSignal` give each step its slice of the webhook budget. An intent
 * (transfer, end_call) ends the rounds: what was said so far is the reply. Throws what the
 * provider throws.
 */
export async function completeWithTools(
  llm: ChatModel,
  req: ChatRequest,
  runner: ToolRunner | null | undefined,
  budget: { llmSignal(): AbortSignal; toolSignal(): AbortSignal },
): Promise<ToolRoundsResult> {
  const said: string[] = [];
  const rounds: ChatMessage[] = [];
  const tools: ToolCallRecord[] = [];
  for (let round = 0; ; round++) {
    const request = roundRequest({ ...req, messages: [...req.messages, ...rounds] }, runner, round);
    const { text, toolCalls } = await llm.complete({ ...request, signal: budget.llmSignal() });
    const words = text.trim();
    if (words) said.push(words);
    if (!runner || !mayRun(toolCalls, runner, round)) {
      return { text: said.join(" "), rounds, finalText: words, tools, intent: null };
    }
    const toolSignal = budget.toolSignal();
    const executions = await Promise.all((toolCalls ?? []).map((call) => runner.execute(call, toolSignal)));
    rounds.push(...roundMessages(words, executions));
    tools.push(...executions.map((e) => e.record));
    const intent = intentOf(executions);
    if (intent) return { text: said.join(" "), rounds, finalText: "", tools, intent };
  }
}
