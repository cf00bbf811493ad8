// The console's test call: microphone → AudioWorklet (8 kHz μ-law, 20 ms frames) → WebSocket
// to the call's Durable Object; the agent's μ-law frames are played back in order, marks are
// echoed once the audio before them has played, `clear` (barge-in) drops what has not played,
// and the live transcript shows each turn as it happens (the caller's words once transcribed, the
// agent's reply as it is spoken), then as recorded. Protocol: src/conversation/web-audio-session.ts.
const root = document.getElementById("test-call");
const startButton = document.getElementById("call-start");
const stopButton = document.getElementById("call-stop");
const statusLine = document.getElementById("call-status");
const transcript = document.getElementById("call-transcript");
const RATE = 8000;

/** ITU-T G.711 μ-law byte → linear sample in [-1, 1]. */
function unmulaw(byte) {
  const u = ~byte & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return (u & 0x80 ? 0x84 - t : t - 0x84) / 32768;
}

let call = null;

function say(text) {
  statusLine.textContent = text;
}

/** The lines of turns under way, by seq: { caller, agent } list items, each made when first needed. */
const live = new Map();

/**
 * Sets a line's speaker and text, making the line if it is new: at the end of the transcript, or
 * before `next` (a caller's words transcribed after the agent began to answer them).
 */
function setLine(li, role, text, note, next) {
  const line = li ?? document.createElement("li");
  line.className = role;
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = role === "caller" ? "You" : `Agent${note ? ` · ${note}` : ""}`;
  line.replaceChildren(who, text);
  if (!li && next) next.before(line);
  else if (!li) transcript.append(line);
  return line;
}

function addLine(role, text, note) {
  setLine(null, role, text, note);
}

/** A turn under way: its lines appear as soon as there is something to show, marked busy. */
function progress(message) {
  const lines = live.get(message.seq) ?? {};
  live.set(message.seq, lines);
  if (message.transcript && !lines.caller) {
    lines.caller = setLine(null, "caller", message.transcript, "", lines.agent);
  }
  if (message.reply) {
    lines.agent = setLine(lines.agent, "agent", message.reply, "speaking");
    lines.agent.setAttribute("aria-busy", "true");
  }
}

/** A recorded turn replaces its lines under way (or adds its own). */
function turnDone(message) {
  const lines = live.get(message.seq) ?? {};
  live.delete(message.seq);
  if (message.transcript) lines.caller = setLine(lines.caller, "caller", message.transcript, "", lines.agent);
  if (message.reply) {
    lines.agent = setLine(lines.agent, "agent", message.reply, message.interrupted ? "interrupted" : "");
    lines.agent.removeAttribute("aria-busy");
  } else lines.agent?.remove();
  if (message.outcome === "failed") addLine("agent", `(failed at ${message.failed_stage ?? "a stage"})`);
}

async function start() {
  startButton.disabled = true;
  say("Starting…");
  try {
    const form = new FormData();
    form.set("_csrf", root.dataset.csrf);
    const created = await fetch(root.dataset.startUrl, { method: "POST", body: form });
    if (!created.ok) throw new Error(`the console refused the call (${created.status})`);
    const { socket, call_sid: callSid, page } = await created.json();
    const media = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true },
    });
    // At 8 kHz the browser resamples the microphone and the agent's voice itself.
    const context = new AudioContext({ sampleRate: RATE });
    await context.audioWorklet.addModule("/console/mic-worklet.js");
    const mic = context.createMediaStreamSource(media);
    const framer = new AudioWorkletNode(context, "mulaw-framer");
    mic.connect(framer);
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${socket}`);
    ws.binaryType = "arraybuffer";
    call = { ws, media, context, playHead: 0, sources: new Set(), marks: new Map(), frames: 0 };
    framer.port.onmessage = (e) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(e.data);
    };
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "start" }));
      stopButton.disabled = false;
      say(`Connected (call ${callSid}). Speak after the greeting.`);
      root.dataset.callSid = callSid;
      root.dataset.callPage = page;
    };
    ws.onmessage = (e) =>
      typeof e.data === "string" ? onText(JSON.parse(e.data)) : play(new Uint8Array(e.data));
    // Only while this socket's call is the live one: after "Hang up" the server closes the socket,
    // and that close must not overwrite what the operator was told.
    ws.onclose = () => {
      if (call?.ws === ws) finish("Call ended.");
    };
    ws.onerror = () => {
      if (call?.ws === ws) say("The connection failed.");
    };
  } catch (err) {
    finish(`Could not start: ${err.message}`);
  }
}

function play(bytes) {
  const { context } = call;
  const buffer = context.createBuffer(1, bytes.length, RATE);
  const samples = buffer.getChannelData(0);
  for (let i = 0; i < bytes.length; i++) samples[i] = unmulaw(bytes[i]);
  const source = context.createBufferSource();
  source.buffer = buffer;
  source.connect(context.destination);
  const at = Math.max(call.playHead, context.currentTime);
  source.start(at);
  call.playHead = at + buffer.duration;
  call.sources.add(source);
  source.onended = () => call?.sources.delete(source);
  call.frames += 1;
  root.dataset.framesReceived = String(call.frames);
}

function echoMark(name) {
  call.marks.delete(name);
  if (call.ws.readyState === WebSocket.OPEN) call.ws.send(JSON.stringify({ type: "mark", name }));
}

function onText(message) {
  if (message.type === "mark") {
    const wait = Math.max(0, (call.playHead - call.context.currentTime) * 1000);
    call.marks.set(
      message.name,
      setTimeout(() => echoMark(message.name), wait),
    );
  } else if (message.type === "clear") {
    // Barge-in: what has not played is dropped, and its marks come back at once (as Twilio does).
    for (const source of call.sources) source.stop();
    call.sources.clear();
    call.playHead = call.context.currentTime;
    for (const [name, timer] of call.marks) {
      clearTimeout(timer);
      echoMark(name);
    }
  } else if (message.type === "progress") {
    progress(message);
  } else if (message.type === "turn") {
    turnDone(message);
  }
}

function finish(text) {
  if (call) {
    const { ws, media, context } = call;
    call = null;
    if (ws.readyState === WebSocket.OPEN) {
      // The call's object ends the call and closes the socket; closing first would race it.
      ws.send(JSON.stringify({ type: "stop" }));
      setTimeout(() => ws.close(1000, "hung up"), 3000);
    }
    for (const track of media.getTracks()) track.stop();
    context.close();
  }
  stopButton.disabled = true;
  startButton.disabled = false;
  const link = root.dataset.callPage;
  say(text);
  if (link) {
    const a = document.createElement("a");
    a.href = link;
    a.textContent = " See the call's page.";
    statusLine.append(a);
  }
}

startButton.addEventListener("click", start);
stopButton.addEventListener("click", () => finish("You hung up."));
