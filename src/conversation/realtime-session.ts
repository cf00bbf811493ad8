import type {
  RealtimeClientEvent,
  RealtimeFunctionTool,
  RealtimeSessionCreateRequest,
} from "openai/resources/realtime/realtime";
import type { CallConfig } from "../config/defaults.ts";
import type { ChatMessage } from "../providers/types.ts";

/**
 * What the realtime engine sends OpenAI's Realtime API when its socket opens: the number's
 * values as a `session.update`, and the conversation so far as `conversation.item.create`
 * events. Pure functions of the call's config and history (GA interface, `audio/pcmu` both ways).
 */

/**
 * The number's values as a GA Realtime session: μ-law in and out, the server's VAD ending turns
 * after `end_of_speech_ms` (ms) of silence and interrupting the answer when `enable_interrupts`,
 * `max_tokens` as `max_output_tokens`, and the number's tools (if any) with `tool_choice: "auto"`.
 * Temperature is not a Realtime session parameter, so it is not sent.
 */
export function realtimeSession(
  config: CallConfig,
  tools: RealtimeFunctionTool[],
): RealtimeSessionCreateRequest {
  return {
    type: "realtime",
    instructions: config.system_prompt,
    output_modalities: ["audio"],
    audio: {
      input: {
        format: { type: "audio/pcmu" },
        transcription: { model: config.stt_model },
        turn_detection: {
          type: "server_vad",
          silence_duration_ms: config.end_of_speech_ms,
          interrupt_response: config.enable_interrupts,
          create_response: true,
        },
      },
      output: { format: { type: "audio/pcmu" }, voice: config.tts_voice },
    },
    max_output_tokens: config.max_tokens,
    ...(tools.length > 0 && { tools, tool_choice: "auto" as const }),
  };
}

/**
 * The call's history (user and assistant messages; others are skipped) as the
 * `conversation.item.create` events that put it back into a new Realtime session: a new stream
 * of a call already under way (the caller back from a transfer that failed, or an evicted session).
 */
export function historyItems(history: ChatMessage[]): RealtimeClientEvent[] {
  const events: RealtimeClientEvent[] = [];
  for (const message of history) {
    if (message.role === "user") {
      events.push({
        type: "conversation.item.create",
        item: { type: "message", role: "user", content: [{ type: "input_text", text: message.content }] },
      });
    } else if (message.role === "assistant") {
      events.push({
        type: "conversation.item.create",
        item: {
          type: "message",
          role: "assistant",
          content: [{ type: "output_text", text: message.content }],
        },
      });
    }
  }
  return events;
}
