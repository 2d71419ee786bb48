/**
 * What the flags every command shares (cli-contract.md "Configuration") become: settings
 * overrides and the command's configuration layer. Free of effect/cli, so a read-only `status`
 * can run without loading it (start-up time, docs/benchmarks.md).
 */
import { Duration, Effect, Layer, Logger, Option, References } from "effect"
import { QwenAuthConfig, resolveSettings, type Settings } from "../Config.ts"
import type { PlainArgs } from "./StatusArgs.ts"

export { QWEN_CODE_SYNC_FLAG, REFRESH_MARGIN_FLAG, STRING_FLAGS, VERBOSE_FLAG } from "./SharedFlagNames.ts"

/** The parsed shared flags (`None` = not given, so environment and defaults apply). */
export interface SharedFlags {
  readonly oauthBaseUrl: Option.Option<string>
  readonly clientId: Option.Option<string>
  readonly scope: Option.Option<string>
  readonly refreshMargin: Option.Option<number>
  readonly qwenHome: Option.Option<string>
  readonly openclawStateDir: Option.Option<string>
  readonly openclawConfig: Option.Option<string>
  readonly openclawAgentDir: Option.Option<string>
  readonly qwenCodeSync: Option.Option<boolean>
  readonly verbose: boolean
}

/** The shared flags of a plain invocation (the fast paths' reading of the arguments). */
export const sharedFlagsOf = (args: PlainArgs): SharedFlags => {
  const o = Option.fromUndefinedOr
  return {
    oauthBaseUrl: o(args.strings.oauthBaseUrl),
    clientId: o(args.strings.clientId),
    scope: o(args.strings.scope),
    refreshMargin: o(args.refreshMargin),
    qwenHome: o(args.strings.qwenHome),
    openclawStateDir: o(args.strings.openclawStateDir),
    openclawConfig: o(args.strings.openclawConfig),
    openclawAgentDir: o(args.strings.openclawAgentDir),
    qwenCodeSync: o(args.qwenCodeSync),
    verbose: args.verbose
  }
}

const some = <A>(o: Option.Option<A>): A | undefined => Option.getOrUndefined(o)

/** Flag values as settings overrides (undefined = not given, so env/default apply). */
export const overridesFromFlags = (flags: SharedFlags): Partial<Settings> => {
  const o: { -readonly [K in keyof Settings]?: Settings[K] | undefined } = {
    oauthBaseUrl: some(flags.oauthBaseUrl),
    clientId: some(flags.clientId),
    scope: some(flags.scope),
    refreshMargin: Option.getOrUndefined(Option.map(flags.refreshMargin, Duration.seconds)),
    qwenHome: some(flags.qwenHome),
    openclawStateDir: some(flags.openclawStateDir),
    openclawConfigPath: some(flags.openclawConfig),
    openclawAgentDir: some(flags.openclawAgentDir),
    qwenCodeSync: some(flags.qwenCodeSync),
    logLevel: flags.verbose ? "debug" : undefined
  }
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<Settings>
}

const levels = { error: "Error", warn: "Warn", info: "Info", debug: "Debug" } as const

/**
 * The configuration for a command run: settings from flags + environment, and logging on stderr
 * at the configured level. Provide around the whole handler.
 */
export const commandConfigLayer = (flags: SharedFlags) =>
  Layer.unwrap(Effect.gen(function*() {
    const settings = yield* resolveSettings(overridesFromFlags(flags))
    return Layer.mergeAll(
      Layer.succeed(QwenAuthConfig, settings),
      Layer.succeed(References.MinimumLogLevel, levels[settings.logLevel]),
      Layer.succeed(Logger.LogToStderr, true)
    )
  }))
