import type { E164 } from "../src/config/phone-number.ts";
import { CreateConfigBody, type PhoneConfig, type PhoneSettings } from "../src/config/schema.ts";
import { settingsOf } from "../src/env.ts";
import {
  type EmbeddedWrite,
  EmbeddedConfigStore as StoreObject,
  writeConfigRow,
} from "../src/stores/embedded.ts";
import { WRITE_BARE_PHONE, WRITE_PHONE } from "./numbers.ts";
import type { OpInput } from "./worker-ops.ts";

/**
 * Issue 9: what a revision adds to a config write on the embedded store. Both operations are
 * the same RPC from the Worker to the store's Durable Object with the same settings:
 *   history on:  EmbeddedConfigStore.put, the production write (one SQLite transaction: read
 *                the row, compute changed_fields, insert the revision, upsert the row, drop
 *                revisions past CONFIG_HISTORY_LIMIT);
 *   history off: putWithoutHistory below, the same transaction without the revision and the
 *                retention delete (read the row, upsert it with the next version).
 */

/** The bench build's store object: production's, plus the write without history (bench/worker.ts exports it). */
export class EmbeddedConfigStore extends StoreObject {
  /** The production write minus its history: the baseline of the history-on row. */
  async putWithoutHistory(
    phone: string,
    settings: PhoneSettings,
    write: EmbeddedWrite,
  ): Promise<PhoneConfig> {
    return this.ctx.storage.transactionSync(() => {
      const sql = this.ctx.storage.sql;
      const existing = sql
        .exec<{ settings: string; created_at: string; version: number }>(
          "SELECT * FROM phone_configs WHERE phone_number = ?",
          phone,
        )
        .toArray()[0];
      // As put() does with the row it reads (fromRow), so only the history differs.
      if (existing) JSON.parse(existing.settings);
      const config: PhoneConfig = {
        phone_number: phone,
        ...settings,
        created_at: existing?.created_at ?? write.nowIso,
        updated_at: write.nowIso,
        version: (existing?.version ?? 0) + 1,
      };
      writeConfigRow(sql, config, settings);
      return config;
    });
  }
}

/** A bench number's settings by the admin API's create rules; `i` varies the greeting so every write changes a field. */
function settingsFor(phone: string, i: number): PhoneSettings {
  const { phone_number: _p, ...settings } = CreateConfigBody.parse({
    phone_number: phone,
    display_name: "Bench writes",
    conversation_mode: "turns",
    system_prompt: "You are a helpful assistant for a bench test. Answer briefly.",
    greeting: `Hello, caller ${i}.`,
    enable_recording: false,
  });
  return settings;
}

/** `history=on|off`: n writes to one number through the embedded store's Durable Object. */
async function configWrite(input: OpInput): Promise<void> {
  const history = input.query.get("history") ?? "on";
  if (history !== "on" && history !== "off") throw new Error(`history must be on or off, not "${history}"`);
  const namespace = input.env.EMBEDDED_STORE as unknown as DurableObjectNamespace<EmbeddedConfigStore>;
  // The instance the admin API writes to (src/stores/embedded.ts).
  const stub = namespace.get(namespace.idFromName("phone-configs"));
  const phone = (history === "on" ? WRITE_PHONE : WRITE_BARE_PHONE) as E164;
  const write: EmbeddedWrite = {
    nowIso: new Date().toISOString(),
    change: { actor: "bench", reason: "write latency" },
    historyLimit: settingsOf(input.env).CONFIG_HISTORY_LIMIT,
  };
  const payloads = [settingsFor(phone, 0), settingsFor(phone, 1)];
  for (let i = 0; i < input.n; i++) {
    const settings = payloads[i % 2] as PhoneSettings;
    if (history === "on") {
      const result = await stub.put(phone, settings, write);
      if (!result.ok) throw new Error(`the bench write to ${phone} met a conflict`);
    } else {
      await stub.putWithoutHistory(phone, settings, write);
    }
  }
}

export const HISTORY_OPERATIONS: Record<string, (input: OpInput) => Promise<void>> = {
  "config-write": configWrite,
};
