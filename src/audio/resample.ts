/**
 * Rational-ratio resampling of PCM16 mono with a Kaiser-windowed sinc low-pass, run as a
 * polyphase filter: upsample by L, filter, keep every M-th sample, computing only the outputs
 * that are kept. The low-pass sits below the lower rate's Nyquist frequency, so downsampling
 * (24 kHz TTS audio to the 8 kHz phone line) removes what would alias and upsampling removes
 * the images.
 *
 * Output is aligned with input (the filter's delay is compensated) and, once flushed, holds
 * ceil(inputLength * outRate / inRate) samples.
 */

/**
 * Stopband attenuation the filter is designed for: 70 dB, below the noise floor of 8-bit μ-law
 * (G.711's quantisation SNR is about 38 dB).
 */
const STOPBAND_DB = 70;
/**
 * Passband ends and stopband begins at these fractions of the lower rate's Nyquist frequency.
 * At the 8 kHz phone line: 3,400 Hz and 4,600 Hz. A telephone channel carries 300 to 3,400 Hz
 * (ITU-T G.712), so what lies between 4,000 and 4,600 Hz may alias: it folds into 3,400 to 4,000
 * Hz, above the band the line carries, and nothing that folds into the band is kept. The wider
 * transition this allows makes the filter about 40% shorter than one ending at 4,000 Hz, and it
 * runs on every sample of every reply.
 */
const PASSBAND_EDGE = 0.85;
const STOPBAND_EDGE = 1.15;

export class Resampler {
  readonly inRate: number;
  readonly outRate: number;
  /** Upsampling factor L and decimation factor M: out/in = L/M in lowest terms. */
  private readonly up: number;
  private readonly down: number;
  /** Taps per phase. */
  private readonly taps: number;
  /** Filter delay in samples at the upsampled rate. */
  private readonly delay: number;
  /** phases[p * taps + k] = L * h[p + k * L]: coefficient for input sample i - k in phase p. */
  private readonly phases: Float64Array;
  /** The last taps-1 input samples, then the current chunk (float64: no conversion in the loop). */
  private buffer: Float64Array;
  /** Absolute index of the input sample at buffer[taps - 1]. */
  private bufferBase = 0;
  /** Input samples received so far. */
  private received = 0;
  /** Index of the next output sample. */
  private produced = 0;

  constructor(inRate: number, outRate: number) {
    if (!isPositiveInteger(inRate) || !isPositiveInteger(outRate)) {
      throw new RangeError(`sample rates must be positive integers, got ${inRate} -> ${outRate}`);
    }
    this.inRate = inRate;
    this.outRate = outRate;
    const g = gcd(inRate, outRate);
    this.up = outRate / g;
    this.down = inRate / g;
    const filter = designLowPass(inRate * this.up, Math.min(inRate, outRate) / 2);
    this.taps = Math.ceil(filter.length / this.up);
    this.delay = (filter.length - 1) / 2;
    this.phases = new Float64Array(this.up * this.taps);
    for (let p = 0; p < this.up; p++) {
      for (let k = 0; k < this.taps; k++) {
        this.phases[p * this.taps + k] = this.up * (filter[p + k * this.up] ?? 0);
      }
    }
    this.buffer = new Float64Array(this.taps - 1);
  }

  /** Resample the next chunk; returns the output samples that are now complete (possibly none). */
  push(chunk: Int16Array): Int16Array {
    const history = this.taps - 1;
    const needed = history + chunk.length;
    if (this.buffer.length < needed) {
      const grown = new Float64Array(needed);
      grown.set(this.buffer.subarray(0, history));
      this.buffer = grown;
    }
    this.buffer.set(chunk, history);
    this.received += chunk.length;
    const out = this.run(this.received);
    this.keepHistory(chunk.length);
    return out;
  }

  /**
   * Emit the remaining output, treating the input as followed by silence, and start over
   * for a new stream.
   */
  flush(): Int16Array {
    const history = this.taps - 1;
    // Inputs past the end are zeros: provide enough of them to finish the last output.
    const zeros = Math.ceil((this.delay + this.up) / this.up) + 1;
    if (this.buffer.length < history + zeros) {
      const grown = new Float64Array(history + zeros);
      grown.set(this.buffer.subarray(0, history));
      this.buffer = grown;
    }
    this.buffer.fill(0, history, history + zeros);
    const total = Math.ceil((this.received * this.up) / this.down);
    const out = this.run(this.received + zeros, total);
    this.buffer.fill(0);
    this.bufferBase = 0;
    this.received = 0;
    this.produced = 0;
    return out;
  }

  /**
   * Compute every output whose newest input lies below `available`, up to `limit` outputs in
   * total. Output n sits at t = n*M + delay on the upsampled time line: input i = floor(t / L),
   * phase t mod L.
   */
  private run(available: number, limit = Number.POSITIVE_INFINITY): Int16Array {
    const { up, down, delay, taps, phases, buffer } = this;
    const history = taps - 1;
    // Outputs n with floor((n*M + delay) / L) < available.
    const ready = Math.min(limit, Math.max(0, Math.ceil((available * up - delay) / down)));
    const count = Math.max(0, ready - this.produced);
    const out = new Int16Array(count);
    // With one phase (L = 1: pure decimation, the TTS-to-line case) the coefficients are the
    // symmetric filter itself, so each output folds the pair of samples that share a
    // coefficient: half the multiplications. The filter has odd length: its centre tap stands alone.
    const folded = up === 1;
    const middle = history / 2;
    for (let j = 0; j < count; j++) {
      const t = (this.produced + j) * down + delay;
      const input = Math.floor(t / up);
      // buffer[history + (input - bufferBase)] is sample `input`; walk back `taps` samples.
      const newest = history + input - this.bufferBase;
      let acc = 0;
      if (folded) {
        const oldest = newest - history;
        acc = (phases[middle] as number) * (buffer[newest - middle] as number);
        for (let k = 0; k < middle; k++) {
          acc += (phases[k] as number) * ((buffer[newest - k] as number) + (buffer[oldest + k] as number));
        }
      } else {
        const coeffs = (t - input * up) * taps;
        for (let k = 0; k < taps; k++) acc += (phases[coeffs + k] as number) * (buffer[newest - k] as number);
      }
      out[j] = clamp16(Math.round(acc));
    }
    this.produced += count;
    return out;
  }

  /** Move the newest taps-1 inputs to the front of the buffer for the next chunk. */
  private keepHistory(chunkLength: number): void {
    const history = this.taps - 1;
    this.buffer.copyWithin(0, chunkLength, chunkLength + history);
    this.bufferBase += chunkLength;
  }
}

/** Resample a whole signal at once; same output as pushing it in chunks and flushing. */
export function resample(samples: Int16Array, inRate: number, outRate: number): Int16Array {
  const resampler = new Resampler(inRate, outRate);
  const head = resampler.push(samples);
  const tail = resampler.flush();
  const out = new Int16Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

/**
 * Odd-length, symmetric (linear-phase) Kaiser-windowed sinc low-pass at `rate`, cutting off
 * between PASSBAND_EDGE and STOPBAND_EDGE of `nyquist`, normalized to unity gain at DC.
 */
function designLowPass(rate: number, nyquist: number): Float64Array {
  const transition = ((STOPBAND_EDGE - PASSBAND_EDGE) * nyquist) / rate;
  const cutoff = (((PASSBAND_EDGE + STOPBAND_EDGE) / 2) * nyquist) / rate;
  // Kaiser's estimates for the length and window shape that reach STOPBAND_DB.
  const order = Math.ceil((STOPBAND_DB - 8) / (2.285 * 2 * Math.PI * transition));
  const length = order + (order % 2 === 0 ? 1 : 0);
  const beta = 0.1102 * (STOPBAND_DB - 8.7);
  const center = (length - 1) / 2;
  const filter = new Float64Array(length);
  const norm = besselI0(beta);
  let sum = 0;
  for (let i = 0; i < length; i++) {
    const x = i - center;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    const r = x / center;
    const window = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / norm;
    filter[i] = sinc * window;
    sum += filter[i] as number;
  }
  for (let i = 0; i < length; i++) filter[i] = (filter[i] as number) / sum;
  return filter;
}

/** Modified Bessel function of the first kind, order 0 (power series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const half = x / 2;
  for (let k = 1; k < 50; k++) {
    term *= (half / k) * (half / k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

function clamp16(value: number): number {
  return Math.min(32767, Math.max(-32768, value));
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function isPositiveInteger(value: number): boolean {
  return Number.isInteger(value) && value > 0;
}
