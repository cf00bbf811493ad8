import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { seedSample } from "../../scripts/seed-sample.ts";

/** A stand-in admin API holding `numbers`; records every request as "METHOD path". */
async function adminApi(numbers: Set<string>): Promise<{ server: Server; baseUrl: string; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    seen.push(`${req.method} ${req.url}`);
    const send = (status: number, body: object) =>
      res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
    if (req.headers.authorization !== "Bearer k") return send(401, { error: { message: "bad key" } });
    if (req.method === "GET") {
      const phone = decodeURIComponent(req.url?.split("/").pop() ?? "");
      return numbers.has(phone) ? send(200, { success: true }) : send(404, { error: { message: "none" } });
    }
    let text = "";
    for await (const chunk of req) text += chunk;
    const phone = (JSON.parse(text) as { phone_number: string }).phone_number;
    const existed = numbers.has(phone);
    numbers.add(phone);
    send(existed ? 200 : 201, { message: `Configuration for ${phone} ${existed ? "replaced" : "created"}` });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

let running: Server | undefined;
afterEach(() => running?.close());

describe("npm run seed:sample", () => {
  it("creates a missing number, then leaves it as is on a second run", async () => {
    const api = await adminApi(new Set());
    running = api.server;
    const options = { baseUrl: api.baseUrl, adminKey: "k", phone: "+18668134984", replace: false };
    expect((await seedSample(options))[0]).toBe("Configuration for +18668134984 created");
    expect(await seedSample(options)).toEqual([
      "+18668134984 exists, left as is (npm run seed:sample -- --replace overwrites it)",
    ]);
    expect(api.seen.filter((r) => r.startsWith("POST"))).toHaveLength(1);
  });

  it("replaces an existing number only with --replace", async () => {
    const api = await adminApi(new Set(["+18668134984"]));
    running = api.server;
    const lines = await seedSample({
      baseUrl: api.baseUrl,
      adminKey: "k",
      phone: "+18668134984",
      replace: true,
    });
    expect(lines[0]).toBe("Configuration for +18668134984 replaced");
    expect(api.seen).toEqual(["POST /admin/phone-config"]);
  });

  it("reports the server's refusal", async () => {
    const api = await adminApi(new Set());
    running = api.server;
    await expect(
      seedSample({ baseUrl: api.baseUrl, adminKey: "wrong", phone: "+18668134984", replace: false }),
    ).rejects.toThrow("Failed (401): bad key");
  });
});
