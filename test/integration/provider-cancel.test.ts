import { describe, expect, it } from "vitest";
import { encodeWav } from "../../src/audio/wav.ts";
import { createOpenAIProviders } from "../../src/providers/openai.ts";
import { ProviderError } from "../../src/providers/types.ts";
import { fakeControl } from "../fakes/client.ts";
import { testEnv } from "../support/env.ts";

/**
 * A call that ends while a provider request is open cancels it. workerd reports a fetch
 * cancelled with a reason of ours, while its body is still being sent, as an "uncaught
 * exception … AbortError: the call ended" no code can catch; test/global-setup.ts fails the run
 * on any such line, so these tests fail if a cancellation ever reaches fetch with a reason again.
 */
describe("a provider request cancelled because the call ended", () => {
  it("fails as `aborted`, mid-upload, and leaves nothing uncaught in the runtime", async () => {
    const fake = fakeControl(testEnv.FAKE_OPENAI_URL);
    // An upload big enough to still be in flight when the caller hangs up.
    const audio = encodeWav(new Int16Array(4 * 1024 * 1024), 8000);
    const providers = createOpenAIProviders({ apiKey: "sk-test", baseUrl: `${fake.url}/v1` });
    const hangUp = new AbortController();
    const pending = providers.stt.transcribe(
      { data: audio, contentType: "audio/wav", filename: "utterance.wav" },
      { model: "whisper-1", signal: hangUp.signal },
    );
    setTimeout(() => hangUp.abort(new DOMException("the call ended", "AbortError")), 5);
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind: "aborted", operation: "transcribe" });
    // The runtime reports the cancelled upload, if it does, after the promise has settled.
    await new Promise((resolve) => setTimeout(resolve, 300));
  });

  it("fails as `timeout` when the provider keeps it waiting past the timeout", async () => {
    const fake = fakeControl(testEnv.FAKE_OPENAI_URL);
    await fake.behave({ delayMs: 2000, pathIncludes: "/audio/speech" });
    const providers = createOpenAIProviders({ apiKey: "sk-test", baseUrl: `${fake.url}/v1`, timeoutMs: 50 });
    const err = await providers.tts
      .synthesize({ text: "Hello.", model: "tts-1", voice: "nova", format: "mp3" })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "timeout", operation: "synthesize" });
  });
});
