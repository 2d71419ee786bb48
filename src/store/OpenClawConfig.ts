/**
 * Reading and rewriting OpenClaw's `openclaw.json` (JSON5) and `<agent>/models.json` (files.md
 * "OpenClaw: config openclaw.json" and "Writing any of these files").
 *
 * Neither file has a lock, so a rewrite is optimistic: the file is re-read right before the
 * atomic rename and, if it changed since it was read, the merge is redone once. A file we cannot
 * parse, or a config using `$include`, is never rewritten. Before rewriting a config that
 * qwen-auth did not write last, its original bytes go to `openclaw.json.qwen-auth.bak`.
 *
 * The state file (`lastWrittenBaseUrl`, `lastWrittenConfigSha256`) belongs to the caller: these
 * functions take its values and return the new ones.
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Option, PlatformError, Result } from "effect"
import JSON5 from "json5"
import { createHash } from "node:crypto"
import { dirname } from "node:path"
import { DEFAULT_API_BASE_URL } from "../Config.ts"
import { ConfigProblem, FileAccessError, MalformedFile } from "../domain/Errors.ts"
import { accessError, ensureDirectory, type FileRead, readFileIfExists, tempPathFor, writeFileAtomic } from "./AtomicWrite.ts"
import {
  currentDefault,
  isRecord,
  type JsonObject,
  listModels,
  mergeLogin,
  mergeModelsFile,
  type ModelRow,
  setDefaultModel,
  UnknownModelRef
} from "./ConfigMerge.ts"

// =============================================================================
// Models
// =============================================================================

/** The two OpenClaw files a login writes (see `pathsOf`). @since 0.1.0 @category models */
export interface OpenClawFiles {
  readonly openclawConfig: string
  readonly modelsJson: string
}

/** What qwen-auth last wrote, as kept in its state file. @since 0.1.0 @category models */
export interface LastWritten {
  readonly baseUrl?: string | undefined
  readonly configSha256?: string | undefined
}

/** @since 0.1.0 @category models */
export interface LoginConfigInput {
  /** `normalize(resource_url)` or the default API base (protocol.md §5). */
  readonly baseUrl: string
  readonly setDefault: boolean
  /** Model lists an earlier qwen-auth version wrote (replaceable like today's). */
  readonly lastWrittenModels?: ReadonlyArray<unknown> | undefined
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

/** The backup of a config we rewrite without having written it last. @since 0.1.0 @category paths */
export const backupPathOf = (configPath: string): string => `${configPath}.qwen-auth.bak`

/** @since 0.1.0 @category utils */
export const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex")

/** Our output format: JSON, 2-space indent, final newline. @since 0.1.0 @category utils */
export const renderJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`

// =============================================================================
// Parsing
// =============================================================================

interface Parsed {
  readonly read: Option.Option<FileRead>
  readonly value: JsonObject
  readonly sha256: string | undefined
}

/**
 * Parses JSON5 text; a syntax error names the file and line/column, a non-object root is refused.
 * An empty (whitespace-only) file counts as `{}`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseJson5 = (path: string, text: string): Result.Result<JsonObject, MalformedFile> => {
  if (text.trim() === "") return Result.succeed({})
  try {
    const value: unknown = JSON5.parse(text)
    return isRecord(value)
      ? Result.succeed(value)
      : Result.fail(new MalformedFile({ path, problem: "expected a JSON object at the top level" }))
  } catch (e) {
    const err = e as { message?: unknown; lineNumber?: unknown; columnNumber?: unknown }
    const where = typeof err.lineNumber === "number" && typeof err.columnNumber === "number"
      ? `line ${err.lineNumber}, column ${err.columnNumber}: `
      : ""
    const detail = typeof err.message === "string" ? err.message.replace(/^JSON5: /, "").replace(/ at \d+:\d+$/, "") : "unparsable"
    return Result.fail(new MalformedFile({ path, problem: `not valid JSON5 (${where}${detail})` }))
  }
}

/** The dotted path of the first `$include` key, if any. @since 0.1.0 @category parsing */
export const findInclude = (value: unknown, at: string = ""): string | undefined => {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = findInclude(v, `${at}[${i}]`)
      if (found !== undefined) return found
    }
  } else if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) {
      const here = at === "" ? k : `${at}.${k}`
      if (k === "$include") return here
      const found = findInclude(v, here)
      if (found !== undefined) return found
    }
  }
  return undefined
}

const readParsed = Effect.fnUntraced(function*(
  path: string
): Effect.fn.Return<Parsed, MalformedFile | FileAccessError, FileSystem.FileSystem> {
  const read = yield* readFileIfExists(path)
  if (Option.isNone(read)) return { read, value: {}, sha256: undefined }
  const value = yield* Effect.fromResult(parseJson5(path, read.value.text))
  return { read, value, sha256: sha256Hex(read.value.text) }
})

const includeProblem = (path: string, at: string, entries: JsonObject) =>
  new ConfigProblem({
    path,
    problem: `uses $include (at ${at}), so qwen-auth will not rewrite it. ` +
      `Add these entries by hand (merged into what is there):\n${renderJson(entries).trimEnd()}`
  })

/**
 * Reads `openclaw.json` (JSON5); `{}` when it does not exist.
 *
 * @since 0.1.0
 * @category reading
 */
export const readConfig = (path: string): Effect.Effect<JsonObject, MalformedFile | FileAccessError, FileSystem.FileSystem> =>
  Effect.map(readParsed(path), (p) => p.value)

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

// =============================================================================
// Optimistic rewrite
// =============================================================================

interface Rewrite<A> {
  readonly next: JsonObject
  readonly changed: boolean
  readonly extra: A
}

interface RewriteOptions<A, E> {
  readonly merge: (value: JsonObject) => Effect.Effect<Rewrite<A>, E>
  /** Refuse `$include`, showing these entries to add by hand. */
  readonly includeEntries?: (value: JsonObject) => JsonObject
  /** Back up a file whose hash differs from this (openclaw.json only). */
  readonly backupUnless?: { readonly sha256: string | undefined }
}

const sameFile = (a: Option.Option<FileRead>, b: Option.Option<FileRead>) =>
  Option.isNone(a) ? Option.isNone(b) : Option.isSome(b) &&
    a.value.mtimeMs === b.value.mtimeMs && a.value.size === b.value.size && a.value.text === b.value.text

/** Copies the original bytes (not the decoded text) with the original mode, atomically. */
const writeBackup = Effect.fnUntraced(function*(path: string, mode: number) {
  const fs = yield* FileSystem.FileSystem
  const backup = backupPathOf(path)
  const temp = tempPathFor(backup)
  yield* Effect.gen(function*() {
    const bytes = yield* fs.readFile(path)
    yield* fs.writeFile(temp, bytes, { flag: "wx", mode })
    yield* fs.chmod(temp, mode)
    yield* fs.rename(temp, backup)
  }).pipe(
    Effect.mapError(accessError(backup, "back up to")),
    Effect.onExit((exit) => exit._tag === "Success" ? Effect.void : fs.remove(temp, { force: true }).pipe(Effect.ignore))
  )
  return backup
})

/**
 * One read-merge-write pass. The FileSystem seen by the atomic write checks, right before its
 * rename, that the file is still the one we read; `Conflict` reports that it was not.
 */
const rewriteOnce = <A, E>(path: string, options: RewriteOptions<A, E>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const parsed = yield* readParsed(path)
    const at = options.includeEntries === undefined ? undefined : findInclude(parsed.value)
    if (at !== undefined && options.includeEntries !== undefined) {
      return yield* includeProblem(path, at, options.includeEntries(parsed.value))
    }
    const merged = yield* options.merge(parsed.value)
    if (!merged.changed && Option.isSome(parsed.read)) {
      return { _tag: "Done", outcome: { written: false, text: undefined, backup: undefined, extra: merged.extra } } as const
    }
    const text = renderJson(merged.next)
    yield* ensureDirectory(dirname(path))
    let backup: string | undefined
    if (options.backupUnless !== undefined && Option.isSome(parsed.read) && parsed.sha256 !== options.backupUnless.sha256) {
      backup = yield* writeBackup(path, parsed.read.value.mode)
    }
    let conflict = false
    const guarded = FileSystem.FileSystem.of({
      ...fs,
      rename: (from, to) =>
        Effect.gen(function*() {
          const now = yield* readFileIfExists(path).pipe(Effect.option, Effect.provideService(FileSystem.FileSystem, fs))
          if (Option.isNone(now) || !sameFile(parsed.read, now.value)) {
            conflict = true
            return yield* new PlatformError.PlatformError(
              new PlatformError.SystemError({ _tag: "Busy", module: "FileSystem", method: "rename", description: "changed since read" })
            )
          }
          return yield* fs.rename(from, to)
        })
    })
    const wrote = yield* writeFileAtomic(path, text, { credential: false }).pipe(
      Effect.provideService(FileSystem.FileSystem, guarded),
      Effect.as(true),
      Effect.catchIf((e) => conflict && e._tag === "FileAccessError", () => Effect.succeed(false))
    )
    if (!wrote) return { _tag: "Conflict" } as const
    return { _tag: "Done", outcome: { written: true, text, backup, extra: merged.extra } } as const
  })

/** Runs `rewriteOnce`, redoing the merge once when another program changed the file meanwhile. */
const rewrite = <A, E>(path: string, options: RewriteOptions<A, E>) =>
  Effect.gen(function*() {
    for (let attempt = 1; attempt <= 2; attempt++) {
      const result = yield* rewriteOnce(path, options)
      if (result._tag === "Done") return result.outcome
    }
    return yield* new FileAccessError({
      path,
      operation: "update",
      detail: "another program kept changing it while qwen-auth was writing; nothing was written, try again"
    })
  })

// =============================================================================
// Login
// =============================================================================

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
  const mergeInput = { ...input, lastWrittenBaseUrl: lastWritten.baseUrl }
  const config = yield* rewrite(files.openclawConfig, {
    merge: (value) => {
      const r = mergeLogin(value, mergeInput)
      return Effect.succeed({ next: r.config, changed: r.changed, extra: r })
    },
    includeEntries: () => mergeLogin({}, { baseUrl: input.baseUrl, setDefault: input.setDefault }).config,
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

// =============================================================================
// models list / models set
// =============================================================================

/**
 * The rows of `models list` from `openclaw.json` (none when it does not exist).
 *
 * @since 0.1.0
 * @category models
 */
export const readModelRows = (
  configPath: string
): Effect.Effect<ReadonlyArray<ModelRow>, MalformedFile | FileAccessError, FileSystem.FileSystem> =>
  Effect.map(readConfig(configPath), listModels)

/**
 * `models set <ref>`: resolves a ref or alias and stores it as the primary default model,
 * keeping fallbacks; backup and change detection as for a login. Persist `lastWritten`.
 *
 * @since 0.1.0
 * @category models
 */
export const applyDefaultModel = Effect.fn("OpenClawConfig.applyDefaultModel")(function*(
  configPath: string,
  ref: string,
  lastWritten: LastWritten
) {
  const outcome = yield* rewrite(configPath, {
    merge: (value) =>
      Result.match(setDefaultModel(value, ref), {
        onFailure: (e) => Effect.fail<UnknownModelRef>(e),
        onSuccess: (r) => Effect.succeed({ next: r.config, changed: r.changed, extra: r.ref })
      }),
    includeEntries: (value) => {
      const canonical = Result.getOrElse(setDefaultModel(value, ref), () => undefined)?.ref ?? ref
      return { agents: { defaults: { model: { primary: canonical } } } }
    },
    backupUnless: { sha256: lastWritten.configSha256 }
  })
  return {
    ref: outcome.extra,
    wrote: outcome.written,
    ...(outcome.backup === undefined ? {} : { backup: outcome.backup }),
    lastWritten: {
      baseUrl: lastWritten.baseUrl,
      configSha256: outcome.text === undefined ? lastWritten.configSha256 : sha256Hex(outcome.text)
    } satisfies LastWritten
  }
})
