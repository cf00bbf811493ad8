import type { Child } from "hono/jsx";

/** The console's page frame: skip link, navigation, sign-out, and the page's own content. */

export type Section = "numbers" | "calls" | "analytics" | "docs" | "sign-in";

export interface LayoutProps {
  title: string;
  section: Section;
  /** the session's CSRF token; absent on the sign-in page (no navigation, no sign-out) */
  csrf?: string | undefined;
  /** extra scripts (static assets) the page needs, loaded after the console's own */
  scripts?: string[];
  children?: Child;
}

const NAV: { section: Section; href: string; label: string }[] = [
  { section: "numbers", href: "/dashboard/numbers", label: "Numbers" },
  { section: "calls", href: "/dashboard/calls", label: "Calls" },
  { section: "analytics", href: "/dashboard/analytics", label: "Analytics" },
];

export function Layout({ title, section, csrf, scripts = [], children }: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · Voice agent console`}</title>
        <link rel="stylesheet" href="/console/console.css" />
        <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href="/dashboard">
            Voice agent
          </a>
          {csrf !== undefined && (
            <nav aria-label="Console">
              <ul>
                {NAV.map((n) => (
                  <li>
                    <a href={n.href} aria-current={n.section === section ? "page" : undefined}>
                      {n.label}
                    </a>
                  </li>
                ))}
                <li>
                  <a href="/docs">API docs</a>
                </li>
              </ul>
            </nav>
          )}
          {csrf !== undefined && (
            <form method="post" action="/dashboard/sign-out" class="sign-out">
              <input type="hidden" name="_csrf" value={csrf} />
              <button type="submit" class="secondary">
                Sign out
              </button>
            </form>
          )}
        </header>
        <main id="main" tabindex={-1}>
          {children}
        </main>
        <script src="/console/console.js" defer />
        {scripts.map((src) => (
          <script src={src} defer />
        ))}
      </body>
    </html>
  );
}

/** The hidden field every console form carries. */
export function Csrf({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />;
}

/** A message at the top of a page: what just happened, or what went wrong. */
export function Notice({ kind, children }: { kind: "ok" | "error"; children?: Child }) {
  return (
    <div class={`notice ${kind}`} role={kind === "error" ? "alert" : "status"}>
      {children}
    </div>
  );
}
