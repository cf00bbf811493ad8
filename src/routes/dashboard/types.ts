import type { ConsoleSession } from "../../http/console-session.ts";
import type { AppEnv } from "../../http/types.ts";

/** The console's Hono environment: the app's, plus the signed-in session. */
export interface DashboardEnv {
  Bindings: AppEnv["Bindings"];
  Variables: AppEnv["Variables"] & { session: ConsoleSession };
}
