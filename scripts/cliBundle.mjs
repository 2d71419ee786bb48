// esbuild options for the CLI bundles (scripts/build.mjs; start-up is benchmarked,
// docs/benchmarks.md).
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))

// Bundled ESM still meets CommonJS dependencies (proper-lockfile, undici) that call require().
export const requireShim = "import { createRequire as __qwenCreateRequire } from 'node:module';" +
  "const require = __qwenCreateRequire(import.meta.url);"

export const common = {
  bundle: true,
  platform: "node",
  target: "node22",
  minify: true,
  legalComments: "none",
  define: { __QWEN_AUTH_VERSION__: JSON.stringify(pkg.version) },
  logLevel: "warning"
}

// effect/cli builds an Intl.Segmenter when its CliOutput module loads (ICU set-up, about 6 ms on
// the benchmark machine, a third of bare Node's start-up), though only help text ever measures
// widths. Build it on first use instead. If an effect upgrade changes that line, the build says
// so and ships the module unchanged.
const SEGMENTER = /const graphemeSegmenter = (\/\*#__PURE__\*\/)?new Intl\.Segmenter\((undefined, \{\s*granularity: "grapheme"\s*\})\);/
export const lazySegmenter = {
  name: "lazy-grapheme-segmenter",
  setup(b) {
    b.onLoad({ filter: /[\\/]effect[\\/]dist[\\/]cli[\\/]CliOutput\.js$/ }, (args) => {
      const source = readFileSync(args.path, "utf8")
      const match = SEGMENTER.exec(source)
      if (match === null) {
        return { contents: source, loader: "js", warnings: [{ text: "lazy-grapheme-segmenter: pattern not found; CliOutput left eager" }] }
      }
      const lazy = `let graphemeSegmenterInstance; const graphemeSegmenter = { segment: (text) => ` +
        `(graphemeSegmenterInstance ??= new Intl.Segmenter(${match[2]})).segment(text) };`
      return { contents: source.replace(SEGMENTER, lazy), loader: "js" }
    })
  }
}

// @effect/platform-node's Undici module is `export * from "undici"`, and undici is CommonJS: with
// code splitting esbuild cannot see its export names and the chunk exports only `default`, so
// `new Undici.Agent(...)` fails ("Agent is not a constructor"). Spell the names out, read from the
// installed undici at build time.
export const undiciNamedExports = {
  name: "undici-named-exports",
  setup(b) {
    b.onLoad({ filter: /[\\/]@effect[\\/]platform-node[\\/]dist[\\/]Undici\.js$/ }, (args) => {
      const undici = createRequire(args.path)("undici")
      const names = Object.keys(undici).filter((k) => k !== "default" && /^[A-Za-z_$][\w$]*$/.test(k))
      return {
        contents: `import Undici from "undici";\nexport default Undici;\n` +
          `export const { ${names.join(", ")} } = Undici;\n`,
        loader: "js",
        resolveDir: args.path.replace(/[\\/][^\\/]*$/, "")
      }
    })
  }
}

// `import * as NFS from "node:fs"` builds an ES module facade of the builtin, which reads every
// export, including the lazy getters `ReadStream`/`WriteStream`/`promises`: that loads Node's
// whole streams implementation (~4 ms of `status`), which status never uses. Resolve such imports
// to a module over `process.getBuiltinModule("node:fs")` instead: plain functions and constants
// as they are, the getters forwarded on first use. Being an ordinary module of the bundle, it is
// also evaluated only with the module that imports it, where an `import` of a builtin left to
// Node would be hoisted and run at start-up (the fast paths' bundles, whose refresh code is
// initialized on first use, `builtinsWithoutFacade`).
// Exports newer Nodes turn into deprecation getters: reading them (as the re-export below reads
// every plain value) prints a warning on every run. Node 24: `fs.F_OK` & co. (DEP0176); the
// values are in `fs.constants`. Leaving them out makes a named import of one fail the build.
const DEPRECATED_EXPORTS = new Set(["F_OK", "R_OK", "W_OK", "X_OK"])
export const builtinsWithoutFacade = (names) => {
  const filter = new RegExp(`^(node:)?(${names.map((n) => n.replace("/", "\\/")).join("|")})$`)
  return {
    name: "builtins-without-esm-facade",
    setup(b) {
      b.onResolve({ filter }, (args) =>
        args.kind === "import-statement" && args.namespace !== "builtin-without-facade"
          ? { path: args.path.startsWith("node:") ? args.path : `node:${args.path}`, namespace: "builtin-without-facade" }
          : undefined)
      b.onLoad({ filter: /.*/, namespace: "builtin-without-facade" }, (args) => {
        const real = createRequire(import.meta.url)(args.path)
        const keys = Object.keys(real).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && k !== "default" && !DEPRECATED_EXPORTS.has(k))
        const isGetter = (k) => Object.getOwnPropertyDescriptor(real, k)?.get !== undefined
        const plain = keys.filter((k) => !isGetter(k))
        const lazy = keys.filter(isGetter).map((k) =>
          typeof real[k] === "function"
            ? `export function ${k}(...a) { const f = m.${k}; return new.target ? Reflect.construct(f, a, new.target) : f.apply(this, a) }`
            : `export const ${k} = new Proxy({}, { get: (_, p) => m.${k}[p] })`
        )
        return {
          contents: `const m = process.getBuiltinModule(${JSON.stringify(args.path)});\nexport default m;\n` +
            (plain.length > 0 ? `export const { ${plain.join(", ")} } = m;\n` : "") + `${lazy.join("\n")}\n`,
          loader: "js"
        }
      })
    }
  }
}
export const fsWithoutFacade = builtinsWithoutFacade(["fs"])

/** The builtins the fast paths' bundles import (all but those `lazyBuiltins` takes). */
const FAST_PATH_BUILTINS = ["fs", "path", "os", "url", "util", "events", "buffer", "stream", "stream/consumers", "tls", "net", "http", "https", "zlib", "sqlite", "timers", "timers/promises", "worker_threads", "perf_hooks", "async_hooks", "diagnostics_channel", "string_decoder", "querystring", "dns", "assert", "process", "v8"]

// Node loads a builtin's JavaScript on import: `node:crypto` (all of internal/crypto/*),
// `node:child_process` and `node:readline` cost ~8 ms of `status`'s start-up together, though
// status never hashes, spawns or reads a line. They come in through modules every command loads
// (@effect/platform-node's FileSystem, Terminal and ChildProcessSpawner; the store's temp names
// and token hashes). So `import`s of these three resolve to a stand-in whose functions load the
// builtin on first call (`process.getBuiltinModule`, already in Node's binary). Only their
// functions are re-exported: a named import of anything else (`constants`, `webcrypto`) fails
// the build, a namespace access of it warns, rather than being silently undefined.
// `require()` calls (undici) keep the real module.
const LAZY_BUILTINS = /^node:(crypto|child_process|readline)$/
export const lazyBuiltins = {
  name: "lazy-node-builtins",
  setup(b) {
    b.onResolve({ filter: LAZY_BUILTINS }, (args) =>
      args.kind === "import-statement" && args.namespace !== "lazy-builtin"
        ? { path: args.path, namespace: "lazy-builtin" }
        : undefined)
    b.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, (args) => {
      const real = createRequire(import.meta.url)(args.path)
      const names = Object.keys(real).filter((k) => typeof real[k] === "function" && /^[A-Za-z_$][\w$]*$/.test(k))
      const wrappers = names.map((k) =>
        // `new` works for classes (KeyObject, Interface); `instanceof` against them would not.
        `export function ${k}(...a) { const f = m()[${JSON.stringify(k)}]; ` +
        `return new.target ? Reflect.construct(f, a, new.target) : f.apply(this, a) }`
      )
      return {
        contents: `let real; const m = () => (real ??= process.getBuiltinModule(${JSON.stringify(args.path)}));\n` +
          `export default new Proxy({}, { get: (_, k) => m()[k] });\n${wrappers.join("\n")}\n`,
        loader: "js"
      }
    })
  }
}

// `import { Effect, Schema } from "effect"` goes through the package's barrel (`export * as
// Schema from "./Schema.js"`), and esbuild then builds each namespace object whole: every export
// of Schema.js (with its crypto, HTTP-cookie, network-address and JSON Schema parts), Stream,
// PubSub and the rest stay in the bundle and are evaluated on every start. Rewriting our own
// named imports of a barrel into namespace imports of the modules themselves (`import * as Schema
// from "effect/Schema"`, which the package exports) lets esbuild keep only what is used. The
// names come from the installed barrels; a name a barrel does not list stays as written.
const BARREL_IMPORT = /^import\s+(type\s+)?\{([^}]*)\}\s+from\s+"(effect(?:\/[a-z]+)?)"/gm
const barrelCache = new Map()
const barrelOf = (specifier) => {
  if (barrelCache.has(specifier)) return barrelCache.get(specifier)
  const sub = specifier.slice("effect".length) // "" or "/cli"
  const index = readFileSync(createRequire(import.meta.url).resolve(`effect${sub}`), "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
  const names = new Map()
  for (const [, name, path] of index.matchAll(/export \* as (\w+) from "\.\/([\w/]+)\.js"/g)) {
    names.set(name, { namespace: `effect${sub}/${path}` })
  }
  for (const [, list, path] of index.matchAll(/export \{([^}]*)\} from "\.\/([\w/]+)\.js"/g)) {
    for (const name of list.split(",").map((n) => n.trim()).filter(Boolean)) names.set(name, { named: `effect${sub}/${path}` })
  }
  barrelCache.set(specifier, names)
  return names
}
export const rewriteBarrelImports = (source) =>
  source.replace(BARREL_IMPORT, (statement, typeOnly, list, specifier) => {
    if (typeOnly) return statement
    const names = barrelOf(specifier)
    const kept = []
    const lines = []
    for (const raw of list.split(",").map((s) => s.trim()).filter(Boolean)) {
      if (raw.startsWith("type ")) continue
      const [name, alias = name] = raw.split(/\s+as\s+/)
      const target = names.get(name)
      if (target?.namespace) lines.push(`import * as ${alias} from "${target.namespace}"`)
      else if (target?.named) lines.push(`import { ${raw} } from "${target.named}"`)
      else kept.push(raw)
    }
    if (kept.length > 0) lines.push(`import { ${kept.join(", ")} } from "${specifier}"`)
    return lines.join("; ")
  })
export const effectSubpathImports = {
  name: "effect-subpath-imports",
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (args) => ({
      contents: rewriteBarrelImports(readFileSync(args.path, "utf8")),
      loader: "ts"
    }))
  }
}

// Third-party CommonJS packages a fast path needs only now and then (undici for a refresh, json5
// for a config that is not plain JSON, proper-lockfile for a write) stay out of its bundle: each
// is a CommonJS bundle of its own under cli/vendor/, required on first use. None of them holds
// Effect code, so one copy of Effect still serves the whole run.
export const VENDORED = ["undici", "json5", "proper-lockfile"]
export const vendorOnDemand = {
  name: "vendor-on-demand",
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${VENDORED.join("|")})$`) }, (args) => ({ path: args.path, namespace: "vendor" }))
    b.onResolve({ filter: /^\.\/vendor\// }, (args) => (args.namespace === "vendor" ? { path: args.path, external: true } : undefined))
    b.onLoad({ filter: /.*/, namespace: "vendor" }, (args) => ({
      contents: `module.exports = require("./vendor/${args.path}.cjs")`,
      loader: "js"
    }))
  }
}

/** The vendored packages as CommonJS bundles (`dist/cli/vendor/<name>.cjs`). */
export const vendorOptions = (outdir) => ({
  ...common,
  format: "cjs",
  entryPoints: Object.fromEntries(VENDORED.map((name) => [name, createRequire(import.meta.url).resolve(name)])),
  outdir: `${outdir}/cli/vendor`,
  outExtension: { ".js": ".cjs" }
})

/**
 * The fast paths (`status`, `token`; src/cli/main.ts): one self-contained CommonJS file each,
 * named by its content (`dist/cli/status-<hash>.cjs`), which `src/cli/FastPathLoad.ts` runs with a
 * V8 code cache made after the run. One file instead of a dozen shared chunks: nothing to resolve
 * and link, and none of the code other commands add to shared chunks. The refresh code of
 * `token` is in its file but initialized only when a refresh is due (esbuild's lazy module
 * initialization of a dynamic `import()`); `import()` of builtins (node:sqlite) becomes
 * `require`, which the cached script runs like any other.
 */
export const cliFastOptions = (outdir) => ({
  ...common,
  format: "cjs",
  entryPoints: { status: "src/cli/StatusFast.ts", token: "src/cli/TokenFast.ts" },
  outdir: `${outdir}/cli`,
  entryNames: "[name]-[hash]",
  outExtension: { ".js": ".cjs" },
  supported: { "dynamic-import": false },
  metafile: true,
  plugins: [effectSubpathImports, vendorOnDemand, undiciNamedExports, lazyBuiltins, builtinsWithoutFacade(FAST_PATH_BUILTINS)]
})

/** `{ status, token }`: each fast path's bundle, relative to `dist/`, from the fast build's metafile. */
export const fastPathNames = (metafile, outdir) => {
  const names = {}
  for (const [output, { entryPoint }] of Object.entries(metafile.outputs)) {
    const name = { "src/cli/StatusFast.ts": "status", "src/cli/TokenFast.ts": "token" }[entryPoint]
    if (name !== undefined) names[name] = output.slice(`${outdir}/`.length)
  }
  if (names.status === undefined || names.token === undefined) throw new Error(`fast paths not found in ${Object.keys(metafile.outputs)}`)
  return names
}

/**
 * The shipped CLI: ESM with code splitting. `dist/cli.js` is a small entry; each command and what
 * only it needs (the HTTP client, the token actor, QR codes) are chunks under `dist/cli/`, loaded
 * on demand.
 */
export const cliEsmOptions = (outdir, fastPaths) => ({
  ...common,
  define: { ...common.define, __QWEN_FAST_PATHS__: JSON.stringify(fastPaths) },
  format: "esm",
  splitting: true,
  entryPoints: { cli: "src/cli/main.ts" },
  outdir,
  chunkNames: "cli/[name]-[hash]",
  banner: { js: requireShim },
  plugins: [effectSubpathImports, lazySegmenter, undiciNamedExports, lazyBuiltins, fsWithoutFacade]
})

export const SHEBANG = "#!/usr/bin/env node\n"
