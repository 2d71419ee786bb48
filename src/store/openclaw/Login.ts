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
import { mergeAuthProfileEntry } from "./AuthProfileEntry.ts"
import { findInclude, type LastWritten, readParsed, sha256Hex } from "./ConfigFile.ts"
import { rewrite } from "./ConfigRewrite.ts"
import { resolveIncludes } from "./Includes.ts"
import { type JsonObject, jsonEqual } from "./Json.ts"
import { currentDefault, mergeModelEntries } from "./Models.ts"
import { describePending, type PendingEntry } from "./PendingConfig.ts"
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
  /**
   * Entries OpenClaw still needs, left to the user (a config using `$include`): then no OpenClaw
   * file was written, and a warning says where each entry goes. Empty otherwise.
   */
  readonly pendingConfig: ReadonlyArray<PendingEntry>
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
  const profile = mergeAuthProfileEntry(models.config)
  const next = profile.config
  return {
    config: next,
    warnings: [...plugin.warnings, ...provider.warnings, ...models.warnings, ...profile.warnings],
    notices: models.notices,
    baseUrlUsed: provider.baseUrlUsed,
    baseUrlIsOurs: provider.baseUrlIsOurs,
    changed: !jsonEqual(config, next)
  }
}

/**
 * Fails fast, before a login's device flow, when the login could not use its files: an
 * unparsable `openclaw.json` or `models.json`, or an include of the config that OpenClaw could
 * not read either.
 *
 * @since 0.1.0
 * @category reading
 */
export const checkWritable = Effect.fn("OpenClawConfig.checkWritable")(function*(files: OpenClawFiles) {
  const config = yield* readParsed(files.openclawConfig)
  if (findInclude(config.value) !== undefined) yield* resolveIncludes(files.openclawConfig, config.value)
  yield* readParsed(files.modelsJson)
})

/**
 * Writes a login's entries into `openclaw.json` and the provider into `<agent>/models.json`.
 * A config using `$include` is not written (nor is `models.json`): what it lacks comes back in
 * `pendingConfig`, with a warning.
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
  yield* checkWritable(files)
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
      return Effect.succeed({ next: r.config, changed: r.changed, extra: { ...r, before: currentDefault(value) } })
    },
    includes: true,
    backupUnless: { sha256: lastWritten.configSha256 }
  })
  const merged = config.extra
  if (config.pending !== undefined) {
    const result: ApplyLoginResult = {
      wrote: [],
      warnings: [
        ...merged.warnings,
        describePending(
          `${config.pending.why} The login is saved; for OpenClaw to use it, add these entries (merged with what is there):`,
          config.pending.entries
        )
      ],
      notices: merged.notices,
      lastWritten,
      baseUrlUsed: merged.baseUrlUsed,
      defaultModel: merged.before ?? null,
      pendingConfig: config.pending.entries
    }
    return result
  }
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
  // models.json is edited in place too; should that ever be refused, its entries are handed back.
  const modelsPending = models.pending === undefined ? [] : [
    describePending(`${models.pending.why} Add these entries yourself (merged with what is there):`, models.pending.entries)
  ]
  const result: ApplyLoginResult = {
    wrote,
    warnings: [...merged.warnings, ...models.extra.warnings, ...modelsPending],
    notices: merged.notices,
    lastWritten: {
      baseUrl: merged.baseUrlIsOurs ? merged.baseUrlUsed : lastWritten.baseUrl,
      configSha256: config.text === undefined ? lastWritten.configSha256 : sha256Hex(config.text)
    },
    ...(config.backup === undefined ? {} : { backup: config.backup }),
    baseUrlUsed: merged.baseUrlUsed,
    defaultModel: currentDefault(merged.config) ?? null,
    pendingConfig: models.pending?.entries ?? []
  }
  return result
})
