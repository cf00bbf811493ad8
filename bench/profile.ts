/**
 * How long and how hard the bench measures. `--quick` uses tiny durations: it proves the whole
 * bench runs end to end, and its numbers mean little.
 */
export interface Profile {
  quick: boolean;
  load: { concurrency: number; warmupMs: number; durationMs: number };
  /** in-worker operations (difference method) */
  op: { durationMs: number; targetBatchMs: number };
  /** record→reply turns measured one after another */
  turns: number;
  voice: {
    /** simultaneous calls measuring end-of-speech latency, and utterances each */
    latencyCalls: number;
    utterancesPerCall: number;
    /** simultaneous-call levels of the capacity ramp, tried in order until one has late frames */
    levels: number[];
  };
}

/** The providers' fixed delays (OpenAI fake) while turns and voice replies are measured. */
export const PROVIDER_DELAYS = { stt: 100, llmFirstToken: 200, tts: 150 } as const;
export const PROVIDER_DELAY_TOTAL_MS =
  PROVIDER_DELAYS.stt + PROVIDER_DELAYS.llmFirstToken + PROVIDER_DELAYS.tts;

export function profileFrom(argv: readonly string[]): Profile {
  const quick = argv.includes("--quick");
  return quick
    ? {
        quick,
        load: { concurrency: 16, warmupMs: 100, durationMs: 300 },
        op: { durationMs: 150, targetBatchMs: 5 },
        turns: 2,
        voice: { latencyCalls: 1, utterancesPerCall: 1, levels: [2] },
      }
    : {
        quick,
        load: { concurrency: 16, warmupMs: 500, durationMs: 3000 },
        op: { durationMs: 2000, targetBatchMs: 50 },
        turns: 30,
        voice: { latencyCalls: 4, utterancesPerCall: 3, levels: [5, 10, 20, 40, 60, 80, 100, 120] },
      };
}
