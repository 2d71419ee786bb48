// Builds the library (tsc → dist/lib) and the self-contained CLI and plugin bundles (esbuild).
import { build } from "esbuild"
import { execFileSync } from "node:child_process"
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { cliEsmOptions, cliFastOptions, common as commonOptions, effectSubpathImports, fastPathNames, requireShim, SHEBANG, vendorOptions } from "./cliBundle.mjs"

const require = createRequire(import.meta.url)

rmSync("dist", { recursive: true, force: true })

const common = { ...commonOptions, format: "esm" }

// The fast paths `status` and `token` (one file each, named by content): the entry names them.
const fast = await build(cliFastOptions("dist"))

await Promise.all([
  // The CLI: a small entry (dist/cli.js) and chunks under dist/cli/ that each command loads.
  build(cliEsmOptions("dist", fastPathNames(fast.metafile, "dist"))),
  build(vendorOptions("dist")),
  // The plugin is two bundles: the entry, free of Effect/undici (importable on any Node, cheap to
  // load), and the runtime it imports on first use. Two plain bundles rather than code
  // splitting keep the entry one small file (the CLI's undici-named-exports plugin would also make
  // splitting work here, should the plugin ever need more chunks).
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
    banner: { js: requireShim },
    // Effect per module, not its whole barrel (as in the CLI): OpenClaw loads this on every run.
    plugins: [effectSubpathImports]
  })
])
writeFileSync("dist/cli.js", SHEBANG + readFileSync("dist/cli.js", "utf8"))
chmodSync("dist/cli.js", 0o755)

execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
  stdio: "inherit"
})
