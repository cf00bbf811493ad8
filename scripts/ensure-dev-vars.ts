import { copyFileSync, existsSync } from "node:fs";

// `npm run dev` must work on a fresh clone: the local admin key and development mode come
// from .dev.vars, which is never committed, so start one from the example.
if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log(
    "Created .dev.vars from .dev.vars.example (local development settings; edit it to add secrets).",
  );
}
