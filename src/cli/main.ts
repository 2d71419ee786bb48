/**
 * The `qwen-auth` executable. This entry stays free of Effect and of every command: it turns on
 * Node's compile cache, answers `--version` at once, and otherwise loads the CLI with only the
 * subcommands the arguments name (start-up time is a benchmarked target, docs/benchmarks.md).
 */
import { VERSION } from "../internal/version.ts"
import { loadSubcommands, subcommandsFor } from "./Commands.ts"
import { enableCompileCache } from "./CompileCache.ts"
import { type FastPath, loadFastPath } from "./FastPathLoad.ts"
import { parseStatusArgs, parseTokenArgs } from "./StatusArgs.ts"

// Node keeps compiled code of the chunks loaded below in its own folder (NODE_COMPILE_CACHE, or
// node-compile-cache under the OS temp dir), if no other user can write there. It never
// throws: an unwritable or untrusted folder, or NODE_DISABLE_COMPILE_CACHE=1, only loses the
// speed-up.
enableCompileCache()

// The fast paths' bundles (`scripts/cliBundle.mjs` names them by content; see FastPathLoad.ts).
declare const __QWEN_FAST_PATHS__: { readonly status: string; readonly token: string }
const FAST_PATHS = __QWEN_FAST_PATHS__

const args = process.argv.slice(2)
const statusArgs = parseStatusArgs(args)
const tokenArgs = statusArgs === undefined ? parseTokenArgs(args) : undefined

const cannotLoad = (error: unknown) => {
  // Only a damaged install gets here (a missing chunk).
  process.stderr.write(`qwen-auth: cannot load the CLI: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
}

// Scripts probe the install with `--version`; it needs nothing loaded. Same text as effect/cli's.
if (args.length === 1 && (args[0] === "--version" || args[0] === "-v")) {
  process.stdout.write(`qwen-auth v${VERSION}\n`)
} else if (statusArgs !== undefined || tokenArgs !== undefined) {
  // A plain `status` needs no command parser: effect/cli is the largest part of its start-up.
  // Likewise a plain `token`, which scripts run before every request.
  let fast: FastPath | undefined
  try {
    fast = loadFastPath(statusArgs !== undefined ? FAST_PATHS.status : FAST_PATHS.token)
  } catch (error) {
    cannotLoad(error)
  }
  fast?.run((statusArgs ?? tokenArgs)!)
} else {
  Promise.all([import("./Program.ts"), loadSubcommands(subcommandsFor(args))]).then(
    ([program, subcommands]) => program.run(subcommands, args),
    cannotLoad
  )
}
