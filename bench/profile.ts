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
    /** which engines bench/voice.ts measures (`--engine pipeline|realtime`; default both) */
    engines: VoiceEngine[];
    /** `--cpu-profile 60`: CPU-profile the Worker during the ramp level of 60 calls (bench/cpu-profile.ts) */
    cpuProfileLevel?: number;
  };
}

export type VoiceEngine = "pipeline" | "realtime";

/** The value after `--name` (or of `--name=value`), if given. */
function flag(argv: readonly string[], name: string): string | undefined {
  const at = argv.indexOf(`--${name}`);
  if (at >= 0) return argv[at + 1];
  return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** The providers' fixed delays (OpenAI fake) while turns and voice replies are measured. */
export const PROVIDER_DELAYS = { stt: 100, llmFirstToken: 200, tts: 150 } as const;
export const PROVIDER_DELAY_TOTAL_MS =
  PROVIDER_DELAYS.stt + PROVIDER_DELAYS.llmFirstToken + PROVIDER_DELAYS.tts;

/**
 * The profile from the command line: `--quick`; for bench/voice.ts also `--engine pipeline` or
 * `--engine realtime` (one engine's rows only) and `--levels 5,10,20` (the capacity ramp's
 * levels) and `--cpu-profile <calls>`, so one section can be measured on a shared machine without the rest.
 */
export function profileFrom(argv: readonly string[]): Profile {
  const profile = baseProfile(argv.includes("--quick"));
  const engine = flag(argv, "engine");
  if (engine !== undefined) {
    if (engine !== "pipeline" && engine !== "realtime")
      throw new Error(`--engine must be pipeline or realtime, not "${engine}"`);
    profile.voice.engines = [engine];
  }
  const levels = flag(argv, "levels");
  if (levels !== undefined) {
    const parsed = levels.split(",").map(Number);
    if (parsed.some((n) => !Number.isInteger(n) || n < 1))
      throw new Error(`--levels must be whole numbers of calls, comma-separated, not "${levels}"`);
    profile.voice.levels = parsed;
  }
  const cpuProfile = flag(argv, "cpu-profile");
  if (cpuProfile !== undefined) {
    const calls = Number(cpuProfile);
    if (!profile.voice.levels.includes(calls))
      throw new Error(`--cpu-profile must name one of the ramp's levels (${profile.voice.levels.join(",")})`);
    profile.voice.cpuProfileLevel = calls;
  }
  return profile;
}

function baseProfile(quick: boolean): Profile {
  return quick
    ? {
        quick,
        load: { concurrency: 16, warmupMs: 100, durationMs: 300 },
        op: { durationMs: 150, targetBatchMs: 5 },
        turns: 2,
        voice: { latencyCalls: 1, utterancesPerCall: 1, levels: [2], engines: ["pipeline", "realtime"] },
      }
    : {
        quick,
        load: { concurrency: 16, warmupMs: 500, durationMs: 3000 },
        op: { durationMs: 2000, targetBatchMs: 50 },
        turns: 30,
        voice: {
          latencyCalls: 4,
          utterancesPerCall: 3,
          levels: [5, 10, 20, 40, 60, 80, 100, 120, 140, 160],
          engines: ["pipeline", "realtime"],
        },
      };
}
