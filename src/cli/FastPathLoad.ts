/**
 * Loads a fast path's bundle (`status`, `token`: one CommonJS file each, named by a hash of its
 * content, `dist/cli/<name>-<hash>.cjs`) with a V8 code cache taken *after* the bundle has run.
 *
 * Node's own compile cache (enabled by `main.ts`) keeps only what V8 compiles before a module
 * runs: the top level of each function-wrapped module. Every function the run then calls — the
 * Effect runtime, the Schema parsers, the store — is compiled again on every start, about a fifth
 * of `token`'s start-up on the benchmark machine (docs/benchmarks.md). A cache made at exit
 * holds those too. It sits next to Node's (same folder, same switch: `NODE_COMPILE_CACHE`,
 * `NODE_DISABLE_COMPILE_CACHE`), is named by the bundle (so by its content; V8 itself only checks
 * the source length) and is written once, atomically, when missing or refused by V8 (another
 * Node, other V8 flags). Only a private folder is used (CompileCache.ts); any trouble with it
 * only loses the speed-up.
 */
import { isPrivateFolder } from "./CompileCache.ts"
import type { PlainArgs } from "./StatusArgs.ts"

/** What a fast path's bundle exports (`StatusFast.ts`, `TokenFast.ts`). */
export interface FastPath {
  readonly run: (args: PlainArgs) => void
}

/** Node's CommonJS wrapper, so the bundle runs exactly as `require` would run it. */
export const WRAPPER_PREFIX = "(function (exports, require, module, __filename, __dirname) { "
const WRAPPER_SUFFIX = "\n});"

export const loadFastPath = (bundle: string): FastPath => {
  const NodeModule = process.getBuiltinModule("node:module")
  const path = process.getBuiltinModule("node:path")
  const file = path.join(path.dirname(process.getBuiltinModule("node:url").fileURLToPath(import.meta.url)), bundle)
  const require = NodeModule.createRequire(file)
  const cacheDir = NodeModule.getCompileCacheDir?.()
  // Checked again here: the folder Node made (or found) after the entry's check.
  if (cacheDir === undefined || !isPrivateFolder(cacheDir)) return require(file) as FastPath

  const fs = process.getBuiltinModule("node:fs")
  const vm = process.getBuiltinModule("node:vm")
  const cacheFile = path.join(cacheDir, `qwen-auth-${path.basename(bundle)}.v8`)
  let cachedData: Buffer | undefined
  try {
    cachedData = fs.readFileSync(cacheFile)
  } catch {
    cachedData = undefined
  }
  const script = new vm.Script(WRAPPER_PREFIX + fs.readFileSync(file, "utf8") + WRAPPER_SUFFIX, {
    filename: file,
    ...(cachedData === undefined ? {} : { cachedData }),
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER
  })
  const module = { exports: {} as FastPath }
  ;(script.runInThisContext() as (...args: Array<unknown>) => void)(
    module.exports,
    require,
    module,
    file,
    path.dirname(file)
  )
  // A run under coverage (NODE_V8_COVERAGE) compiles instrumented code: not for later runs.
  const writeCache = (cachedData === undefined || script.cachedDataRejected === true) &&
    process.env["NODE_V8_COVERAGE"] === undefined
  if (writeCache) {
    process.once("exit", () => {
      const temp = `${cacheFile}.${process.pid}.tmp`
      try {
        fs.writeFileSync(temp, script.createCachedData(), { mode: 0o600 })
        fs.renameSync(temp, cacheFile)
      } catch {
        try {
          fs.rmSync(temp, { force: true })
        } catch {
          // Nothing more to do: the next run compiles as this one did.
        }
      }
    })
  }
  return module.exports
}
