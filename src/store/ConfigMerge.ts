/**
 * What a login adds to OpenClaw's `openclaw.json` and `<agent>/models.json`, and the model list
 * behind `models list` / `models set` — pure functions over parsed JSON (files.md "OpenClaw:
 * config openclaw.json"). Reading, backups and atomic writes live in `OpenClawConfig.ts`.
 *
 * Every function merges: keys, providers, aliases and profiles it does not own come back as they
 * were, and an input is never mutated.
 *
 * @since 0.1.0
 */
import { Result, Runtime, Schema } from "effect"
import * as CliError from "effect/cli/CliError"
import { ExitCode } from "../domain/Errors.ts"

/** A parsed JSON object. @since 0.1.0 @category models */
export type JsonObject = { readonly [key: string]: unknown }

/** @since 0.1.0 @category guards */
export const isRecord = (u: unknown): u is JsonObject => typeof u === "object" && u !== null && !Array.isArray(u)

/** Structural equality of parsed JSON values (key order ignored). @since 0.1.0 @category utils */
export const jsonEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]))
  if (!isRecord(a) || !isRecord(b)) return false
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((k) => k in b && jsonEqual(a[k], b[k]))
}

/**
 * `models set` got a ref that is neither a known `provider/model` nor an alias of one.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownModelRef extends Schema.TaggedError<UnknownModelRef>()("UnknownModelRef", {
  ref: Schema.String,
  known: Schema.Array(Schema.String)
}) {
  override get message() {
    return `Unknown model "${this.ref}". Known: ${this.known.length === 0 ? "(none)" : this.known.join(", ")}`
  }
  override get [CliError.userMessage]() {
    return this.known.length === 0
      ? `Unknown model "${this.ref}": no models are configured.\nRun \`qwen-auth login\` first.`
      : `Unknown model "${this.ref}". Known models: ${this.known.join(", ")}`
  }
  override readonly [Runtime.errorExitCode] = ExitCode.usage
}

/** @since 0.1.0 @category constants */
export const PROVIDER_ID = "qwen-portal"
/** @since 0.1.0 @category constants */
export const PLUGIN_ID = "qwen-portal-auth"
/** @since 0.1.0 @category constants */
export const PROFILE_ID = "qwen-portal:default"
/** @since 0.1.0 @category constants */
export const CODER_REF = "qwen-portal/coder-model"
/** @since 0.1.0 @category constants */
export const VISION_REF = "qwen-portal/vision-model"
/** @since 0.1.0 @category constants */
export const ALIAS = "qwen"
/** The marker OpenClaw reads as "take the token from the auth profile"; not a secret. */
export const API_KEY_MARKER = "qwen-oauth"
/** @since 0.1.0 @category constants */
export const DEFAULT_MODEL_HINT = `Default model available: ${CODER_REF} (use --set-default to apply)`

const zeroCost = () => ({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0 })

/**
 * The provider's model list exactly as files.md shows it (a fresh copy each call).
 *
 * @since 0.1.0
 * @category constants
 */
export const qwenModels = (): Array<JsonObject> => [
  {
    id: "coder-model",
    name: "Qwen Coder",
    reasoning: false,
    input: ["text"],
    cost: zeroCost(),
    contextWindow: 128000,
    maxTokens: 8192
  },
  {
    id: "vision-model",
    name: "Qwen Vision",
    reasoning: false,
    input: ["text", "image"],
    cost: zeroCost(),
    contextWindow: 128000,
    maxTokens: 8192
  }
]

/** @since 0.1.0 @category models */
export interface LoginMergeInput {
  /** `normalize(resource_url)`, or the default API base (protocol.md §5). */
  readonly baseUrl: string
  readonly setDefault: boolean
  /** From the state file: a config `baseUrl` equal to this one is ours, any other is the user's. */
  readonly lastWrittenBaseUrl?: string | undefined
  /** Model lists an earlier qwen-auth wrote; such a list may be replaced like our current one. */
  readonly lastWrittenModels?: ReadonlyArray<unknown> | undefined
}

/** @since 0.1.0 @category models */
export interface MergeResult {
  readonly config: JsonObject
  /** Something the user should know about (kept alias, kept baseUrl, …); printed on stderr. */
  readonly warnings: ReadonlyArray<string>
  /** Informational lines, e.g. {@link DEFAULT_MODEL_HINT}; printed on stderr. */
  readonly notices: ReadonlyArray<string>
  /** The base URL the provider entry holds after the merge. */
  readonly baseUrlUsed: string
  /** True when we wrote our own `baseUrl` (false when a user's was kept). */
  readonly baseUrlIsOurs: boolean
  readonly changed: boolean
}

// ---------------------------------------------------------------------------
// Small helpers over plain JSON
// ---------------------------------------------------------------------------

const objectAt = (o: JsonObject, key: string): JsonObject => {
  const v = o[key]
  return isRecord(v) ? v : {}
}

/** Returns a copy of `o` with `path` set through `f`, creating objects on the way. */
const updateIn = (o: JsonObject, path: ReadonlyArray<string>, f: (current: unknown) => unknown): JsonObject => {
  const [head, ...rest] = path
  if (head === undefined) return o
  const next = rest.length === 0 ? f(o[head]) : updateIn(objectAt(o, head), rest, f)
  return { ...o, [head]: next }
}

const getIn = (o: unknown, path: ReadonlyArray<string>): unknown =>
  path.reduce<unknown>((cur, key) => (isRecord(cur) ? cur[key] : undefined), o)

/** The primary default model, whether `agents.defaults.model` is a string or `{ primary }`. */
export const currentDefault = (config: unknown): string | undefined => {
  const model = getIn(config, ["agents", "defaults", "model"])
  if (typeof model === "string") return model.trim() === "" ? undefined : model
  const primary = isRecord(model) ? model["primary"] : undefined
  return typeof primary === "string" && primary.trim() !== "" ? primary : undefined
}

/** Sets the primary default; a `{ primary, fallbacks }` object keeps its other keys. */
const withPrimary = (config: JsonObject, ref: string): { config: JsonObject; previous: string | undefined } => {
  const previous = currentDefault(config)
  const next = updateIn(config, ["agents", "defaults", "model"], (m) => {
    if (isRecord(m)) return { ...m, primary: ref }
    // A bare string (or nothing) means "primary only": the object form says the same, plus ours.
    return { primary: ref }
  })
  return { config: next, previous }
}

// ---------------------------------------------------------------------------
// Provider entry (shared by openclaw.json and models.json)
// ---------------------------------------------------------------------------

interface ProviderMerge {
  readonly provider: JsonObject
  readonly warnings: ReadonlyArray<string>
  readonly baseUrlUsed: string
  readonly baseUrlIsOurs: boolean
}

const mergeProvider = (existing: unknown, input: LoginMergeInput, where: string): ProviderMerge => {
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
  return {
    provider: {
      ...p,
      baseUrl: baseUrlUsed,
      apiKey: API_KEY_MARKER,
      api: "openai-completions",
      models: replaceable ? qwenModels() : models
    },
    warnings,
    baseUrlUsed,
    baseUrlIsOurs: !userOwned
  }
}

// ---------------------------------------------------------------------------
// Login merge
// ---------------------------------------------------------------------------

/** The alias `qwen` on another model than ours, if any (OpenClaw matches aliases case-insensitively). */
const aliasOwner = (models: JsonObject): string | undefined =>
  Object.entries(models).find(([ref, entry]) =>
    ref !== CODER_REF && isRecord(entry) && typeof entry["alias"] === "string" &&
    entry["alias"].trim().toLowerCase() === ALIAS
  )?.[0]

/**
 * Adds a login's entries to a parsed `openclaw.json` (`{}` for a missing file): the plugin entry,
 * the provider, the two model entries with the alias, the auth profile and, with `setDefault`,
 * the default model.
 *
 * @since 0.1.0
 * @category merge
 */
export const mergeLogin = (config: JsonObject, input: LoginMergeInput): MergeResult => {
  const warnings: Array<string> = []
  const notices: Array<string> = []
  // Keys are visited in files.md's order, so a fresh file reads exactly as documented.
  let next = updateIn(config, ["plugins", "entries", PLUGIN_ID], (e) => ({ ...(isRecord(e) ? e : {}), enabled: true }))
  const allow = getIn(next, ["plugins", "allow"])
  if (Array.isArray(allow) && !allow.includes(PLUGIN_ID)) {
    warnings.push(`plugins.allow does not list ${PLUGIN_ID}; add it there or OpenClaw will not load the plugin.`)
  }
  const deny = getIn(next, ["plugins", "deny"])
  if (Array.isArray(deny) && deny.includes(PLUGIN_ID)) {
    warnings.push(`plugins.deny lists ${PLUGIN_ID}; remove it there or OpenClaw will not load the plugin.`)
  }

  const provider = mergeProvider(getIn(next, ["models", "providers", PROVIDER_ID]), input, "openclaw.json")
  warnings.push(...provider.warnings)
  next = updateIn(next, ["models", "providers", PROVIDER_ID], () => provider.provider)

  const models = objectAt(objectAt(objectAt(next, "agents"), "defaults"), "models")
  const owner = aliasOwner(models)
  next = updateIn(next, ["agents", "defaults", "models", CODER_REF], (e) => {
    const entry = isRecord(e) ? e : {}
    const alias = entry["alias"]
    if (typeof alias === "string" && alias.trim() !== "" && alias !== ALIAS) {
      warnings.push(`${CODER_REF} keeps your alias "${alias}"; "${ALIAS}" was not added.`)
      return entry
    }
    if (owner !== undefined) {
      warnings.push(`The alias "${ALIAS}" already names ${owner}; it was not added to ${CODER_REF}.`)
      return entry
    }
    return { ...entry, alias: ALIAS }
  })
  next = updateIn(next, ["agents", "defaults", "models", VISION_REF], (e) => (isRecord(e) ? e : {}))

  if (input.setDefault) {
    const set = withPrimary(next, CODER_REF)
    next = set.config
    if (set.previous !== undefined && set.previous !== CODER_REF) {
      notices.push(`Default model changed from ${set.previous} to ${CODER_REF}.`)
    }
  } else if (currentDefault(next) !== CODER_REF) {
    notices.push(DEFAULT_MODEL_HINT)
  }

  next = updateIn(next, ["auth", "profiles", PROFILE_ID], (e) => ({
    ...(isRecord(e) ? e : {}),
    provider: PROVIDER_ID,
    mode: "oauth"
  }))

  return {
    config: next,
    warnings,
    notices,
    baseUrlUsed: provider.baseUrlUsed,
    baseUrlIsOurs: provider.baseUrlIsOurs,
    changed: !jsonEqual(config, next)
  }
}

/**
 * Merges the same provider object into a parsed `<agent>/models.json` (`{}` when missing) under
 * `providers["qwen-portal"]`, keeping a user's explicit `baseUrl` by the same rule.
 *
 * @since 0.1.0
 * @category merge
 */
export const mergeModelsFile = (models: JsonObject, input: LoginMergeInput): MergeResult => {
  const provider = mergeProvider(getIn(models, ["providers", PROVIDER_ID]), input, "models.json")
  const next = updateIn(models, ["providers", PROVIDER_ID], () => provider.provider)
  return {
    config: next,
    warnings: provider.warnings,
    notices: [],
    baseUrlUsed: provider.baseUrlUsed,
    baseUrlIsOurs: provider.baseUrlIsOurs,
    changed: !jsonEqual(models, next)
  }
}

// ---------------------------------------------------------------------------
// models list / models set
// ---------------------------------------------------------------------------

/** One row of `models list`. @since 0.1.0 @category models */
export interface ModelRow {
  readonly ref: string
  readonly alias: string | null
  /** Input kinds from the provider's model entry (`text`, `image`); empty when unknown. */
  readonly input: ReadonlyArray<string>
  readonly default: boolean
}

const providerModels = (config: unknown, provider: string): ReadonlyArray<JsonObject> => {
  const list = getIn(config, ["models", "providers", provider, "models"])
  return Array.isArray(list) ? list.filter(isRecord) : []
}

const inputOf = (config: unknown, ref: string): ReadonlyArray<string> => {
  const slash = ref.indexOf("/")
  if (slash <= 0) return []
  const id = ref.slice(slash + 1)
  const entry = providerModels(config, ref.slice(0, slash)).find((m) => m["id"] === id)
  const input = entry?.["input"]
  return Array.isArray(input) ? input.filter((s): s is string => typeof s === "string") : []
}

/** Refs `models set` accepts: `agents.defaults.models` keys, then the qwen-portal provider's models. */
const knownRefs = (config: unknown): Array<string> => {
  const configured = getIn(config, ["agents", "defaults", "models"])
  const refs = isRecord(configured) ? Object.keys(configured) : []
  for (const m of providerModels(config, PROVIDER_ID)) {
    const ref = typeof m["id"] === "string" ? `${PROVIDER_ID}/${m["id"]}` : undefined
    if (ref !== undefined && !refs.includes(ref)) refs.push(ref)
  }
  return refs
}

const aliasOf = (config: unknown, ref: string): string | null => {
  const alias = getIn(config, ["agents", "defaults", "models", ref, "alias"])
  return typeof alias === "string" && alias.trim() !== "" ? alias : null
}

/**
 * The rows of `models list`: every known ref, plus the current default when it is none of them.
 *
 * @since 0.1.0
 * @category models
 */
export const listModels = (config: unknown): ReadonlyArray<ModelRow> => {
  const primary = currentDefault(config)
  const refs = knownRefs(config)
  if (primary !== undefined && !refs.includes(primary)) refs.push(primary)
  return refs.map((ref) => ({ ref, alias: aliasOf(config, ref), input: inputOf(config, ref), default: ref === primary }))
}

/**
 * Resolves a ref or an alias (case-insensitive) to a canonical `provider/model`.
 *
 * @since 0.1.0
 * @category models
 */
export const resolveModelRef = (config: unknown, ref: string): Result.Result<string, UnknownModelRef> => {
  const wanted = ref.trim()
  const refs = knownRefs(config)
  if (refs.includes(wanted)) return Result.succeed(wanted)
  const byAlias = refs.find((r) => aliasOf(config, r)?.trim().toLowerCase() === wanted.toLowerCase())
  return byAlias !== undefined ? Result.succeed(byAlias) : Result.fail(new UnknownModelRef({ ref, known: refs }))
}

/**
 * `models set <ref>`: stores the canonical ref in `agents.defaults.model.primary`, keeping
 * fallbacks. A qwen-portal model missing from `agents.defaults.models` is added there too, because
 * OpenClaw treats a non-empty `agents.defaults.models` as the list of allowed models.
 *
 * @since 0.1.0
 * @category models
 */
export const setDefaultModel = (
  config: JsonObject,
  ref: string
): Result.Result<{ readonly config: JsonObject; readonly ref: string; readonly changed: boolean }, UnknownModelRef> =>
  Result.map(resolveModelRef(config, ref), (canonical) => {
    const withEntry = updateIn(config, ["agents", "defaults", "models", canonical], (e) => (isRecord(e) ? e : {}))
    const next = withPrimary(withEntry, canonical).config
    return { config: next, ref: canonical, changed: !jsonEqual(config, next) }
  })
