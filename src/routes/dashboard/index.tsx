import { Hono } from "hono";
import { csrf } from "hono/csrf";
import { HTTPException } from "hono/http-exception";
import { adminKeys, matchAdminKey, sameSecret } from "../../http/admin-keys.ts";
import {
  checkLoginToken,
  endSession,
  loginToken,
  readSession,
  startSession,
} from "../../http/console-session.ts";
import { toAppError } from "../../http/errors.ts";
import { clearFailures, delayAfter, failuresOf, recordFailure } from "../../http/login-throttle.ts";
import { pageHeaders } from "../../http/page-headers.ts";
import { errorFields, log } from "../../log.ts";
import { analyticsPages } from "./analytics.tsx";
import { callsPages } from "./calls.tsx";
import { historyPages } from "./history.tsx";
import { Layout, Notice } from "./layout.tsx";
import { numbersPages } from "./numbers.tsx";
import { testCallPages } from "./test-call.tsx";
import type { DashboardEnv } from "./types.ts";

/**
 * The operator's console at /dashboard: server-rendered pages (hono/jsx) behind a signed
 * session cookie, every page with the CSP of http/page-headers.ts, every form post checked
 * twice for forgery: hono/csrf refuses a cross-site Origin / Sec-Fetch-Site, and the form's
 * `_csrf` field must equal the session's token.
 */

function SignIn({ token, error, next }: { token: string; error?: string | undefined; next: string }) {
  return (
    <Layout title="Sign in" section="sign-in">
      <div class="narrow">
        <h1>Sign in</h1>
        <p>Sign in with an admin key (one of the keys in ADMIN_API_KEY). The session lasts 12 hours.</p>
        {error && <Notice kind="error">{error}</Notice>}
        <form method="post" action="/dashboard/sign-in">
          <input type="hidden" name="_csrf" value={token} />
          <input type="hidden" name="next" value={next} />
          <div class="field">
            <label for="key">Admin key</label>
            <input id="key" name="key" type="password" autocomplete="current-password" required autofocus />
          </div>
          <div class="actions">
            <button type="submit">Sign in</button>
          </div>
        </form>
      </div>
    </Layout>
  );
}

function ErrorPage({ status, message, signedIn }: { status: number; message: string; signedIn?: string }) {
  return (
    <Layout title={`Error ${status}`} section="numbers" csrf={signedIn}>
      <h1>{status === 404 ? "Not found" : status === 403 ? "Refused" : "Something went wrong"}</h1>
      <Notice kind="error">{message}</Notice>
      <p>
        <a href="/dashboard">Back to the console</a>
      </p>
    </Layout>
  );
}

/** Only paths inside the console are followed after sign-in (no open redirect). */
function safeNext(next: unknown): string {
  return typeof next === "string" && /^\/dashboard(\/|$|\?)/.test(next) && !next.startsWith("//")
    ? next
    : "/dashboard/numbers";
}

/** The client a failed sign-in is counted against: Cloudflare's connecting address. */
const clientOf = (c: { req: { header(name: string): string | undefined } }) =>
  c.req.header("CF-Connecting-IP") ?? "local";

export function dashboardRoutes(): Hono<DashboardEnv> {
  const app = new Hono<DashboardEnv>();
  app.use(pageHeaders);
  // A refused cross-site post is a 403 page, not the JSON error the API answers.
  app.use(csrf());
  app.onError((err, c) => {
    // hono/csrf refuses a cross-site form post with a 403 HTTPException.
    const refused = err instanceof HTTPException && err.status === 403;
    const appError = toAppError(err);
    if (!refused && appError.status >= 500) {
      (c.var.services?.log ?? log).error("console_request_failed", { path: c.req.path, ...errorFields(err) });
    }
    const status = refused ? 403 : appError.status;
    const message = refused
      ? "This form was not sent from the console, so it was refused."
      : appError.message;
    c.status(status);
    return c.html(<ErrorPage status={status} message={message} signedIn={c.var.session?.csrf} />);
  });

  app.get("/sign-in", async (c) => {
    const { settings } = c.var.services;
    if (await readSession(c, settings)) return c.redirect(safeNext(c.req.query("next")), 303);
    const error =
      adminKeys(settings).length === 0 ? "The console is disabled: ADMIN_API_KEY is not set." : undefined;
    return c.html(
      <SignIn token={await loginToken(c, settings)} error={error} next={safeNext(c.req.query("next"))} />,
    );
  });

  app.post("/sign-in", async (c) => {
    const { settings } = c.var.services;
    const form = await c.req.parseBody();
    const next = safeNext(form.next);
    if (!(await checkLoginToken(c, settings, typeof form._csrf === "string" ? form._csrf : ""))) {
      c.status(403);
      return c.html(
        <SignIn
          token={await loginToken(c, settings)}
          next={next}
          error="The sign-in form expired; please try again."
        />,
      );
    }
    const kv = c.env.CONFIG_CACHE;
    const client = clientOf(c);
    const failures = await failuresOf(kv, client);
    const key = typeof form.key === "string" ? await matchAdminKey(settings, form.key.trim()) : undefined;
    if (key) {
      await startSession(c, settings, key.key);
      if (failures > 0) await clearFailures(kv, client);
      c.var.services.log.info("console_signed_in");
      return c.redirect(next, 303);
    }
    await recordFailure(kv, client, failures);
    // `failures` counts the earlier attempts, as delayAfter expects: the first FREE_ATTEMPTS answer at once.
    const wait = delayAfter(failures);
    c.var.services.log.warn("console_sign_in_refused", { failures: failures + 1 });
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const error =
      wait > 0
        ? `That admin key is not valid. After ${failures + 1} failed attempts, each answer now waits ${wait / 1000} s.`
        : "That admin key is not valid.";
    c.status(401);
    return c.html(<SignIn token={await loginToken(c, settings)} next={next} error={error} />);
  });

  app.use(async (c, next) => {
    const session = await readSession(c, c.var.services.settings);
    if (!session) {
      if (c.req.method !== "GET") return c.text("Your session has ended; sign in again.", 401);
      const target = c.req.path + (new URL(c.req.url).search || "");
      return c.redirect(`/dashboard/sign-in?next=${encodeURIComponent(target)}`, 303);
    }
    c.set("session", session);
    if (c.req.method === "POST") {
      const form = await c.req.parseBody();
      const given = typeof form._csrf === "string" ? form._csrf : "";
      if (!(await sameSecret(given, session.csrf))) {
        c.status(403);
        return c.html(
          <ErrorPage
            status={403}
            message="This form's CSRF token is missing or stale; reload the page and try again."
            signedIn={session.csrf}
          />,
        );
      }
    }
    await next();
  });

  app.post("/sign-out", (c) => {
    endSession(c);
    return c.redirect("/dashboard/sign-in", 303);
  });
  app.get("/", (c) => c.redirect("/dashboard/numbers", 303));
  app.route("/", testCallPages());
  app.route("/numbers", historyPages());
  app.route("/numbers", numbersPages());
  app.route("/calls", callsPages());
  app.route("/analytics", analyticsPages());
  return app;
}
