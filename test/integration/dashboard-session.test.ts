import { describe, expect, it } from "vitest";
import { cookieJar, fetchPage, HOST, hidden, signIn } from "../support/console.ts";

/**
 * The console's session and forgery checks at the HTTP level, on a public https host (where
 * the browser tests, on 127.0.0.1, cannot go): the cookie is Secure with the __Host- prefix.
 */

describe("console session", () => {
  it("sets a __Host- cookie that is Secure, HttpOnly, SameSite=Strict and lasts 12 hours", async () => {
    const { response } = await signIn();
    expect(response.status).toBe(303);
    expect(response.headers.get("Location")).toBe("/dashboard/numbers");
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith("__Host-console_session="));
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/; Max-Age=43200(;|$)/);
    expect(cookie).toMatch(/; Path=\/(;|$)/);
    expect(cookie).toMatch(/; HttpOnly(;|$)/);
    expect(cookie).toMatch(/; Secure(;|$)/);
    expect(cookie).toMatch(/; SameSite=Strict(;|$)/);
  });

  it("sends a visitor without a session to sign in, and keeps where they were going", async () => {
    const response = await fetchPage("/dashboard/numbers?q=sales");
    expect(response.status).toBe(303);
    expect(response.headers.get("Location")).toBe(
      `/dashboard/sign-in?next=${encodeURIComponent("/dashboard/numbers?q=sales")}`,
    );
  });

  it("refuses a tampered session cookie", async () => {
    const { jar } = await signIn();
    const forged = jar.header().replace(/__Host-console_session=([^;.]+)/, (_m, v: string) => {
      const payload = JSON.parse(atob(decodeURIComponent(v)));
      return `__Host-console_session=${encodeURIComponent(btoa(JSON.stringify({ ...payload, exp: payload.exp + 1e9 })))}`;
    });
    const response = await fetchPage("/dashboard/numbers", { cookie: forged });
    expect(response.status).toBe(303);
    expect(response.headers.get("Location")).toMatch(/^\/dashboard\/sign-in/);
  });

  it("refuses a post whose CSRF token is missing, and one from another origin", async () => {
    const { jar } = await signIn();
    const form = { "Content-Type": "application/x-www-form-urlencoded" };
    const noToken = await fetchPage("/dashboard/sign-out", {
      method: "POST",
      cookie: jar.header(),
      headers: { ...form, Origin: HOST },
      body: "",
    });
    expect(noToken.status).toBe(403);
    expect(await noToken.text()).toContain("CSRF token");
    const page = await fetchPage("/dashboard/numbers", { cookie: jar.header() });
    const token = hidden(await page.text(), "_csrf");
    const crossSite = await fetchPage("/dashboard/sign-out", {
      method: "POST",
      cookie: jar.header(),
      headers: { ...form, Origin: "https://evil.example", "Sec-Fetch-Site": "cross-site" },
      body: new URLSearchParams({ _csrf: token }),
    });
    expect(crossSite.status).toBe(403);
    const sameSite = await fetchPage("/dashboard/sign-out", {
      method: "POST",
      cookie: jar.header(),
      headers: { ...form, Origin: HOST },
      body: new URLSearchParams({ _csrf: token }),
    });
    expect(sameSite.status).toBe(303);
    expect(sameSite.headers.getSetCookie().join()).toMatch(/__Host-console_session=;.*Max-Age=0/);
  });

  it("slows down repeated wrong keys and says so", async () => {
    const jar = cookieJar();
    const page = await fetchPage("/dashboard/sign-in");
    jar.take(page);
    const token = hidden(await page.text(), "_csrf");
    const attempt = () =>
      fetchPage("/dashboard/sign-in", {
        method: "POST",
        cookie: jar.header(),
        headers: {
          Origin: HOST,
          "Content-Type": "application/x-www-form-urlencoded",
          "CF-Connecting-IP": "198.51.100.7",
        },
        body: new URLSearchParams({ _csrf: token, key: "wrong" }),
      });
    const texts: string[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await attempt();
      expect(response.status).toBe(401);
      texts.push(await response.text());
    }
    expect(texts[0]).toContain("That admin key is not valid.");
    expect(texts[0]).not.toContain("waits");
    // README: the first three wrong keys answer at once; each further answer waits.
    expect(texts[2]).toContain("That admin key is not valid.");
    expect(texts[2]).not.toContain("waits");
    expect(texts[3]).toContain("After 4 failed attempts, each answer now waits 1 s.");
  });

  it("puts a Content-Security-Policy limited to the Worker's origin on console and docs pages", async () => {
    for (const path of ["/dashboard/sign-in", "/docs"]) {
      const csp = (await fetchPage(path)).headers.get("Content-Security-Policy") ?? "";
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).not.toMatch(/https?:\/\//);
    }
  });
});
