import { Hono } from "hono";
import { configWarnings } from "../../config/models.ts";
import type { E164 } from "../../config/phone-number.ts";
import {
  CreateConfigBody,
  type PhoneConfig,
  SETTING_DEFAULTS,
  UpdateConfigBody,
} from "../../config/schema.ts";
import { notFound, phoneOf, removeConfig, saveConfig, updateConfig } from "../../config/service.ts";
import { findTemplate, listTemplates, type Template } from "../../config/templates.ts";
import { AppError, type ErrorDetail } from "../../errors.ts";
import { DEFAULT_KEY_NAME } from "../../http/admin-keys.ts";
import { issueDetails } from "../../http/validation.ts";
import type { ConfigPage, ConfigQuery } from "../../stores/store.ts";
import { ConfigForm } from "./config-form.tsx";
import { errorsByField, fieldSpecs, formToInput } from "./form.ts";
import { Csrf, Layout, Notice } from "./layout.tsx";
import type { DashboardEnv } from "./types.ts";

/**
 * Numbers: the list (search, filters, sort, pages: one store query, src/stores/config-query.ts,
 * reads the page shown and the count), create, edit every field, activate/deactivate,
 * hard delete with confirmation. Writes go through config/service.ts, as the admin API's do,
 * and a rejected write shows the schema's own message at the field it names.
 */

export const PAGE_SIZE = 50;
const CREATE_SPECS = fieldSpecs(CreateConfigBody.shape);
const EDIT_SPECS = fieldSpecs(UpdateConfigBody.shape);
const MODES = (CreateConfigBody.shape.conversation_mode.unwrap().options ?? []) as readonly string[];

export const numberPath = (phone: string) => `/dashboard/numbers/${encodeURIComponent(phone)}`;

/** The list's sort choices, as the form names them. */
const SORTS = {
  number: { label: "number", sort: { field: "phone_number", direction: "asc" } },
  name: { label: "name", sort: { field: "display_name", direction: "asc" } },
  updated: { label: "recently updated", sort: { field: "updated_at", direction: "desc" } },
} as const satisfies Record<string, { label: string; sort: ConfigQuery["sort"] }>;
type SortName = keyof typeof SORTS;

export interface NumberFilter {
  q: string;
  active: "all" | "active" | "inactive";
  mode: string;
  sort: SortName;
  page: number;
}

/** The list's query string, unknown or malformed values read as their defaults. */
export function parseFilter(query: Record<string, string>): NumberFilter {
  const active = query.active === "active" || query.active === "inactive" ? query.active : "all";
  const page = Math.max(1, Number.parseInt(query.page ?? "1", 10) || 1);
  return {
    q: (query.q ?? "").trim().slice(0, 200),
    active,
    mode: MODES.includes(query.mode ?? "") ? (query.mode ?? "") : "",
    sort: Object.hasOwn(SORTS, query.sort ?? "") ? (query.sort as SortName) : "number",
    page,
  };
}

/** One page of the list as a store query: `q` is found in the name, or by its digits in the number. */
export function configQuery(f: NumberFilter, page = f.page): ConfigQuery {
  return {
    search: f.q,
    ...(f.active !== "all" && { active: f.active === "active" }),
    ...(f.mode && { mode: f.mode as PhoneConfig["conversation_mode"] }),
    sort: SORTS[f.sort].sort,
    offset: (page - 1) * PAGE_SIZE,
    limit: PAGE_SIZE,
  };
}

function listQuery(f: NumberFilter, page: number): string {
  const params = new URLSearchParams();
  if (f.q) params.set("q", f.q);
  if (f.active !== "all") params.set("active", f.active);
  if (f.mode) params.set("mode", f.mode);
  if (f.sort !== "number") params.set("sort", f.sort);
  if (page > 1) params.set("page", String(page));
  const s = params.toString();
  return s ? `?${s}` : "";
}

function NumbersList({
  found,
  page,
  filter,
  csrf,
  flash,
}: {
  found: ConfigPage;
  /** the page shown (the last one when the filter asked for one past it) */
  page: number;
  filter: NumberFilter;
  csrf: string;
  flash?: string | undefined;
}) {
  const pages = Math.max(1, Math.ceil(found.total / PAGE_SIZE));
  const shown = found.configs;
  return (
    <Layout title="Numbers" section="numbers" csrf={csrf}>
      <div class="page-head">
        <h1>Numbers</h1>
        <a class="button" href="/dashboard/numbers/new">
          New number
        </a>
      </div>
      {flash && <Notice kind="ok">{flash}</Notice>}
      <form method="get" action="/dashboard/numbers" class="filters">
        <div class="field">
          <label for="q">Search</label>
          <input id="q" name="q" type="search" value={filter.q} placeholder="number or name" />
        </div>
        <div class="field">
          <label for="active">Status</label>
          <select id="active" name="active">
            {(["all", "active", "inactive"] as const).map((v) => (
              <option value={v} selected={filter.active === v}>
                {v}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="mode">Mode</label>
          <select id="mode" name="mode">
            <option value="" selected={!filter.mode}>
              any
            </option>
            {MODES.map((m) => (
              <option value={m} selected={filter.mode === m}>
                {m}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="sort">Sort by</label>
          <select id="sort" name="sort">
            {(Object.keys(SORTS) as SortName[]).map((name) => (
              <option value={name} selected={filter.sort === name}>
                {SORTS[name].label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">Filter</button>
      </form>
      <p class="count" aria-live="polite">
        {found.total === 0
          ? "No numbers match."
          : `${found.total.toLocaleString("en")} number${found.total === 1 ? "" : "s"}${pages > 1 ? `, page ${page} of ${pages}` : ""}`}
      </p>
      {shown.length > 0 && (
        <div class="table-wrap">
          <table class="numbers">
            <thead>
              <tr>
                <th scope="col">Number</th>
                <th scope="col">Name</th>
                <th scope="col">Mode</th>
                <th scope="col">Model</th>
                <th scope="col">Status</th>
                <th scope="col">Version</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((c) => (
                <tr>
                  <td>
                    <a href={numberPath(c.phone_number)}>{c.phone_number}</a>
                  </td>
                  <td>{c.display_name}</td>
                  <td>{c.conversation_mode}</td>
                  <td>{c.inference_model}</td>
                  <td>
                    <span class={c.is_active ? "badge ok" : "badge off"}>
                      {c.is_active ? "active" : "inactive"}
                    </span>
                  </td>
                  <td>{c.version}</td>
                  <td>
                    <time datetime={c.updated_at}>{c.updated_at.slice(0, 16).replace("T", " ")}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {pages > 1 && (
        <nav class="pager" aria-label="Pages">
          {page > 1 && <a href={`/dashboard/numbers${listQuery(filter, page - 1)}`}>Previous</a>}
          {page < pages && <a href={`/dashboard/numbers${listQuery(filter, page + 1)}`}>Next</a>}
        </nav>
      )}
    </Layout>
  );
}

function NewNumber({
  csrf,
  values,
  errors,
  templates = [],
  template,
}: {
  csrf: string;
  values: Record<string, unknown>;
  errors: Record<string, string>;
  templates?: Template[];
  template?: string | undefined;
}) {
  return (
    <Layout title="New number" section="numbers" csrf={csrf}>
      <h1>New number</h1>
      {templates.length > 0 && (
        <form method="get" action="/dashboard/numbers/new" class="filters">
          <div class="field">
            <label for="template">Start from a template</label>
            <select id="template" name="template">
              <option value="" selected={!template}>
                none (the defaults)
              </option>
              {templates.map((t) => (
                <option value={t.name} selected={t.name === template}>
                  {`${t.name}: ${t.description}`}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" class="secondary">
            Use template
          </button>
        </form>
      )}
      <ConfigForm
        action="/dashboard/numbers"
        csrf={csrf}
        specs={CREATE_SPECS}
        values={values}
        errors={errors}
        submit="Create number"
        hidden={template ? { template } : {}}
      />
    </Layout>
  );
}

function EditNumber({
  config,
  csrf,
  values,
  errors,
  flash,
}: {
  config: PhoneConfig;
  csrf: string;
  values: Record<string, unknown>;
  errors: Record<string, string>;
  flash?: string | undefined;
}) {
  const path = numberPath(config.phone_number);
  return (
    <Layout title={config.display_name} section="numbers" csrf={csrf}>
      <div class="page-head">
        <h1>
          {config.display_name} <span class="sub">{config.phone_number}</span>
        </h1>
        <span class={config.is_active ? "badge ok" : "badge off"}>
          {config.is_active ? "active" : "inactive"}
        </span>
      </div>
      {flash && <Notice kind="ok">{flash}</Notice>}
      {configWarnings(config, ["inference_model"]).map((w) => (
        <Notice kind="error">{w.message}</Notice>
      ))}
      <p class="meta">
        Version {config.version}, updated <time datetime={config.updated_at}>{config.updated_at}</time>.{" "}
        <a href={`/dashboard/calls?number=${encodeURIComponent(config.phone_number)}`}>
          Calls to this number
        </a>
        {" · "}
        <a href={`/dashboard/analytics?number=${encodeURIComponent(config.phone_number)}`}>Analytics</a>
      </p>
      <div class="row-actions">
        <form method="post" action={`${path}/${config.is_active ? "deactivate" : "activate"}`}>
          <Csrf token={csrf} />
          <button type="submit" class="secondary">
            {config.is_active ? "Deactivate" : "Activate"}
          </button>
        </form>
        <a class="button secondary" href={`${path}/history`}>
          History
        </a>
        <a class="button" href={`${path}/test-call`}>
          Talk to this number
        </a>
        <a class="button danger" href={`${path}/delete`}>
          Delete…
        </a>
      </div>
      <ConfigForm
        action={path}
        csrf={csrf}
        specs={EDIT_SPECS}
        values={values}
        errors={errors}
        submit="Save changes"
        readOnly={["phone_number"]}
      />
    </Layout>
  );
}

function ConfirmDelete({ config, csrf, error }: { config: PhoneConfig; csrf: string; error?: string }) {
  const path = numberPath(config.phone_number);
  return (
    <Layout title={`Delete ${config.phone_number}`} section="numbers" csrf={csrf}>
      <h1>Delete {config.phone_number}?</h1>
      <p>
        This permanently deletes the configuration of <strong>{config.display_name}</strong>. Calls to this
        number will get the defaults. To stop answering with it but keep it, deactivate it instead.
      </p>
      <form method="post" action={`${path}/delete`} class="confirm">
        <Csrf token={csrf} />
        <div class="field">
          <label for="confirm">Type the number to confirm</label>
          <input
            id="confirm"
            name="confirm"
            type="text"
            autocomplete="off"
            required
            aria-describedby={error ? "confirm-error" : undefined}
            aria-invalid={error ? "true" : undefined}
          />
          {error && (
            <p class="error" id="confirm-error">
              {error}
            </p>
          )}
        </div>
        <div class="actions">
          <button type="submit" class="danger">
            Delete permanently
          </button>
          <a class="button secondary" href={path}>
            Cancel
          </a>
        </div>
      </form>
    </Layout>
  );
}

const formOf = async (c: { req: { parseBody(): Promise<Record<string, string | File>> } }) =>
  c.req.parseBody();

/** Validation failures as per-field messages; anything else is rethrown for the error page. */
function detailsOf(err: unknown): ErrorDetail[] {
  if (err instanceof AppError && (err.code === "VALIDATION_ERROR" || err.code === "INVALID_PHONE_NUMBER")) {
    return err.details.length ? err.details : [{ message: err.message }];
  }
  if (err instanceof AppError && err.code === "CONFLICT") return [{ message: err.message }];
  throw err;
}

export function numbersPages(): Hono<DashboardEnv> {
  const app = new Hono<DashboardEnv>();
  const ctx = (c: { var: DashboardEnv["Variables"] }) => ({
    via: "console" as const,
    change: { actor: c.var.session.name ?? DEFAULT_KEY_NAME },
  });

  app.get("/", async (c) => {
    const { store } = c.var.services;
    const filter = parseFilter(c.req.query());
    let found = await store.query(configQuery(filter));
    let page = filter.page;
    const pages = Math.max(1, Math.ceil(found.total / PAGE_SIZE));
    // A page past the end (a link kept after deletes) shows the last one.
    if (page > pages) {
      page = pages;
      found = await store.query(configQuery(filter, page));
    }
    return c.html(
      <NumbersList
        found={found}
        page={page}
        filter={filter}
        csrf={c.var.session.csrf}
        flash={c.req.query("done")}
      />,
    );
  });

  app.get("/new", async (c) => {
    const templates = await listTemplates(c.var.services.store);
    const chosen = templates.find((t) => t.name === c.req.query("template"));
    return c.html(
      <NewNumber
        csrf={c.var.session.csrf}
        values={{ ...SETTING_DEFAULTS, ...chosen?.settings }}
        errors={{}}
        templates={templates}
        template={chosen?.name}
      />,
    );
  });

  app.post("/", async (c) => {
    const form = await formOf(c);
    const { input, errors } = formToInput(CREATE_SPECS, form);
    let details: ErrorDetail[] = errors;
    if (details.length === 0) {
      const parsed = CreateConfigBody.safeParse(input);
      if (parsed.success) {
        try {
          // The revision records the template the number started from.
          const template =
            typeof form.template === "string"
              ? await findTemplate(c.var.services.store, form.template)
              : null;
          const context = ctx(c);
          const { config } = await saveConfig(c.var.services, parsed.data, {
            ...context,
            change: { ...context.change, ...(template && { template: template.name }) },
          });
          return c.redirect(
            `${numberPath(config.phone_number)}?done=${encodeURIComponent("Number saved.")}`,
            303,
          );
        } catch (err) {
          details = detailsOf(err);
        }
      } else details = issueDetails(parsed.error);
    }
    c.status(400);
    return c.html(
      <NewNumber
        csrf={c.var.session.csrf}
        values={{ ...form, ...input }}
        errors={errorsByField(details)}
        template={typeof form.template === "string" ? form.template : undefined}
      />,
    );
  });

  const load = async (c: { var: DashboardEnv["Variables"]; req: { param(name: "phone"): string } }) => {
    const phone = phoneOf(c.var.services, c.req.param("phone"));
    const config = await c.var.services.store.get(phone);
    if (!config) throw notFound(phone);
    return config;
  };

  app.get("/:phone", async (c) => {
    const config = await load(c);
    return c.html(
      <EditNumber
        config={config}
        csrf={c.var.session.csrf}
        values={config}
        errors={{}}
        flash={c.req.query("done")}
      />,
    );
  });

  app.post("/:phone", async (c) => {
    const config = await load(c);
    const form = await formOf(c);
    const { input, errors } = formToInput(EDIT_SPECS, form);
    let details: ErrorDetail[] = errors;
    if (details.length === 0) {
      const parsed = UpdateConfigBody.safeParse(input);
      if (parsed.success) {
        try {
          await updateConfig(c.var.services, config.phone_number as E164, parsed.data, ctx(c));
          return c.redirect(
            `${numberPath(config.phone_number)}?done=${encodeURIComponent("Changes saved.")}`,
            303,
          );
        } catch (err) {
          details = detailsOf(err);
        }
      } else details = issueDetails(parsed.error);
    }
    c.status(400);
    return c.html(
      <EditNumber
        config={config}
        csrf={c.var.session.csrf}
        values={{ ...form, ...input, phone_number: config.phone_number }}
        errors={errorsByField(details)}
      />,
    );
  });

  for (const action of ["activate", "deactivate"] as const) {
    app.post(`/:phone/${action}`, async (c) => {
      const config = await load(c);
      const phone = config.phone_number as E164;
      if (action === "activate") await updateConfig(c.var.services, phone, { is_active: true }, ctx(c));
      else await removeConfig(c.var.services, phone, false, ctx(c));
      const done =
        action === "activate" ? "Number activated." : "Number deactivated: calls get the defaults.";
      return c.redirect(`${numberPath(phone)}?done=${encodeURIComponent(done)}`, 303);
    });
  }

  app.get("/:phone/delete", async (c) =>
    c.html(<ConfirmDelete config={await load(c)} csrf={c.var.session.csrf} />),
  );

  app.post("/:phone/delete", async (c) => {
    const config = await load(c);
    const form = await formOf(c);
    const typed = typeof form.confirm === "string" ? form.confirm : "";
    let confirmed = false;
    try {
      confirmed = phoneOf(c.var.services, typed) === config.phone_number;
    } catch {
      // Not a phone number at all: not a confirmation either.
    }
    if (!confirmed) {
      c.status(400);
      return c.html(
        <ConfirmDelete
          config={config}
          csrf={c.var.session.csrf}
          error={`type ${config.phone_number} to confirm; nothing was deleted`}
        />,
      );
    }
    await removeConfig(c.var.services, config.phone_number as E164, true, ctx(c));
    return c.redirect(
      `/dashboard/numbers?done=${encodeURIComponent(`${config.phone_number} deleted.`)}`,
      303,
    );
  });

  return app;
}
