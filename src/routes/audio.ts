import { Hono } from "hono";
import { AUDIO_CONTENT_TYPE, AudioStore } from "../call/audio-store.ts";
import { signingSecret } from "../call/tokens.ts";
import { AppError } from "../errors.ts";
import type { AppEnv } from "../http/types.ts";

/** Synthesised speech for Twilio's <Play>, only through a signed URL that has not expired. */
export function audioRoutes() {
  const app = new Hono<AppEnv>();
  app.get("/:file{[A-Za-z0-9_-]+\\.mp3}", async (c) => {
    const id = c.req.param("file").replace(/\.mp3$/, "");
    const expires = Number(c.req.query("exp"));
    const sig = c.req.query("sig") ?? "";
    const store = new AudioStore(c.env.AUDIO_CACHE, signingSecret(c.var.services.settings), "");
    const check = await store.verifyUrl(id, expires, sig);
    if (!check.ok) {
      throw new AppError(
        "FORBIDDEN",
        check.reason === "expired" ? "This audio link has expired" : "Invalid audio link",
      );
    }
    const audio = await store.get(id);
    if (!audio) throw new AppError("NOT_FOUND", "No such audio (it may have expired)");
    return c.body(audio, 200, {
      "Content-Type": AUDIO_CONTENT_TYPE,
      "Cache-Control": "private, max-age=600",
    });
  });
  return app;
}
