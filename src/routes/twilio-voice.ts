import { Hono } from "hono";
import { callLog } from "../call/call-log.ts";
import { recordSessionless, unstartedSummary } from "../call/unanswered.ts";
import { decideCall, UNKNOWN_NUMBER } from "../config/call-routing.ts";
import { AppError } from "../errors.ts";
import { requireTwilioSignature } from "../http/twilio-auth.ts";
import { twilioForm } from "../http/twilio-form.ts";
import type { AppEnv } from "../http/types.ts";
import { errorFields } from "../log.ts";
import { callNumber } from "../twilio/call-number.ts";
import { hangup, twiml } from "../twilio/twiml.ts";
import {
  type CallStatusEvent,
  type FinalCallStatus,
  isFinalStatus,
  parseVoiceWebhook,
  recordingKey,
} from "../twilio/webhook.ts";
import { answerIncomingCall } from "./twilio-incoming-call.ts";
import type { Ctx } from "./twilio-reply.ts";
import { answerFailure, callSidOf, render, session, streamAnswer, xml } from "./twilio-reply.ts";

/**
 * Twilio's voice webhooks. Each answers TwiML whatever happens inside, because a caller
 * must never hear Twilio's "application error": a failure becomes an apology. The incoming-call
 * answer is in twilio-incoming-call.ts; the TwiML and form helpers in twilio-reply.ts.
 */

/**
 * An answered call that ended before its session was created: logged from the status callback
 * (CallSid, From, To, CallDuration) with the config its number resolves to, unless the log
 * already has it (a rejected or forwarded call's own entry).
 */
async function logUnstarted(c: Ctx, event: CallStatusEvent & { callStatus: FinalCallStatus }): Promise<void> {
  const { settings } = c.var.services;
  const endedAt = new Date();
  const durationSeconds = event.callDuration ?? 0;
  const decision = await decideCall(
    c.var.services,
    callNumber(event, {
      defaultCountry: settings.DEFAULT_COUNTRY,
      defaultClientNumber: settings.DEFAULT_CLIENT_NUMBER,
    }),
    { callSid: event.callSid, at: new Date(endedAt.getTime() - durationSeconds * 1000) },
  );
  const summary = unstartedSummary(decision, {
    callSid: event.callSid,
    from: event.from,
    status: event.callStatus,
    durationSeconds,
    endedAt,
  });
  await recordSessionless(c.env, summary, c.var.services.log, { ifAbsent: true });
}

export function twilioVoiceRoutes() {
  const app = new Hono<AppEnv>();
  app.use(requireTwilioSignature);

  app.post("/voice", answerIncomingCall);

  app.post("/recording", async (c) => {
    try {
      const form = await twilioForm(c);
      const silent = c.req.query("no_speech");
      // The answer's signed call snapshot: the first recording webhook creates the session from it.
      const snapshot = c.req.query("call");
      const callSid = form.CallSid;
      if (silent !== undefined && callSid && !form.RecordingUrl) {
        return render(
          c,
          await session(c, callSid).turn({
            callSid,
            key: `no-speech:${silent}`,
            recordingUrl: null,
            ...(snapshot && { snapshot }),
          }),
        );
      }
      const event = parseVoiceWebhook("recording", form);
      return render(
        c,
        await session(c, event.callSid).turn({
          callSid: event.callSid,
          ...(snapshot && { snapshot }),
          key: recordingKey(event),
          recordingUrl: event.recordingUrl,
          ...(event.recordingDuration !== undefined && { recordingSeconds: event.recordingDuration }),
        }),
      );
    } catch (err) {
      return answerFailure(c, "recording", err, "listen");
    }
  });

  // A transfer's <Dial> ended: hang up after a connected call, else the caller is back with the agent.
  app.post("/dial", async (c) => {
    try {
      const event = parseVoiceWebhook("dial", await twilioForm(c));
      const back = await session(c, event.callSid).dialEnded({ status: event.dialCallStatus });
      return back.stream ? streamAnswer(c, event.callSid) : render(c, back.reply);
    } catch (err) {
      return answerFailure(c, "dial", err, "hangup");
    }
  });

  // Stream mode: Twilio's WebSocket, handed to the call's Durable Object.
  app.get("/media/:callSid{CA[0-9a-zA-Z]+}", async (c) => {
    if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
      throw new AppError("UPGRADE_REQUIRED", "A Media Stream is a WebSocket: expected `Upgrade: websocket`");
    }
    return session(c, c.req.param("callSid")).fetch(c.req.raw);
  });

  // The end of a forwarded call's <Dial>: its duration goes into the call's record.
  app.post("/forwarded", async (c) => {
    try {
      const event = parseVoiceWebhook("dial", await twilioForm(c));
      // The number's shard, named in the action URL we gave (covered by Twilio's signature).
      const number = c.req.query("number") ?? UNKNOWN_NUMBER;
      await callLog(c.env, number).forwardEnded(
        event.callSid,
        event.dialCallDuration ?? 0,
        event.dialCallStatus,
      );
    } catch (err) {
      c.var.services.log.error("twilio_forwarded_failed", {
        call_sid: await callSidOf(c),
        ...errorFields(err),
      });
    }
    return xml(c, twiml(hangup()));
  });

  app.post("/status", async (c) => {
    try {
      const event = parseVoiceWebhook("call_status", await twilioForm(c));
      if (isFinalStatus(event.callStatus)) {
        const ended = await session(c, event.callSid).end({
          status: event.callStatus,
          ...(event.callDuration !== undefined && { durationSeconds: event.callDuration }),
        });
        // No session: the call ended before it had one (during the greeting), or was never answered.
        if (!ended) await logUnstarted(c, { ...event, callStatus: event.callStatus });
      }
    } catch (err) {
      c.var.services.log.error("twilio_status_failed", { call_sid: await callSidOf(c), ...errorFields(err) });
    }
    return xml(c, '<?xml version="1.0" encoding="UTF-8"?><Response/>');
  });

  return app;
}
