import { DurableObject } from "cloudflare:workers";

/** Holds the official MongoDB driver's client across requests (issue 5). */
export class MongoConfigStore extends DurableObject<Env> {}
