import { Hono } from "hono";
import { findCall } from "../../call/call-log-reads.ts";
import { notFound, phoneOf } from "../../config/service.ts";
import { AppError } from "../../errors.ts";
import { Layout } from "./layout.tsx";
import { numberPath } from "./numbers.tsx";
import type { DashboardEnv } from "./types.ts";

/**
 * "Talk to this number": a test call from the browser to the same conversation engine a phone
 * call gets. The page's script (assets/console/test-call.js) turns the microphone into 8 kHz
 * μ-law 20 ms frames with an AudioWorklet and streams them over a WebSocket that the console
 * session authenticates; the call's Durable Object runs it like a stream-mode phone call (the
 * number's config, resolved as for a phone call) and logs it with `channel: "web"`.
 */

const randomHex = (bytes: number) =>
  [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, "0")).join("");

function TestCallPage({
  phone,
  name,
  mode,
  csrf,
}: {
  phone: string;
  name: string;
  mode: string;
  csrf: string;
}) {
  return (
    <Layout title={`Talk to ${name}`} section="numbers" csrf={csrf} scripts={["/console/test-call.js"]}>
      <h1>
        Talk to {name} <span class="sub">{phone}</span>
      </h1>
      <p>
        Your microphone is the caller. The agent answers with this number's configuration, exactly as a phone
        call would, and the call appears under <a href="/dashboard/calls">Calls</a> marked as a web call.
      </p>
      {mode === "turns" && (
        <p class="hint">
          This number answers phone calls in turns mode (record, then reply); a browser has no Twilio
          recording, so the test call uses the streaming pipeline with the same models, voice and prompts.
        </p>
      )}
      <div
        id="test-call"
        class="row-actions"
        data-start-url={`${numberPath(phone)}/test-call`}
        data-csrf={csrf}
        data-frames-received="0"
      >
        <button type="button" id="call-start">
          Start test call
        </button>
        <button type="button" id="call-stop" class="danger" disabled>
          Hang up
        </button>
      </div>
      <p id="call-status" role="status" aria-live="polite">
        Not connected.
      </p>
      <h2>Transcript</h2>
      <ol id="call-transcript" class="conversation" aria-label="Live transcript" aria-live="polite" />
    </Layout>
  );
}

export function testCallPages(): Hono<DashboardEnv> {
  const app = new Hono<DashboardEnv>();

  app.get("/numbers/:phone/test-call", async (c) => {
    const phone = phoneOf(c.var.services, c.req.param("phone"));
    const config = await c.var.services.store.get(phone);
    if (!config) throw notFound(phone);
    return c.html(
      <TestCallPage
        phone={phone}
        name={config.display_name}
        mode={config.conversation_mode}
        csrf={c.var.session.csrf}
      />,
    );
  });

  /** Starts the call's Durable Object; the browser then opens the socket it names. */
  app.post("/numbers/:phone/test-call", async (c) => {
    const { services } = c.var;
    const phone = phoneOf(services, c.req.param("phone"));
    const callSid = `CA${randomHex(16)}`;
    const { config, source } = await services.resolver.resolve(phone, { call_sid: callSid });
    const origin = new URL(c.req.url).origin;
    await c.env.CALL_SESSION.get(c.env.CALL_SESSION.idFromName(callSid)).start({
      callSid,
      accountSid: services.settings.TWILIO_ACCOUNT_SID ?? "",
      from: "browser",
      to: config.phone_number,
      config,
      configSource: source,
      // The number's own engine (stream pipeline or realtime); turns mode needs Twilio's <Record>.
      mode: config.conversation_mode === "turns" ? "stream" : config.conversation_mode,
      publicBaseUrl: services.settings.PUBLIC_BASE_URL ?? origin,
      channel: "web",
      answeredAt: Date.now(),
    });
    services.log.info("web_call_created", { call_sid: callSid, to: config.phone_number });
    return c.json({
      call_sid: callSid,
      socket: `/dashboard/calls/${callSid}/socket`,
      page: `/dashboard/calls/${callSid}`,
    });
  });

  /** The call's socket: only for a web call, only from the console's own pages. */
  app.get("/calls/:sid/socket", async (c) => {
    if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
      throw new AppError("VALIDATION_ERROR", "expected a WebSocket upgrade");
    }
    // A WebSocket is not bound by the same-origin policy: refuse pages of other origins.
    if (c.req.header("Origin") !== new URL(c.req.url).origin) {
      throw new AppError("FORBIDDEN", "a test call's socket opens from the console only");
    }
    const sid = c.req.param("sid");
    const call = /^CA[0-9a-f]{32}$/.test(sid) ? await findCall(c.env, sid) : null;
    if (call?.channel !== "web" || call.status !== "in_progress") {
      throw new AppError("NOT_FOUND", `No test call ${sid} in progress`);
    }
    const upgraded = await c.env.CALL_SESSION.get(c.env.CALL_SESSION.idFromName(sid)).fetch(c.req.raw);
    // A copy with mutable headers: the console's middleware adds its security headers to it.
    return new Response(upgraded.body, {
      status: upgraded.status,
      headers: upgraded.headers,
      webSocket: upgraded.webSocket,
    });
  });

  return app;
}
