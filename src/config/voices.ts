/**
 * The OpenAI TTS models we accept and the voices each can speak: the one table the schema,
 * the docs and the error messages read from.
 */
const CLASSIC_VOICES = ["alloy", "ash", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer"] as const;

export const TTS_VOICES = {
  "tts-1": CLASSIC_VOICES,
  "tts-1-hd": CLASSIC_VOICES,
  "gpt-4o-mini-tts": [...CLASSIC_VOICES, "ballad", "verse", "marin", "cedar"],
} as const satisfies Record<string, readonly string[]>;

export type TtsModel = keyof typeof TTS_VOICES;
export const TTS_MODELS = Object.keys(TTS_VOICES) as [TtsModel, ...TtsModel[]];

export function voicesFor(model: TtsModel): readonly string[] {
  return TTS_VOICES[model];
}

export function canSpeak(model: TtsModel, voice: string): boolean {
  return voicesFor(model).includes(voice);
}
