/**
 * The provider entry `qwen-portal`: `models.providers["qwen-portal"]` in `openclaw.json` and
 * `providers["qwen-portal"]` in `<agent>/models.json` (files.md "OpenClaw: config openclaw.json").
 * Both hold the same object, merged by the same rules: a `baseUrl` we did not write last is the
 * user's and is kept, and a model list is replaced only when it is absent, empty or one of ours.
 *
 * @since 0.1.0
 */
import { API_KEY_MARKER, PROVIDER_ID, qwenModels } from "./Ids.ts"
import { getIn, isRecord, type JsonObject, jsonEqual, updateIn } from "./Json.ts"

/** @since 0.1.0 @category models */
export interface ProviderInput {
  /** `normalize(resource_url)`, or the default API base (protocol.md §5). */
  readonly baseUrl: string
  /** From the state file: a config `baseUrl` equal to this one is ours, any other is the user's. */
  readonly lastWrittenBaseUrl?: string | undefined
  /** Model lists an earlier qwen-auth wrote; such a list may be replaced like our current one. */
  readonly lastWrittenModels?: ReadonlyArray<unknown> | undefined
  /**
   * Write the `apiKey: "qwen-oauth"` marker (default true). OpenClaw 2026.9.6 imports such a
   * marker as a static api_key profile, so on its homes the marker is left out (and ours removed).
   */
  readonly apiKeyMarker?: boolean | undefined
}

/** The result of merging a login into one file. @since 0.1.0 @category models */
export interface MergeResult {
  readonly config: JsonObject
  /** Something the user should know about (kept alias, kept baseUrl, …); printed on stderr. */
  readonly warnings: ReadonlyArray<string>
  /** Informational lines, e.g. `Models.DEFAULT_MODEL_HINT`; printed on stderr. */
  readonly notices: ReadonlyArray<string>
  /** The base URL the provider entry holds after the merge. */
  readonly baseUrlUsed: string
  /** True when we wrote our own `baseUrl` (false when a user's was kept). */
  readonly baseUrlIsOurs: boolean
  readonly changed: boolean
}

/** A file with the provider entry merged in. @since 0.1.0 @category models */
export interface ProviderMerge {
  readonly config: JsonObject
  readonly warnings: ReadonlyArray<string>
  readonly baseUrlUsed: string
  readonly baseUrlIsOurs: boolean
}

const mergeProvider = (existing: unknown, input: ProviderInput, where: string) => {
  const p = isRecord(existing) ? existing : {}
  const warnings: Array<string> = []
  const current = p["baseUrl"]
  const userOwned = typeof current === "string" && current.trim() !== "" && current !== input.lastWrittenBaseUrl
  const baseUrlUsed = userOwned ? current : input.baseUrl
  if (userOwned && current !== input.baseUrl) {
    warnings.push(`Keeping your baseUrl ${current} for ${PROVIDER_ID} in ${where} (login suggested ${input.baseUrl}).`)
  }
  const models = p["models"]
  const replaceable = models === undefined || (Array.isArray(models) && models.length === 0) ||
    jsonEqual(models, qwenModels()) ||
    (input.lastWrittenModels !== undefined && jsonEqual(models, input.lastWrittenModels))
  if (!replaceable) {
    warnings.push(`Keeping your own models list for ${PROVIDER_ID} in ${where}.`)
  }
  const { apiKey, ...rest } = p
  const keepKey = apiKey !== undefined && apiKey !== API_KEY_MARKER
  return {
    provider: {
      ...(input.apiKeyMarker === false ? (keepKey ? p : rest) : p),
      baseUrl: baseUrlUsed,
      ...(input.apiKeyMarker === false ? {} : { apiKey: API_KEY_MARKER }),
      api: "openai-completions",
      models: replaceable ? qwenModels() : models
    },
    warnings,
    baseUrlUsed,
    baseUrlIsOurs: !userOwned
  }
}

const mergeProviderAt = (
  file: JsonObject,
  path: ReadonlyArray<string>,
  input: ProviderInput,
  where: string
): ProviderMerge => {
  const merged = mergeProvider(getIn(file, path), input, where)
  return {
    config: updateIn(file, path, () => merged.provider),
    warnings: merged.warnings,
    baseUrlUsed: merged.baseUrlUsed,
    baseUrlIsOurs: merged.baseUrlIsOurs
  }
}

/**
 * Merges the provider into a parsed `openclaw.json` under `models.providers["qwen-portal"]`.
 *
 * @since 0.1.0
 * @category merge
 */
export const mergeProviderEntry = (config: JsonObject, input: ProviderInput): ProviderMerge =>
  mergeProviderAt(config, ["models", "providers", PROVIDER_ID], input, "openclaw.json")

/**
 * Merges the same provider object into a parsed `<agent>/models.json` (`{}` when missing) under
 * `providers["qwen-portal"]`, keeping a user's explicit `baseUrl` by the same rule.
 *
 * @since 0.1.0
 * @category merge
 */
export const mergeModelsFile = (models: JsonObject, input: ProviderInput): MergeResult => {
  const merged = mergeProviderAt(models, ["providers", PROVIDER_ID], input, "models.json")
  return {
    config: merged.config,
    warnings: merged.warnings,
    notices: [],
    baseUrlUsed: merged.baseUrlUsed,
    baseUrlIsOurs: merged.baseUrlIsOurs,
    changed: !jsonEqual(models, merged.config)
  }
}

/**
 * The API base URL the user's OpenClaw calls: `models.providers["qwen-portal"].baseUrl`, when set.
 *
 * @since 0.1.0
 * @category queries
 */
export const configuredBaseUrl = (config: JsonObject | undefined): string | undefined => {
  const baseUrl = getIn(config ?? {}, ["models", "providers", PROVIDER_ID, "baseUrl"])
  return typeof baseUrl === "string" ? baseUrl : undefined
}
