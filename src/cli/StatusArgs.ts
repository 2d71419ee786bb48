/**
 * The `status` and `token` invocations the fast paths take: the command, `--json` after it, and
 * the shared flags (before or after it), each at most once, with well-formed values. Anything
 * else — help, a typo, an unusual spelling — returns undefined and goes through effect/cli, which
 * owns the grammar and its error messages. Plain strings only: this runs before any module loads.
 */
import { QWEN_CODE_SYNC_FLAG, REFRESH_MARGIN_FLAG, STRING_FLAGS, VERBOSE_FLAG } from "./SharedFlagNames.ts"

/** A plain invocation of a command whose only own flag is `--json`. */
export interface PlainArgs {
  readonly json: boolean
  readonly verbose: boolean
  readonly strings: Readonly<Partial<Record<keyof typeof STRING_FLAGS, string>>>
  readonly refreshMargin: number | undefined
  readonly qwenCodeSync: boolean | undefined
}

const byName = new Map(Object.entries(STRING_FLAGS).map(([key, name]) => [`--${name}`, key as keyof typeof STRING_FLAGS]))
const MARGIN = `--${REFRESH_MARGIN_FLAG}`

/** `status` and `token` both take only `--json` besides the shared flags. */
export type StatusArgs = PlainArgs
export type TokenArgs = PlainArgs

export const parseStatusArgs = (args: ReadonlyArray<string>): StatusArgs | undefined => parsePlainArgs("status", args)
export const parseTokenArgs = (args: ReadonlyArray<string>): TokenArgs | undefined => parsePlainArgs("token", args)

const parsePlainArgs = (command: "status" | "token", args: ReadonlyArray<string>): PlainArgs | undefined => {
  let named = false
  let json = false
  let verbose = false
  let refreshMargin: number | undefined
  let qwenCodeSync: boolean | undefined
  const strings: Partial<Record<keyof typeof STRING_FLAGS, string>> = {}
  const seen = new Set<string>()
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1
    const name = eq > 0 ? arg.slice(0, eq) : arg
    if (seen.has(name.replace(/^--no-/, "--"))) return undefined
    seen.add(name.replace(/^--no-/, "--"))
    if (arg === command && !named) named = true
    else if (arg === "--json" && named) json = true
    else if (arg === `--${VERBOSE_FLAG}`) verbose = true
    else if (arg === `--${QWEN_CODE_SYNC_FLAG}` || arg === `--no-${QWEN_CODE_SYNC_FLAG}`) qwenCodeSync = !arg.startsWith("--no-")
    else if (byName.has(name) || name === MARGIN) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i]
      if (value === undefined || value === "" || (eq < 0 && value.startsWith("-"))) return undefined
      if (name === MARGIN) {
        if (!/^\d+(\.\d+)?$/.test(value)) return undefined
        refreshMargin = Number(value)
      } else {
        strings[byName.get(name)!] = value
      }
    } else return undefined
  }
  return named ? { json, verbose, strings, refreshMargin, qwenCodeSync } : undefined
}
