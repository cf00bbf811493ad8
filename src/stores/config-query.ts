import { type PhoneConfig, type PhoneSettings, SETTING_DEFAULTS } from "../config/schema.ts";

/**
 * One page of phone configs, filtered, sorted and counted inside the store (SQL in the embedded
 * store, an aggregation pipeline in the MongoDB ones), so a list view reads the rows it shows
 * and not every document. Every backend answers a ConfigQuery the same way; the conformance
 * suite (test/integration/store-query-conformance.ts) holds them to it.
 */

/** Fields a page can be sorted by; ties are broken by phone_number, ascending. */
export const CONFIG_SORT_FIELDS = ["phone_number", "display_name", "updated_at"] as const;
export type ConfigSortField = (typeof CONFIG_SORT_FIELDS)[number];

/** Rows a page may hold at most (a larger `limit` is a caller's bug, not a request to honour). */
export const MAX_PAGE_LIMIT = 500;

export interface ConfigQuery {
  /**
   * Text found case-insensitively in `display_name`, or, by its digits alone, in `phone_number`
   * ("555 0100" finds +14155550100). Empty or absent: no text filter.
   */
  search?: string | undefined;
  /** true: active numbers only; false: inactive only; absent: both. */
  active?: boolean | undefined;
  mode?: PhoneSettings["conversation_mode"] | undefined;
  /** Default: phone_number ascending. */
  sort?: { field: ConfigSortField; direction: "asc" | "desc" } | undefined;
  /** Matching documents to skip (≥ 0). */
  offset: number;
  /** Documents to return, 1 to MAX_PAGE_LIMIT. */
  limit: number;
}

export interface ConfigPage {
  /** Every document matching the filters, whatever the offset and limit. */
  total: number;
  /** At most `limit` documents, from `offset`, in the query's order. */
  configs: PhoneConfig[];
}

/** The search text as the stores match it: lower-cased for names, digits only for numbers. */
export function searchTerms(search: string | undefined): { name: string; digits: string } | null {
  const text = (search ?? "").trim();
  if (!text) return null;
  return { name: foldName(text), digits: text.replace(/\D/g, "") };
}

/** How a display name is compared when searched (the embedded store keeps it in a column). */
export const foldName = (name: string) => name.toLowerCase();

/**
 * Throws a RangeError for an offset or limit out of bounds: the stores never see a request a
 * route failed to validate (MongoDB itself refuses a negative $skip or a $limit of 0).
 */
export function assertPageBounds(query: ConfigQuery): void {
  if (!Number.isInteger(query.offset) || query.offset < 0) {
    throw new RangeError(`offset must be an integer ≥ 0, got ${query.offset}`);
  }
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_PAGE_LIMIT) {
    throw new RangeError(`limit must be an integer from 1 to ${MAX_PAGE_LIMIT}, got ${query.limit}`);
  }
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Equality that also matches a document without the field when `value` is the field's default:
 * documents written before a setting existed read as its default (src/stores/document.ts).
 */
function equalOrDefault<K extends "is_active" | "conversation_mode">(field: K, value: PhoneSettings[K]) {
  return value === SETTING_DEFAULTS[field] ? { $in: [value, null] } : value;
}

/** The `$match` filter of a query, for the MongoDB stores. */
export function mongoConfigFilter(query: ConfigQuery): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  if (query.active !== undefined) filter.is_active = equalOrDefault("is_active", query.active);
  if (query.mode !== undefined) filter.conversation_mode = equalOrDefault("conversation_mode", query.mode);
  const terms = searchTerms(query.search);
  if (terms) {
    filter.$or = [
      { display_name: { $regex: escapeRegex(terms.name), $options: "i" } },
      ...(terms.digits ? [{ phone_number: { $regex: terms.digits } }] : []),
    ];
  }
  return filter;
}

/**
 * The aggregation pipeline of a query for the MongoDB stores: one round trip answers both the
 * page and the total, as a single document `{ total: [{ n }] | [], page: [...] }`.
 */
export function mongoConfigPipeline(query: ConfigQuery): Record<string, unknown>[] {
  assertPageBounds(query);
  const sort = query.sort ?? { field: "phone_number", direction: "asc" };
  const direction = sort.direction === "desc" ? -1 : 1;
  return [
    { $match: mongoConfigFilter(query) },
    {
      $facet: {
        total: [{ $count: "n" }],
        page: [
          {
            $sort:
              sort.field === "phone_number"
                ? { phone_number: direction }
                : { [sort.field]: direction, phone_number: 1 },
          },
          { $skip: query.offset },
          { $limit: query.limit },
          { $project: { _id: 0 } },
        ],
      },
    },
  ];
}

/** The single document a mongoConfigPipeline answers with, as counted documents. */
export function pageFromFacet(
  result: Record<string, unknown>[],
  toConfig: (doc: Record<string, unknown>) => PhoneConfig,
): ConfigPage {
  const facet = result[0] ?? {};
  const total = (facet.total as { n?: unknown }[] | undefined)?.[0]?.n;
  return {
    total: typeof total === "number" ? total : 0,
    configs: ((facet.page as Record<string, unknown>[] | undefined) ?? []).map(toConfig),
  };
}
