import { secureHeaders } from "hono/secure-headers";

/**
 * Headers for every HTML page (console and API docs): a Content-Security-Policy that lets a
 * page load scripts, styles, images, fonts and connections from the Worker's own origin only
 * (Workers Static Assets serve them), never be framed, and post forms nowhere else. No inline
 * script: data a page's script needs travels in `<script type="application/json">` blocks.
 */
export const pageHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", "data:"],
    fontSrc: ["'self'"],
    // 'self' covers ws:// and wss:// to the same host (CSP Level 3): the browser test call.
    connectSrc: ["'self'"],
    mediaSrc: ["'self'", "blob:"],
    workerSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'none'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
  // Same-origin assets only, so cross-origin isolation would add nothing but breakage.
  crossOriginEmbedderPolicy: false,
  referrerPolicy: "same-origin",
});
