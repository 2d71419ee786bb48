// esbuild options for the CLI bundle, shared by scripts/build.mjs (what ships) and the start-up
// benchmark (which also builds a CommonJS variant to compare against, docs/benchmarks.md).
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
// as they are, the getters forwarded on first use.
export const fsWithoutFacade = {
  name: "fs-without-esm-facade",
  setup(b) {
    b.onResolve({ filter: /^(node:)?fs$/ }, (args) =>
      args.kind === "import-statement" && args.namespace !== "fs-without-facade"
        ? { path: "node:fs", namespace: "fs-without-facade" }
        : undefined)
    b.onLoad({ filter: /.*/, namespace: "fs-without-facade" }, () => {
      const real = createRequire(import.meta.url)("node:fs")
      const names = Object.keys(real).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k))
      const isGetter = (k) => Object.getOwnPropertyDescriptor(real, k)?.get !== undefined
      const plain = names.filter((k) => !isGetter(k))
      const lazy = names.filter(isGetter).map((k) =>
        typeof real[k] === "function"
          ? `export function ${k}(...a) { const f = fs.${k}; return new.target ? Reflect.construct(f, a, new.target) : f.apply(this, a) }`
          : `export const ${k} = new Proxy({}, { get: (_, p) => fs.${k}[p] })`
      )
      return {
        contents: `const fs = process.getBuiltinModule("node:fs");\nexport default fs;\n` +
          `export const { ${plain.join(", ")} } = fs;\n${lazy.join("\n")}\n`,
        loader: "js"
      }
    })
  }
}

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
  const dir = `effect/dist${sub}`
  const index = readFileSync(createRequire(import.meta.url).resolve(`effect${sub}`), "utf8")
    .replace(/\/\*[\s\S]*?\*\//g, "")
  const names = new Map()
  for (const [, name, path] of index.matchAll(/export \* as (\w+) from "\.\/([\w/]+)\.js"/g)) {
    names.set(name, { namespace: `effect${sub}/${path}` })
  }
  for (const [, list, path] of index.matchAll(/export \{([^}]*)\} from "\.\/([\w/]+)\.js"/g)) {
    for (const name of list.split(",").map((n) => n.trim()).filter(Boolean)) names.set(name, { named: `effect${sub}/${path}` })
  }
  void dir
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

/**
 * The shipped CLI: ESM with code splitting. `dist/cli.js` is a small entry; each command and what
 * only it needs (the HTTP client, the token actor, QR codes) are chunks under `dist/cli/`, loaded
 * on demand.
 */
export const cliEsmOptions = (outdir) => ({
  ...common,
  format: "esm",
  splitting: true,
  entryPoints: { cli: "src/cli/main.ts" },
  outdir,
  chunkNames: "cli/[name]-[hash]",
  banner: { js: requireShim },
  plugins: [effectSubpathImports, lazySegmenter, undiciNamedExports, lazyBuiltins, fsWithoutFacade]
})

/** The same program as one CommonJS file (dynamic imports become lazy in-file modules). */
export const cliCjsOptions = (outfile) => ({
  ...common,
  format: "cjs",
  entryPoints: ["src/cli/main.ts"],
  outfile,
  plugins: [effectSubpathImports, lazySegmenter, lazyBuiltins, fsWithoutFacade]
})

export const SHEBANG = "#!/usr/bin/env node\n"
