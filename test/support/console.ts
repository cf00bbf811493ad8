import { exports } from "cloudflare:workers";
import { testEnv } from "./env.ts";

/** Console pages fetched from the test Worker as a signed-in operator on a public https host. */

export const HOST = "https://console.example.test";

export function cookieJar() {
  const jar = new Map<string, string>();
  return {
    header: () => [...jar].map(([k, v]) => `${k}=${v}`).join("; "),
    take(response: Response) {
      for (const line of response.headers.getSetCookie()) {
        const [pair = ""] = line.split(";");
        const eq = pair.indexOf("=");
        jar.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
    },
  };
}

export async function fetchPage(path: string, init: RequestInit & { cookie?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.cookie) headers.set("Cookie", init.cookie);
  return exports.default.fetch(`${HOST}${path}`, { ...init, headers, redirect: "manual" });
}

export const hidden = (html: string, name: string) =>
  new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1] ?? "";

export async function signIn() {
  const jar = cookieJar();
  const page = await fetchPage("/dashboard/sign-in");
  jar.take(page);
  const token = hidden(await page.text(), "_csrf");
  const response = await fetchPage("/dashboard/sign-in", {
    method: "POST",
    cookie: jar.header(),
    headers: { Origin: HOST, "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ _csrf: token, key: testEnv.ADMIN_API_KEY, next: "/dashboard/numbers" }),
  });
  jar.take(response);
  return { jar, response };
}
