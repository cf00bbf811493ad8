import { Hono } from "hono";
import { notFound, phoneOf } from "../../config/service.ts";
import { AppError } from "../../errors.ts";
import { DEFAULT_KEY_NAME } from "../../http/admin-keys.ts";
import { diffSettings, type FieldChange, settingsOf } from "../../stores/revision.ts";
import { Csrf, Layout, Notice } from "./layout.tsx";
import { numberPath } from "./numbers.tsx";
import type { DashboardEnv } from "./types.ts";

/**
 * A number's history: its versions with actor and reason, a side-by-side diff of any two, and
 * rollback in one click. The rollback is conditional (If-Match on the version the page showed),
 * so an edit made meanwhile is never silently undone: the page says what happened instead.
 */

const HISTORY_PAGE = 50;

const show = (value: unknown) =>
  value === null || value === undefined
    ? "(none)"
    : typeof value === "string"
      ? value
      : JSON.stringify(value, null, 2);

function Diff({ changes, from, to }: { changes: FieldChange[]; from: number; to: number }) {
  if (changes.length === 0)
    return (
      <p class="hint">
        Versions {from} and {to} have the same settings.
      </p>
    );
  return (
    <div class="table-wrap">
      <table class="diff">
        <caption class="sub">
          Version {from} → version {to}
        </caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Version {from}</th>
            <th scope="col">Version {to}</th>
          </tr>
        </thead>
        <tbody>
          {changes.map((c) => (
            <tr>
              <th scope="row">{c.field}</th>
              <td class="removed">
                <pre>{show(c.from)}</pre>
              </td>
              <td class="added">
                <pre>{show(c.to)}</pre>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function historyPages(): Hono<DashboardEnv> {
  const app = new Hono<DashboardEnv>();

  app.get("/:phone/history", async (c) => {
    const { services } = c.var;
    const phone = phoneOf(services, c.req.param("phone"));
    const current = await services.store.get(phone);
    if (!current) throw notFound(phone);
    const page = await services.changes.revisions(phone, { limit: HISTORY_PAGE });
    const to = Number(c.req.query("to") ?? current.version);
    const from = Number(c.req.query("from") ?? Math.max(1, to - 1));
    let diff: { from: number; to: number; changes: FieldChange[] } | null = null;
    let diffError: string | undefined;
    if (page.total > 0 && Number.isInteger(from) && Number.isInteger(to)) {
      try {
        const [older, newer] = await Promise.all([
          services.changes.revision(phone, from),
          services.changes.revision(phone, to),
        ]);
        diff = { from, to, changes: diffSettings(settingsOf(older.config), settingsOf(newer.config)) };
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== "NOT_FOUND") throw err;
        diffError = err.message;
      }
    }
    const flash = c.req.query("done");
    const csrf = c.var.session.csrf;
    return c.html(
      <Layout title={`History of ${current.display_name}`} section="numbers" csrf={csrf}>
        <h1>
          History <span class="sub">{current.phone_number}</span>
        </h1>
        <p>
          <a href={numberPath(phone)}>Back to {current.display_name}</a> · current version {current.version}
        </p>
        {flash && <Notice kind="ok">{flash}</Notice>}
        {page.total === 0 ? (
          <p class="hint">No versions kept yet: the next change starts the history.</p>
        ) : (
          <>
            <form method="get" action={`${numberPath(phone)}/history`} class="filters">
              <div class="field">
                <label for="from">Compare version</label>
                <select id="from" name="from">
                  {page.versions.map((v) => (
                    <option value={String(v.version)} selected={v.version === from}>
                      {v.version}
                    </option>
                  ))}
                </select>
              </div>
              <div class="field">
                <label for="to">with version</label>
                <select id="to" name="to">
                  {page.versions.map((v) => (
                    <option value={String(v.version)} selected={v.version === to}>
                      {v.version}
                    </option>
                  ))}
                </select>
              </div>
              <button type="submit">Compare</button>
            </form>
            {diffError && <Notice kind="error">{diffError}</Notice>}
            {diff && <Diff {...diff} />}
            <h2>Versions</h2>
            <div class="table-wrap">
              <table class="versions">
                <thead>
                  <tr>
                    <th scope="col">Version</th>
                    <th scope="col">Written (UTC)</th>
                    <th scope="col">By</th>
                    <th scope="col">Reason</th>
                    <th scope="col">Changed</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {page.versions.map((v) => (
                    <tr>
                      <td>
                        {v.version}
                        {v.version === current.version && <span class="badge ok"> current</span>}
                      </td>
                      <td>
                        <time datetime={v.written_at}>{v.written_at.slice(0, 19).replace("T", " ")}</time>
                      </td>
                      <td>{v.actor}</td>
                      <td>{v.reason ?? ""}</td>
                      <td>{v.changed_fields.join(", ")}</td>
                      <td>
                        <a href={`${numberPath(phone)}/history?from=${v.version}&to=${current.version}`}>
                          Diff with current
                        </a>
                        {v.version !== current.version && (
                          <form method="post" action={`${numberPath(phone)}/rollback`} class="inline">
                            <Csrf token={csrf} />
                            <input type="hidden" name="version" value={String(v.version)} />
                            <input type="hidden" name="if_match" value={String(current.version)} />
                            <button
                              type="submit"
                              class="secondary"
                              aria-label={`Roll back to version ${v.version}`}
                            >
                              Roll back
                            </button>
                          </form>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {page.total > page.versions.length && (
              <p class="hint">
                The newest {page.versions.length} of {page.total} kept versions.
              </p>
            )}
          </>
        )}
      </Layout>,
    );
  });

  /** One click: the settings of `version` written as a new version, if the number is still at `if_match`. */
  app.post("/:phone/rollback", async (c) => {
    const { services } = c.var;
    const phone = phoneOf(services, c.req.param("phone"));
    const form = await c.req.parseBody();
    const version = Number(form.version);
    const seen = Number(form.if_match);
    if (!Number.isInteger(version) || !Number.isInteger(seen)) {
      throw new AppError("VALIDATION_ERROR", "version and if_match must be whole numbers");
    }
    const history = `${numberPath(phone)}/history`;
    try {
      const { config, written } = await services.changes.rollback(
        phone,
        version,
        {
          actor: c.var.session.name ?? DEFAULT_KEY_NAME,
          reason: `rollback to version ${version} from the console`,
        },
        { ifMatch: { any: false, versions: [seen] } },
      );
      const done = written
        ? `Rolled back to version ${version}'s settings, saved as version ${config.version}.`
        : `Version ${version}'s settings are already current; nothing written.`;
      return c.redirect(`${history}?done=${encodeURIComponent(done)}`, 303);
    } catch (err) {
      if (err instanceof AppError && err.status === 412) {
        const done = `Not rolled back: the number changed since the page was shown (${err.message}). Check the diff and try again.`;
        return c.redirect(`${history}?done=${encodeURIComponent(done)}`, 303);
      }
      throw err;
    }
  });

  return app;
}
