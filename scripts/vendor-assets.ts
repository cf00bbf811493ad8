import { copyFileSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Copies the browser files of pinned npm packages (package.json) into assets/vendor/, which
 * Workers Static Assets serves from the Worker's own origin: the docs and the console load no
 * script or style from anywhere else. Run before dev, test, bench and deploy; the copies are
 * not committed (.gitignore), so the version in package-lock.json is the only one.
 */

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** package → the files it ships that pages load, copied to assets/vendor/<package>/<basename>. */
export const VENDOR_FILES: Record<string, string[]> = {
  "swagger-ui-dist": ["swagger-ui-bundle.js", "swagger-ui.css"],
  "chart.js": ["dist/chart.umd.min.js"],
};

export function vendorAssets(root = ROOT): string[] {
  const written: string[] = [];
  for (const [name, files] of Object.entries(VENDOR_FILES)) {
    // npm installs dependencies flat, and some packages do not export their package.json.
    const packageDir = join(root, "node_modules", name);
    const target = join(root, "assets", "vendor", name);
    mkdirSync(target, { recursive: true });
    for (const file of files) {
      const from = join(packageDir, file);
      const to = join(target, file.split("/").pop() ?? file);
      const source = statSync(from);
      const copied = statSync(to, { throwIfNoEntry: false });
      // Unchanged files are left alone, so `wrangler dev` does not reload for nothing.
      if (copied?.size === source.size && copied.mtimeMs >= source.mtimeMs) continue;
      copyFileSync(from, to);
      written.push(to);
    }
  }
  return written;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const written = vendorAssets();
  if (written.length) console.log(`vendor-assets: copied ${written.length} file(s) into assets/vendor/`);
}
