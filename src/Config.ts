/**
 * qwen-auth's configuration: flag > environment > default (cli-contract.md "Configuration").
 *
 * Qwen has changed its free tier over time, so endpoints, client id and scope are settings whose
 * defaults are the real values.
 *
 * @since 0.1.0
 */
import { ConfigProvider, Context, Duration, Effect, Layer, Option } from "effect"
import { VERSION } from "./internal/version.ts"

/** @since 0.1.0 @category models */
export type LogLevelName = "error" | "warn" | "info" | "debug"

/**
 * Every setting qwen-auth reads. Paths are absolute.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  readonly oauthBaseUrl: string
  readonly clientId: string
  readonly scope: string
  /** How long before expiry a background refresh starts (capped at lifetime / 2). */
  readonly refreshMargin: Duration.Duration
  readonly qwenHome: string
  readonly openclawStateDir: string
  readonly openclawConfigPath: string
  readonly openclawAgentDir: string
  readonly qwenCodeSync: boolean
  readonly logLevel: LogLevelName
  readonly noBrowser: boolean
  /** Timeout of one OAuth request (device code, poll). */
  readonly requestTimeout: Duration.Duration
  /** Timeout of one refresh POST; short, because it runs under the locks. */
  readonly refreshTimeout: Duration.Duration
  readonly backoffBase: Duration.Duration
  readonly backoffCap: Duration.Duration
  /** Jitter applied to backoff waits and to the refresh schedule, as a fraction (0–1). */
  readonly jitter: number
  /** How often the token actor looks at file mtimes for a peer's new login. */
  readonly fileCheckInterval: Duration.Duration
  /** Extra hosts a server's `resource_url` may point at (protocol.md §5). */
  readonly allowedResourceHosts: ReadonlyArray<string>
  /** User-Agent sent with every OAuth request. */
  readonly userAgent: string
}

/** @since 0.1.0 @category constants */
export const DEFAULT_OAUTH_BASE_URL = "https://chat.qwen.ai"
/** @since 0.1.0 @category constants */
export const DEFAULT_CLIENT_ID = "f0304373b74a44d2b584a3fb70ca9e56"
/** @since 0.1.0 @category constants */
export const DEFAULT_SCOPE = "openid profile email model.completion"
/** @since 0.1.0 @category constants */
export { DEFAULT_API_BASE_URL } from "./domain/ApiBaseUrl.ts"
/** @since 0.1.0 @category constants */
export const DEFAULT_REFRESH_MARGIN_SECONDS = 300

/**
 * Layer-only settings (no flag or environment variable): request timeouts, backoff bounds,
 * jitter, the file-check interval and extra `resource_url` hosts.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_TUNING = {
  requestTimeout: Duration.seconds(30),
  refreshTimeout: Duration.seconds(10),
  backoffBase: Duration.seconds(1),
  backoffCap: Duration.minutes(1),
  jitter: 0.2,
  fileCheckInterval: Duration.seconds(3),
  allowedResourceHosts: []
} as const satisfies Partial<Settings>

const LOG_LEVELS: ReadonlyArray<LogLevelName> = ["error", "warn", "info", "debug"]

const trimSlash = (s: string) => s.replace(/\/+$/, "")

/**
 * Builds settings from the environment (through Effect's `ConfigProvider`, so tests pass their
 * own) with `overrides` (CLI flags, Layer config) taking precedence.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolveSettings = (overrides: Partial<Settings> = {}) =>
  Effect.gen(function*() {
    // What `Config.option(Config.String(name))` reads, straight from the provider: the same
    // values, without building a schema decoder per variable (~4 ms of every command's start-up,
    // docs/benchmarks.md).
    const provider = yield* ConfigProvider.ConfigProvider
    const env = (name: string) => Effect.map(provider.load([name]), (node) => Option.fromUndefinedOr(node?.value))
    const read = yield* Effect.all({
      home: env("HOME"),
      oauthBaseUrl: env("QWEN_OAUTH_BASE_URL"),
      clientId: env("QWEN_OAUTH_CLIENT_ID"),
      scope: env("QWEN_OAUTH_SCOPE"),
      margin: env("QWEN_AUTH_REFRESH_MARGIN"),
      qwenHome: env("QWEN_HOME"),
      stateDir: env("OPENCLAW_STATE_DIR"),
      configPath: env("OPENCLAW_CONFIG_PATH"),
      agentDir: env("OPENCLAW_AGENT_DIR"),
      sync: env("QWEN_AUTH_QWEN_CODE_SYNC"),
      logLevel: env("QWEN_AUTH_LOG_LEVEL"),
      noBrowser: env("QWEN_AUTH_NO_BROWSER")
    }).pipe(Effect.orDie)
    const get = (o: Option.Option<string>) => Option.getOrUndefined(Option.filter(o, (s) => s.trim() !== ""))
    const home = get(read.home) ?? "/"
    const stateDir = overrides.openclawStateDir ?? get(read.stateDir) ?? `${home}/.openclaw`
    const marginText = get(read.margin)
    const margin = Number(marginText)
    if (marginText !== undefined && !(Number.isFinite(margin) && margin >= 0)) {
      yield* Effect.logWarning(
        `Ignoring QWEN_AUTH_REFRESH_MARGIN=${JSON.stringify(marginText)}: not a number of seconds ≥ 0; using ${DEFAULT_REFRESH_MARGIN_SECONDS}`
      )
    }
    const level = get(read.logLevel)?.toLowerCase()
    const settings: Settings = {
      oauthBaseUrl: trimSlash(get(read.oauthBaseUrl) ?? DEFAULT_OAUTH_BASE_URL),
      clientId: get(read.clientId) ?? DEFAULT_CLIENT_ID,
      scope: get(read.scope) ?? DEFAULT_SCOPE,
      refreshMargin: Duration.seconds(Number.isFinite(margin) && margin >= 0 ? margin : DEFAULT_REFRESH_MARGIN_SECONDS),
      qwenHome: get(read.qwenHome) ?? `${home}/.qwen`,
      openclawStateDir: stateDir,
      openclawConfigPath: get(read.configPath) ?? `${stateDir}/openclaw.json`,
      openclawAgentDir: get(read.agentDir) ?? `${stateDir}/agents/main/agent`,
      qwenCodeSync: get(read.sync) !== "0",
      logLevel: LOG_LEVELS.find((l) => l === level) ?? "warn",
      noBrowser: get(read.noBrowser) === "1",
      ...DEFAULT_TUNING,
      userAgent: `qwen-auth/${VERSION}`
    }
    const merged = { ...settings, ...definedOnly(overrides) }
    return { ...merged, oauthBaseUrl: trimSlash(merged.oauthBaseUrl) } satisfies Settings
  })

const definedOnly = <A extends object>(o: A): Partial<A> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<A>

/**
 * The settings as a service.
 *
 * @since 0.1.0
 * @category services
 */
export class QwenAuthConfig extends Context.Service<QwenAuthConfig, Settings>()("qwen-auth/Config") {
  /** Environment + overrides. */
  static readonly layer = (overrides: Partial<Settings> = {}) =>
    Layer.effect(QwenAuthConfig, resolveSettings(overrides))
  /** Exactly these settings (tests). */
  static readonly layerFrom = (settings: Settings) => Layer.succeed(QwenAuthConfig, settings)
}

/**
 * The files qwen-auth shares, derived from settings (files.md "Where the files are").
 *
 * @since 0.1.0
 * @category paths
 */
export const pathsOf = (s: Settings) => ({
  qwenCreds: `${s.qwenHome}/oauth_creds.json`,
  /** qwen-auth's own copy of the live chain (cli-contract.md), whatever the hosts keep. */
  ownCreds: `${s.qwenHome}/qwen-auth-credentials.json`,
  qwenLock: `${s.qwenHome}/oauth_creds.lock`,
  state: `${s.qwenHome}/qwen-auth.json`,
  openclawConfig: s.openclawConfigPath,
  authProfiles: `${s.openclawAgentDir}/auth-profiles.json`,
  modelsJson: `${s.openclawAgentDir}/models.json`
})

/** @since 0.1.0 @category paths */
export type Paths = ReturnType<typeof pathsOf>

/** OAuth endpoints under the configured base (protocol.md "Constants"); kept here for the public barrel. */
export { endpointsOf } from "./oauth/OAuthSettings.ts"
