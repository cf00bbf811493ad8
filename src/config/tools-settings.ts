import { AppError } from "../errors.ts";
import { layersOf, type RoutingShape } from "./routing-check.ts";
import { checkTools, type ToolConfig, type ToolRules } from "./tools.ts";

/**
 * A config's `tools` can sit in four places: the base settings, `variants[i].settings`,
 * `schedule.after_hours.settings` and `caller_rules[i].settings` (an override replaces the
 * base list as a whole). The checks that need the Worker's settings (tools.ts checkTools) must
 * hold in each, so every write (POST, PUT, import, the console) goes through this one function.
 */

type Settings = RoutingShape & { tools?: ToolConfig[] | undefined };

/**
 * `settings` (a full config or a PUT's partial one, already parsed) with every `tools` list
 * prepared: https outside development, transfer targets as E.164. Returns a copy; `settings`
 * is left as it was.
 * Throws AppError VALIDATION_ERROR whose details name each list's full path
 * (`variants.0.settings.tools.0.url`) and rule (`https`, `e164_or_sip`, `e164`).
 */
export function prepareSettingsTools<T extends Settings>(settings: T, rules: ToolRules): T {
  const out = structuredClone(settings);
  const places: { path: (string | number)[]; label: string; holder: { tools?: unknown } }[] = [
    { path: [], label: "", holder: out },
    ...layersOf(out).flatMap((layers) =>
      layers.map((l) => ({ path: l.path, label: `${l.label}: `, holder: l.settings })),
    ),
  ];
  const details = places.flatMap(({ path, label, holder }) => {
    if (!Array.isArray(holder.tools)) return [];
    const checked = checkTools(holder.tools as ToolConfig[], rules, {
      path: [...path, "tools"].join("."),
      label,
    });
    holder.tools = checked.tools;
    return checked.details;
  });
  if (details.length > 0) {
    throw new AppError("VALIDATION_ERROR", `Invalid tools: ${details.map((d) => d.message).join("; ")}`, {
      details,
    });
  }
  return out;
}
