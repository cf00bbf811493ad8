import type { MiddlewareHandler } from "hono";
import { AppError } from "../errors.ts";
import { signedUrl, verifySignature } from "../twilio/signature.ts";
import { twilioFormPairs } from "./twilio-form.ts";
import type { AppEnv } from "./types.ts";

/**
 * Nothing from Twilio is trusted before its X-Twilio-Signature checks out against
 * TWILIO_AUTH_TOKEN and the URL Twilio requested (rebuilt from PUBLIC_BASE_URL behind a
 * proxy or tunnel). Only DEV_UNSIGNED_WEBHOOKS, allowed in development alone, skips it.
 */
export const requireTwilioSignature: MiddlewareHandler<AppEnv> = async (c, next) => {
  const { settings } = c.var.services;
  if (settings.DEV_UNSIGNED_WEBHOOKS) {
    await next();
    return;
  }
  if (!settings.TWILIO_AUTH_TOKEN) {
    throw new AppError("FORBIDDEN", "Twilio webhooks are refused: TWILIO_AUTH_TOKEN is not set");
  }
  const signature = c.req.header("X-Twilio-Signature");
  const isUpgrade = c.req.header("Upgrade")?.toLowerCase() === "websocket";
  const params = c.req.method === "POST" ? await twilioFormPairs(c) : [];
  const url = signedUrl(c.req.url, settings.PUBLIC_BASE_URL, { websocket: isUpgrade });
  if (!signature || !(await verifySignature(settings.TWILIO_AUTH_TOKEN, signature, url, params))) {
    c.var.services.log.warn("twilio_signature_rejected", {
      path: c.req.path,
      signed: Boolean(signature),
    });
    throw new AppError("FORBIDDEN", "Invalid or missing X-Twilio-Signature");
  }
  await next();
};
