import type { z } from "@hono/zod-openapi";

/**
 * "The merged result is validated exactly like a full config": every combination a call can
 * meet (after-hours settings or not, × each answering caller rule or none, × each variant or
 * none) is merged onto the base in resolution order and run through the full config's checks.
 * A problem is reported once, for the smallest combination showing it, on its most specific layer, with a message naming every
 * layer of the combination (`variant "b" with caller rule "uk": voice ...`). At most
 * 2 × 21 × 6 = 252 merges, on admin writes only.
 */

type Overrides = Record<string, unknown>;

/** One routing layer's override settings, where they sit and how messages name them. */
export interface Layer {
  key: string;
  label: string;
  path: (string | number)[];
  settings: Overrides;
}

export interface RoutingShape {
  variants?: { name: string; settings: Overrides }[] | undefined;
  schedule?: { after_hours: { settings: Overrides } | { action: "forward"; to: string } } | null | undefined;
  caller_rules?: { name: string; action: string; settings?: Overrides | undefined }[] | undefined;
}

/**
 * The layers of each kind, in resolution order (schedule, caller rule, variant); tools-settings.ts
 * walks them too, so both agree on where overrides can sit.
 */
export function layersOf(s: RoutingShape): Layer[][] {
  const afterHours = s.schedule?.after_hours;
  return [
    afterHours && "settings" in afterHours
      ? [
          {
            key: "after_hours",
            label: "after hours",
            path: ["schedule", "after_hours", "settings"],
            settings: afterHours.settings,
          },
        ]
      : [],
    (s.caller_rules ?? []).flatMap((r, i) =>
      r.action === "answer" && r.settings
        ? [
            {
              key: `rule:${i}`,
              label: `caller rule "${r.name}"`,
              path: ["caller_rules", i, "settings"],
              settings: r.settings,
            },
          ]
        : [],
    ),
    (s.variants ?? []).map((v, i) => ({
      key: `variant:${i}`,
      label: `variant "${v.name}"`,
      path: ["variants", i, "settings"],
      settings: v.settings,
    })),
  ];
}

/** Each choice of at most one layer per kind, smallest combinations first. */
function combinations(kinds: Layer[][]): Layer[][] {
  let combos: Layer[][] = [[]];
  for (const layers of kinds) combos = combos.flatMap((c) => [c, ...layers.map((l) => [...c, l])]);
  return combos.filter((c) => c.length > 0).sort((a, b) => a.length - b.length);
}

const keyOf = (combo: Layer[]) => combo.map((l) => l.key).join("+");
const issueKey = (issue: z.core.$ZodIssue) => `${issue.path.join(".")}:${issue.message}`;

/**
 * Adds an issue to `ctx` for each layer combination whose merge onto `base` fails `validate`
 * (which returns the zod issues of a full-config parse). Skipped when the base itself fails:
 * that is reported by the base's own checks.
 */
export function checkRoutingLayers(
  base: RoutingShape & Overrides,
  validate: (merged: Overrides) => z.core.$ZodIssue[],
  ctx: z.RefinementCtx,
): void {
  const kinds = layersOf(base);
  if (kinds.every((k) => k.length === 0) || validate(base).length > 0) return;
  // What each combination reported: a larger one repeats none of its parts' problems.
  const reported = new Map<string, Set<string>>();
  for (const combo of combinations(kinds)) {
    const parts = combinations(combo.map((l) => [l])).filter((c) => c.length < combo.length);
    const seen = new Set(parts.flatMap((c) => [...(reported.get(keyOf(c)) ?? [])]));
    const merged: Overrides = Object.assign({}, base, ...combo.map((l) => l.settings));
    const issues = validate(merged).filter((i) => !seen.has(issueKey(i)));
    reported.set(keyOf(combo), new Set([...seen, ...issues.map(issueKey)]));
    if (issues.length === 0) continue;
    const last = combo[combo.length - 1] as Layer;
    const [first, ...rest] = [...combo].reverse().map((l) => l.label);
    const context = rest.length ? `${first} with ${rest.join(" and ")}` : first;
    for (const issue of issues) {
      ctx.addIssue({
        code: "custom",
        path: [...last.path, ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))],
        message: `${context}: ${issue.message}`,
      });
    }
  }
}
