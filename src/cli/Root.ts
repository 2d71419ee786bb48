/**
 * The root command and the flags every command shares (cli-contract.md "Configuration"):
 * flag > environment > default. Subcommands read them with `yield* Root`.
 */
import { Effect, Layer, Logger, Option, References } from "effect"
import { Command, Flag } from "effect/cli"
import { QwenAuthConfig, resolveSettings, type Settings } from "../Config.ts"

const optionalString = (name: string, description: string) =>
  Flag.String(name).pipe(Flag.withDescription(description), Flag.optional)

export const sharedFlags = {
  oauthBaseUrl: optionalString("oauth-base-url", "OAuth server origin (env QWEN_OAUTH_BASE_URL; default https://chat.qwen.ai)"),
  clientId: optionalString("client-id", "OAuth client id (env QWEN_OAUTH_CLIENT_ID)"),
  scope: optionalString("scope", "OAuth scope (env QWEN_OAUTH_SCOPE)"),
  refreshMargin: Flag.Finite("refresh-margin").pipe(
    Flag.filter((s) => s >= 0, () => "a number of seconds ≥ 0"),
    Flag.withDescription("Seconds before expiry to refresh (env QWEN_AUTH_REFRESH_MARGIN; default 300)"),
    Flag.optional
  ),
  qwenHome: optionalString("qwen-home", "Qwen Code folder (env QWEN_HOME; default ~/.qwen)"),
  openclawStateDir: optionalString("openclaw-state-dir", "OpenClaw state folder (env OPENCLAW_STATE_DIR; default ~/.openclaw)"),
  openclawConfig: optionalString("openclaw-config", "OpenClaw config file (env OPENCLAW_CONFIG_PATH)"),
  openclawAgentDir: optionalString("openclaw-agent-dir", "OpenClaw agent folder (env OPENCLAW_AGENT_DIR)"),
  qwenCodeSync: Flag.Boolean("qwen-code-sync").pipe(
    Flag.withDescription("Keep ~/.qwen/oauth_creds.json in sync (--no-qwen-code-sync or QWEN_AUTH_QWEN_CODE_SYNC=0 turns it off)"),
    Flag.optional
  ),
  verbose: Flag.Boolean("verbose").pipe(
    Flag.withDescription("Debug logging on stderr (env QWEN_AUTH_LOG_LEVEL)"),
    Flag.withDefault(false)
  )
}

export type SharedFlags = Command.Command.Config.Infer<typeof sharedFlags>

export const Root = Command.make("qwen-auth").pipe(
  Command.withSharedFlags(sharedFlags),
  Command.withDescription(
    "Log in to Qwen (OAuth device code + PKCE) and keep OpenClaw and Qwen Code supplied with fresh tokens"
  )
)

const some = <A>(o: Option.Option<A>): A | undefined => Option.getOrUndefined(o)

/** Flag values as settings overrides (undefined = not given, so env/default apply). */
export const overridesFromFlags = (flags: SharedFlags): Partial<Settings> => {
  const o: { -readonly [K in keyof Settings]?: Settings[K] | undefined } = {
    oauthBaseUrl: some(flags.oauthBaseUrl),
    clientId: some(flags.clientId),
    scope: some(flags.scope),
    refreshMarginSeconds: some(flags.refreshMargin),
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
