/**
 * The models side of `openclaw.json`: our entries and alias in `agents.defaults.models`, the
 * default model `agents.defaults.model`, and the logic of `models list` / `models set` — pure
 * functions over parsed JSON (files.md "OpenClaw: config openclaw.json").
 *
 * Loads no JSON5 parser: `status` reads the default model through here (docs/benchmarks.md).
 *
 * @since 0.1.0
 */
import { Result, Runtime, Schema } from "effect"
import * as CliError from "effect/cli/CliError"
import { ExitCode } from "../../domain/Errors.ts"
import { ALIAS, CODER_REF, PROVIDER_ID, VISION_REF } from "./Ids.ts"
import { getIn, isRecord, type JsonObject, jsonEqual, objectAt, updateIn } from "./Json.ts"

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
export const DEFAULT_MODEL_HINT = `Default model available: ${CODER_REF} (use --set-default to apply)`

// ---------------------------------------------------------------------------
// Default model
// ---------------------------------------------------------------------------

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
// Login: our model entries, the alias and (with --set-default) the default
// ---------------------------------------------------------------------------

/** The alias `qwen` on another model than ours, if any (OpenClaw matches aliases case-insensitively). */
const aliasOwner = (models: JsonObject): string | undefined =>
  Object.entries(models).find(([ref, entry]) =>
    ref !== CODER_REF && isRecord(entry) && typeof entry["alias"] === "string" &&
    entry["alias"].trim().toLowerCase() === ALIAS
  )?.[0]

/**
 * Adds our two model entries to `agents.defaults.models`, the alias `qwen` on the coder model
 * (unless the user gave it another alias or `qwen` names another model) and, with `setDefault`,
 * makes the coder model the default; otherwise hints at `--set-default`.
 *
 * @since 0.1.0
 * @category merge
 */
export const mergeModelEntries = (config: JsonObject, setDefault: boolean): {
  readonly config: JsonObject
  readonly warnings: ReadonlyArray<string>
  readonly notices: ReadonlyArray<string>
} => {
  const warnings: Array<string> = []
  const notices: Array<string> = []
  const owner = aliasOwner(objectAt(objectAt(objectAt(config, "agents"), "defaults"), "models"))
  let next = updateIn(config, ["agents", "defaults", "models", CODER_REF], (e) => {
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

  if (setDefault) {
    const set = withPrimary(next, CODER_REF)
    next = set.config
    if (set.previous !== undefined && set.previous !== CODER_REF) {
      notices.push(`Default model changed from ${set.previous} to ${CODER_REF}.`)
    }
  } else if (currentDefault(next) !== CODER_REF) {
    notices.push(DEFAULT_MODEL_HINT)
  }
  return { config: next, warnings, notices }
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
