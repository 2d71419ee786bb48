/**
 * What a login writes into OpenClaw's files: the plugin entry, the provider, our model entries
 * and alias, the auth profile and, with `--set-default`, the default model in `openclaw.json`,
 * and the provider in `<agent>/models.json` (files.md "OpenClaw: config openclaw.json").
 *
 * Merges keep every key, provider, alias and profile they do not own, and never mutate an input.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { DEFAULT_API_BASE_URL } from "../../Config.ts"
import { mergeAuthProfileEntry } from "./AuthProfileEntry.ts"
import { findInclude, includeProblem, type LastWritten, readParsed, sha256Hex } from "./ConfigFile.ts"
import { rewrite } from "./ConfigRewrite.ts"
import { type JsonObject, jsonEqual } from "./Json.ts"
import { currentDefault, mergeModelEntries } from "./Models.ts"
import { mergePluginEntry } from "./PluginEntry.ts"
import { mergeModelsFile, mergeProviderEntry, type MergeResult, type ProviderInput } from "./ProviderEntry.ts"

/** @since 0.1.0 @category models */
export interface LoginMergeInput extends ProviderInput {
  readonly setDefault: boolean
  /** Enable `plugins.entries.qwen-portal-auth` (default true: 2026.3.24 bundles that plugin). */
  readonly pluginEntry?: boolean | undefined
}

/** The two OpenClaw files a login writes (see `pathsOf`). @since 0.1.0 @category models */
export interface OpenClawFiles {
  readonly openclawConfig: string
  readonly modelsJson: string
}

/** @since 0.1.0 @category models */
export interface LoginConfigInput {
  /** `normalize(resource_url)` or the default API base (protocol.md §5). */
  readonly baseUrl: string
  readonly setDefault: boolean
  /** Model lists an earlier qwen-auth version wrote (replaceable like today's). */
  readonly lastWrittenModels?: ReadonlyArray<unknown> | undefined
  /**
   * Which OpenClaw the home is for: `auth-profiles.json` (2026.3.24, the default) or SQLite
   * (2026.9.6). On SQLite homes no plugin entry is written for a plugin that is not installed,
   * and no api-key marker (that release imports it as a credential).
   */
  readonly openclawStore?: "json" | "sqlite" | undefined
  readonly pluginInstalled?: boolean | undefined
}

/** @since 0.1.0 @category models */
export interface ApplyLoginResult {
  /** Paths actually rewritten (a file that already held everything is not). */
  readonly wrote: ReadonlyArray<string>
  readonly warnings: ReadonlyArray<string>
  /** Informational lines such as the `--set-default` hint. */
  readonly notices: ReadonlyArray<string>
  /** Persist these in the state file (under Qwen Code's lock). */
  readonly lastWritten: LastWritten
  /** The backup made of a config we did not write last, if any. */
  readonly backup?: string
  readonly baseUrlUsed: string
  readonly defaultModel: string | null
}

/**
 * Adds a login's entries to a parsed `openclaw.json` (`{}` for a missing file): the plugin entry,
 * the provider, the two model entries with the alias, the auth profile and, with `setDefault`,
 * the default model.
 *
 * @since 0.1.0
 * @category merge
 */
export const mergeLogin = (config: JsonObject, input: LoginMergeInput): MergeResult => {
  // Keys are visited in files.md's order, so a fresh file reads exactly as documented.
  const plugin = input.pluginEntry === false ? { config, warnings: [] } : mergePluginEntry(config)
  const provider = mergeProviderEntry(plugin.config, input)
  const models = mergeModelEntries(provider.config, input.setDefault)
  const next = mergeAuthProfileEntry(models.config)
  return {
    config: next,
    warnings: [...plugin.warnings, ...provider.warnings, ...models.warnings],
    notices: models.notices,
    baseUrlUsed: provider.baseUrlUsed,
    baseUrlIsOurs: provider.baseUrlIsOurs,
    changed: !jsonEqual(config, next)
  }
}

/**
 * Fails fast, before a login's device flow, when the login could not write its entries: an
 * unparsable `openclaw.json` or `models.json`, or a config using `$include`.
 *
 * @since 0.1.0
 * @category reading
 */
export const checkWritable = Effect.fn("OpenClawConfig.checkWritable")(function*(
  files: OpenClawFiles,
  input: Partial<LoginConfigInput> = {}
) {
  const config = yield* readParsed(files.openclawConfig)
  const at = findInclude(config.value)
  if (at !== undefined) {
    const entries = mergeLogin({}, { baseUrl: input.baseUrl ?? DEFAULT_API_BASE_URL, setDefault: input.setDefault ?? false })
    return yield* includeProblem(files.openclawConfig, at, entries.config)
  }
  yield* readParsed(files.modelsJson)
})

/**
 * Writes a login's entries into `openclaw.json` and the provider into `<agent>/models.json`.
 *
 * **When to use** after a successful login (and `checkWritable` before the device flow).
 * Persist the returned `lastWritten` in the state file.
 *
 * @since 0.1.0
 * @category writing
 */
export const applyLogin = Effect.fn("OpenClawConfig.applyLogin")(function*(
  files: OpenClawFiles,
  input: LoginConfigInput,
  lastWritten: LastWritten
) {
  // Both files must be usable before either is touched.
  yield* checkWritable(files, input)
  const sqlite = input.openclawStore === "sqlite"
  const mergeInput = {
    ...input,
    lastWrittenBaseUrl: lastWritten.baseUrl,
    pluginEntry: !sqlite || input.pluginInstalled === true,
    apiKeyMarker: !sqlite
  }
  const config = yield* rewrite(files.openclawConfig, {
    merge: (value) => {
      const r = mergeLogin(value, mergeInput)
      return Effect.succeed({ next: r.config, changed: r.changed, extra: r })
    },
    includeEntries: () => mergeLogin({}, { ...mergeInput, lastWrittenBaseUrl: undefined }).config,
    backupUnless: { sha256: lastWritten.configSha256 }
  })
  const merged = config.extra
  const models = yield* rewrite(files.modelsJson, {
    merge: (value) => {
      const r = mergeModelsFile(value, { ...mergeInput, baseUrl: merged.baseUrlUsed })
      return Effect.succeed({ next: r.config, changed: r.changed, extra: r })
    }
  })
  const wrote = [
    ...(config.written ? [files.openclawConfig] : []),
    ...(models.written ? [files.modelsJson] : [])
  ]
  const result: ApplyLoginResult = {
    wrote,
    warnings: [...merged.warnings, ...models.extra.warnings],
    notices: merged.notices,
    lastWritten: {
      baseUrl: merged.baseUrlIsOurs ? merged.baseUrlUsed : lastWritten.baseUrl,
      configSha256: config.text === undefined ? lastWritten.configSha256 : sha256Hex(config.text)
    },
    ...(config.backup === undefined ? {} : { backup: config.backup }),
    baseUrlUsed: merged.baseUrlUsed,
    defaultModel: currentDefault(merged.config) ?? null
  }
  return result
})
