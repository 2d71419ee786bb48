// Builds the library (tsc → dist/lib) and the self-contained CLI and plugin bundles (esbuild).
import { build } from "esbuild"
import { execFileSync } from "node:child_process"
import { chmodSync, readFileSync, rmSync } from "node:fs"
import { createRequire } from "node:module"

const require = createRequire(import.meta.url)
const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))

rmSync("dist", { recursive: true, force: true })

// Bundled ESM still meets CommonJS dependencies (proper-lockfile) that call require().
const requireShim = "import { createRequire as __qwenCreateRequire } from 'node:module';" +
  "const require = __qwenCreateRequire(import.meta.url);"

const common = {
  bundle: true,
  platform: "node",
  target: "node22",
  format: "esm",
  minify: true,
  legalComments: "none",
  define: { __QWEN_AUTH_VERSION__: JSON.stringify(pkg.version) },
  logLevel: "warning"
}

await Promise.all([
  build({
    ...common,
    entryPoints: ["src/cli/main.ts"],
    outfile: "dist/cli.js",
    banner: { js: `#!/usr/bin/env node\n${requireShim}` }
  }),
  // The plugin is two bundles: the entry, free of Effect/undici (importable on any Node, cheap to
  // load), and the runtime it imports on first use. Not esbuild's code splitting: it drops the
  // CommonJS re-exports of the dynamically imported undici wrapper (`Agent` went missing).
  build({
    ...common,
    entryPoints: ["src/plugin/openclaw.ts"],
    outfile: "dist/openclaw-plugin.js",
    plugins: [{
      name: "plugin-runtime-external",
      setup(b) {
        b.onResolve({ filter: /^\.\/Runtime\.ts$/ }, () => ({ path: "./openclaw-plugin/runtime.js", external: true }))
      }
    }]
  }),
  build({
    ...common,
    entryPoints: ["src/plugin/Runtime.ts"],
    outfile: "dist/openclaw-plugin/runtime.js",
    banner: { js: requireShim }
  })
])
chmodSync("dist/cli.js", 0o755)

execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
  stdio: "inherit"
})
