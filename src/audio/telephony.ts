/**
 * The phone line's audio, as Twilio Media Streams carry it: G.711 μ-law, 8 kHz mono, one byte a
 * sample, sent in 20 ms frames (Twilio's Media Streams docs, "Media Streams - WebSocket Messages").
 */

/** Hz. */
export const LINE_RATE = 8000;
/** One frame's length in ms. */
export const FRAME_MS = 20;
/**
 * 20 ms at 8 kHz, one byte per sample: the payload of each `media` message Twilio sends. Audio
 * sent back may be longer per message (src/conversation/media-stream-session.ts batches it).
 */
export const FRAME_BYTES = (LINE_RATE * FRAME_MS) / 1000;
/** μ-law for 0: pads a stream's last frame. */
export const MULAW_SILENCE = 0xff;
