/**
 * The tests' side of the OpenAI fake's script (runs inside workerd, so fetch only).
 * Scripts are per namespace: pass `fakeControl(testEnv.FAKE_OPENAI_URL).url`.
 */

export interface OpenAIScript {
  /** appended to the queue of transcripts; each transcription takes the next one */
  transcripts?: string[];
  /**
   * appended to the queue of chat replies; each completion (streamed or not) takes the next one.
   * An object is the model calling tools (after saying `content`, if given); with
   * `tool_choice: "none"`, or naming a tool the request did not offer, it is answered in words.
   */
  replies?: Array<string | ScriptedToolCalls>;
  /** fixed artificial latency per endpoint; given keys replace earlier values */
  delayMs?: OpenAIDelays;
  /** the Realtime socket (test/fakes/openai-realtime.ts); given keys replace earlier values */
  realtime?: {
    firstAudioDelayMs?: number;
    dropAfterResponses?: number;
    deltaIntervalMs?: number;
    /** the next answer is this function call */
    toolCall?: { name: string; arguments: string };
  };
}

export interface ScriptedToolCalls {
  content?: string;
  /** `arguments` as the model's JSON text, or an object to be serialised */
  tool_calls: Array<{ name: string; arguments: string | Record<string, unknown> }>;
}

export interface OpenAIDelays {
  /** before the transcription answer */
  stt?: number;
  /** before the first token (the whole answer when not streaming; after the headers when streaming) */
  llmFirstToken?: number;
  /** before the audio (after the headers for streamed pcm) */
  tts?: number;
  /** between streamed pcm chunks (100 ms of audio each); 2 when not set */
  ttsChunkGap?: number;
}

export async function openaiScript(fakeUrl: string, script: OpenAIScript): Promise<void> {
  const response = await fetch(`${fakeUrl}/__openai/script`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(script),
  });
  if (!response.ok)
    throw new Error(`OpenAI fake refused the script: ${response.status} ${await response.text()}`);
  await response.body?.cancel();
}
