import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { callLog } from "../../src/call/call-log.ts";
import { uniquePhone } from "../support/admin.ts";
import { summary } from "../support/call-summary.ts";
import { fetchPage, signIn } from "../support/console.ts";

/** The console's calls list filtered by number, date range, end reason and variant together. */

const sidsIn = (html: string) =>
  [...html.matchAll(/href="\/dashboard\/calls\/(CA[0-9a-zA-Z]+)"/g)].map((m) => m[1]);

describe("console calls filters", () => {
  it("lists only the calls of the chosen variant, combined with the other filters", async () => {
    const phone = uniquePhone();
    const calls = [
      summary(phone, { variant: "a", started_at: "2026-06-01T10:00:00.000Z" }),
      summary(phone, { variant: "b", started_at: "2026-06-01T11:00:00.000Z" }),
      summary(phone, { variant: "a", started_at: "2026-06-02T10:00:00.000Z", end_reason: "silence" }),
      summary(phone, { variant: "a", started_at: "2026-06-05T10:00:00.000Z" }),
      summary(phone, { variant: null, started_at: "2026-06-01T12:00:00.000Z" }),
    ];
    for (const call of calls) await callLog(env, phone).record(call);
    const [a1, b1, aSilence, aLater] = calls.map((c) => c.call_sid);
    const { jar } = await signIn();
    const list = async (query: Record<string, string>) => {
      const page = await fetchPage(`/dashboard/calls?${new URLSearchParams({ number: phone, ...query })}`, {
        cookie: jar.header(),
      });
      expect(page.status).toBe(200);
      return page.text();
    };

    const byVariant = await list({ variant: "a" });
    expect(sidsIn(byVariant)).toEqual([aLater, aSilence, a1]);
    expect(byVariant).toMatch(/<input id="variant" name="variant" type="search" value="a"/);
    expect(sidsIn(await list({ variant: "b" }))).toEqual([b1]);
    expect(
      sidsIn(await list({ variant: "a", from: "2026-06-01", to: "2026-06-02", end_reason: "completed" })),
    ).toEqual([a1]);
    expect(sidsIn(await list({ variant: "c" }))).toEqual([]);
    // No variant chosen: every call of the number.
    expect(sidsIn(await list({}))).toHaveLength(5);
  });

  it("shows a bad number filter at its field on Calls and Analytics, keeping the other filters", async () => {
    const { jar } = await signIn();
    for (const [path, kept] of [
      [
        "/dashboard/calls?number=12ab&variant=warm",
        /<input id="variant" name="variant" type="search" value="warm"/,
      ],
      [
        "/dashboard/analytics?number=12ab&from=2026-06-01&to=2026-06-07",
        /<input id="from" name="from" type="date" value="2026-06-01"/,
      ],
    ] as const) {
      const page = await fetchPage(path, { cookie: jar.header() });
      expect(page.status, path).toBe(400);
      const html = await page.text();
      expect(html, path).toContain('<form method="get"');
      expect(html, path).toMatch(
        /<input id="number" name="number" type="search" value="12ab"[^>]*aria-invalid="true" aria-describedby="number-error"/,
      );
      expect(html, path).toContain(
        '<p class="error" id="number-error">must contain only digits and + ( ) - . /</p>',
      );
      expect(html, path).toMatch(kept);
    }
  });
});
