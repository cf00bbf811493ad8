// AudioWorklet for the console's test call: the microphone, already at the context's 8 kHz,
// as G.711 μ-law in 20 ms frames (160 bytes), posted to the page to send over the socket.
const FRAME = 160;
const BIAS = 0x84;
const CLIP = 32635;

/** ITU-T G.711 μ-law of one 16-bit linear sample. */
function mulaw(sample) {
  let s = Math.max(-1, Math.min(1, sample)) * 32767;
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  s = Math.min(s, CLIP) + BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

class MulawFramer extends AudioWorkletProcessor {
  constructor() {
    super();
    this.frame = new Uint8Array(FRAME);
    this.filled = 0;
  }

  process(inputs) {
    const channel = inputs[0]?.[0];
    if (!channel) return true;
    for (let i = 0; i < channel.length; i++) {
      this.frame[this.filled++] = mulaw(channel[i]);
      if (this.filled === FRAME) {
        this.port.postMessage(this.frame.buffer, [this.frame.buffer]);
        this.frame = new Uint8Array(FRAME);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor("mulaw-framer", MulawFramer);
