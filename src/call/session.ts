import { DurableObject } from "cloudflare:workers";

/** One call's state, named by CallSid. */
export class CallSession extends DurableObject<Env> {}
