/**
 * qwen-auth's own state file `<qwen home>/qwen-auth.json` (cli-contract.md "qwen-auth's own
 * state file"): hashes of refused, logged-out and spent refresh tokens, of the login qwen-auth last
 * wrote to Qwen Code's file, the issued token lifetime and what qwen-auth last wrote to the
 * OpenClaw config. Hashes only, never tokens. Rewritten only while holding Qwen Code's lock.
 *
 * @since 0.1.0
 */
import { Effect, type FileSystem, Option, Schema } from "effect"
import { type Credentials, tokenHash } from "../domain/Credentials.ts"
import { type FileAccessError, type LockError, MalformedFile } from "../domain/Errors.ts"
import { pathsOf, QwenAuthConfig } from "../Config.ts"
import { ensureDirectory, type FileRead } from "./AtomicWrite.ts"
import * as CredentialFile from "./CredentialFile.ts"
import type { Codec, Read } from "./CredentialFile.ts"
import { decodeField, type JsonObject, parseJsonObject, stringifyJson } from "./JsonFile.ts"
import * as QwenCodeLock from "./locks/QwenCodeLock.ts"

/** The state file version qwen-auth writes. @since 0.1.0 @category constants */
export const STATE_VERSION = 1
/** How many hashes each list keeps (oldest dropped first). @since 0.1.0 @category constants */
export const MAX_HASHES = 64
/** How many rotated-away refresh tokens are remembered. @since 0.1.0 @category constants */
export const MAX_SPENT = 16

/** The state file's fields. @since 0.1.0 @category schemas */
export const StateJson = Schema.Struct({
  version: Schema.Number,
  refusedRefreshTokens: Schema.optionalKey(Schema.Array(Schema.String)),
  loggedOut: Schema.optionalKey(Schema.Array(Schema.String)),
  spentRefreshTokens: Schema.optionalKey(Schema.Array(Schema.String)),
  qwenCodeWritten: Schema.optionalKey(Schema.String),
  qwenCodeForeign: Schema.optionalKey(Schema.Boolean),
  issuedLifetimeSeconds: Schema.optionalKey(Schema.Finite),
  resourceUrl: Schema.optionalKey(Schema.String),
  lastWrittenBaseUrl: Schema.optionalKey(Schema.String),
  lastWrittenConfigSha256: Schema.optionalKey(Schema.String)
})

/** The state, with empty lists when absent. @since 0.1.0 @category models */
export interface State {
  readonly refusedRefreshTokens: ReadonlyArray<string>
  readonly loggedOut: ReadonlyArray<string>
  /** Refresh tokens qwen-auth rotated away (the server spent them): a copy holding one is behind. */
  readonly spentRefreshTokens: ReadonlyArray<string>
  /**
   * The login qwen-auth last wrote to Qwen Code's `oauth_creds.json` (hash of its refresh token),
   * while that file still holds it or has vanished.
   */
  readonly qwenCodeWritten?: string
  /**
   * Set once that file was seen holding a login qwen-auth did not write. A vanished file is
   * recreated only while this is unset: whoever removed their own login may have meant it.
   */
  readonly qwenCodeForeign?: boolean
  readonly issuedLifetimeSeconds?: number
  readonly resourceUrl?: string
  readonly lastWrittenBaseUrl?: string
  readonly lastWrittenConfigSha256?: string
}

/** The state when there is no file. @since 0.1.0 @category constants */
export const emptyState: State = { refusedRefreshTokens: [], loggedOut: [], spentRefreshTokens: [] }

/** The state file as read. @since 0.1.0 @category models */
export interface StateFile {
  readonly state: State
  readonly raw: JsonObject
  readonly file: FileRead
}

/** Decodes the state file's text. @since 0.1.0 @category decoding */
export const decode = (path: string, text: string): Effect.Effect<{ state: State; raw: JsonObject }, MalformedFile> =>
  Effect.gen(function*() {
    const raw = yield* parseJsonObject(path, text)
    const json = yield* decodeField(StateJson, path, raw)
    if (json.version !== STATE_VERSION) {
      return yield* new MalformedFile({
        path,
        problem: `has state version ${json.version}; this qwen-auth understands only version ${STATE_VERSION}`
      })
    }
    const { version: _v, ...fields } = json
    return {
      state: {
        ...fields,
        refusedRefreshTokens: json.refusedRefreshTokens ?? [],
        loggedOut: json.loggedOut ?? [],
        spentRefreshTokens: json.spentRefreshTokens ?? []
      },
      raw
    }
  })

/** The file's text for `state` over `raw` (unknown keys kept). @since 0.1.0 @category encoding */
export const encode = (state: State, raw: JsonObject = {}): string => {
  const known = [
    "refusedRefreshTokens",
    "loggedOut",
    "spentRefreshTokens",
    "qwenCodeWritten",
    "qwenCodeForeign",
    "issuedLifetimeSeconds",
    "resourceUrl",
    "lastWrittenBaseUrl",
    "lastWrittenConfigSha256"
  ]
  const rest = Object.fromEntries(Object.entries(raw).filter(([k]) => !known.includes(k)))
  return stringifyJson({
    ...rest,
    version: STATE_VERSION,
    refusedRefreshTokens: state.refusedRefreshTokens.slice(-MAX_HASHES),
    loggedOut: state.loggedOut.slice(-MAX_HASHES),
    ...(state.spentRefreshTokens.length > 0 ? { spentRefreshTokens: state.spentRefreshTokens.slice(-MAX_SPENT) } : {}),
    ...(state.qwenCodeWritten !== undefined ? { qwenCodeWritten: state.qwenCodeWritten } : {}),
    ...(state.qwenCodeForeign === true ? { qwenCodeForeign: true } : {}),
    ...(state.issuedLifetimeSeconds !== undefined ? { issuedLifetimeSeconds: state.issuedLifetimeSeconds } : {}),
    ...(state.resourceUrl !== undefined ? { resourceUrl: state.resourceUrl } : {}),
    ...(state.lastWrittenBaseUrl !== undefined ? { lastWrittenBaseUrl: state.lastWrittenBaseUrl } : {}),
    ...(state.lastWrittenConfigSha256 !== undefined ? { lastWrittenConfigSha256: state.lastWrittenConfigSha256 } : {})
  })
}

/** The file's codec, for `CredentialFile.read`/`write`. @since 0.1.0 @category codecs */
export const codec: Codec<{ state: State; raw: JsonObject }, State> = {
  decode,
  encode: (state, raw) => encode(state, raw)
}

/** The state to judge by: a missing or broken file counts as empty (a broken one is reported). @since 0.1.0 @category utils */
export const stateOf = (read: Read<{ readonly state: State }>): State => read._tag === "Ok" ? read.value.state : emptyState

// =============================================================================
// Queries and changes
// =============================================================================

const addHash = (list: ReadonlyArray<string>, hash: string) => [...list.filter((h) => h !== hash), hash]

/** Records a refused refresh token (by hash). @since 0.1.0 @category changes */
export const withRefused = (state: State, refreshToken: NonNullable<Credentials["refreshToken"]>): State => ({
  ...state,
  refusedRefreshTokens: addHash(state.refusedRefreshTokens, tokenHash(refreshToken))
})

/** Records a logout of a refresh token (by hash). @since 0.1.0 @category changes */
export const withLoggedOut = (state: State, refreshToken: NonNullable<Credentials["refreshToken"]>): State => ({
  ...state,
  loggedOut: addHash(state.loggedOut, tokenHash(refreshToken))
})

/** What else a save records, in the same locked step. @since 0.1.0 @category models */
export interface SaveFacts {
  /** A refresh token the server refused. */
  readonly refused?: Credentials["refreshToken"]
  /** The refresh token this save's refresh rotated away. */
  readonly spent?: Credentials["refreshToken"]
  /**
   * Qwen Code's file after the save: "written" (by this save), "foreign" (holds a login qwen-auth
   * did not write), or "kept" (unchanged, or vanished: what qwen-auth knew stays).
   */
  readonly qwenCode: "written" | "foreign" | "kept"
}

/**
 * The state after `next` was saved: its hash is no longer blocked; its issued lifetime and
 * `resource_url` are remembered (OpenClaw's profile keeps neither); refused and spent refresh
 * tokens are recorded, and who wrote Qwen Code's file.
 *
 * @since 0.1.0
 * @category changes
 */
export const afterSave = (state: State, next: Credentials, facts: SaveFacts): State => {
  const key = tokenHash(next.stateKey)
  const { resourceUrl: _r, qwenCodeWritten: _q, qwenCodeForeign: _f, ...rest } = state
  const spent = facts.spent !== undefined && tokenHash(facts.spent) !== key ? [tokenHash(facts.spent)] : []
  const qwenCodeWritten = facts.qwenCode === "written" ? key : facts.qwenCode === "foreign" ? undefined : state.qwenCodeWritten
  const qwenCodeForeign = facts.qwenCode === "written" ? false : facts.qwenCode === "foreign" ? true : state.qwenCodeForeign === true
  const saved: State = {
    ...rest,
    refusedRefreshTokens: state.refusedRefreshTokens.filter((h) => h !== key),
    loggedOut: state.loggedOut.filter((h) => h !== key),
    spentRefreshTokens: [...state.spentRefreshTokens.filter((h) => h !== key && !spent.includes(h)), ...spent].slice(-MAX_SPENT),
    ...(qwenCodeWritten !== undefined ? { qwenCodeWritten } : {}),
    ...(qwenCodeForeign ? { qwenCodeForeign } : {}),
    ...(next.lifetimeMs !== undefined ? { issuedLifetimeSeconds: next.lifetimeMs / 1000 } : {}),
    ...(next.resourceUrl !== undefined ? { resourceUrl: next.resourceUrl } : {})
  }
  return facts.refused === undefined ? saved : withRefused(saved, facts.refused)
}

/** Records a rotated-away refresh token (by hash). @since 0.1.0 @category changes */
export const withSpent = (state: State, refreshToken: NonNullable<Credentials["refreshToken"]>): State => ({
  ...state,
  spentRefreshTokens: addHash(state.spentRefreshTokens, tokenHash(refreshToken)).slice(-MAX_SPENT)
})

/**
 * Whether qwen-auth may create Qwen Code's file where it is missing: it wrote the version that
 * vanished, or it never saw a login there that it did not write.
 *
 * @since 0.1.0
 * @category queries
 */
export const mayRecreateQwenCode = (state: State): boolean => state.qwenCodeWritten !== undefined || state.qwenCodeForeign !== true

/** Whether a refresh token is one qwen-auth rotated away. @since 0.1.0 @category queries */
export const isSpent = (state: State, refreshToken: Credentials["refreshToken"]): boolean =>
  refreshToken !== undefined && state.spentRefreshTokens.length > 0 &&
  state.spentRefreshTokens.includes(tokenHash(refreshToken))

/**
 * Why `credentials` may not be used: "refused", "logged-out", "spent" (qwen-auth rotated that
 * refresh token away), or undefined when they may.
 * Credentials without a refresh token are judged by their access token's hash.
 *
 * @since 0.1.0
 * @category queries
 */
export const blockedReason = (state: State, credentials: Credentials): "refused" | "logged-out" | "spent" | undefined => {
  // Nothing recorded: no hash needed, so a read-only `status` never loads node:crypto (start-up, docs/benchmarks.md).
  if (state.loggedOut.length === 0 && state.refusedRefreshTokens.length === 0 && state.spentRefreshTokens.length === 0) {
    return undefined
  }
  const hash = tokenHash(credentials.refreshToken ?? credentials.accessToken)
  if (state.loggedOut.includes(hash)) return "logged-out"
  if (state.refusedRefreshTokens.includes(hash)) return "refused"
  if (credentials.refreshToken !== undefined && state.spentRefreshTokens.includes(hash)) return "spent"
  return undefined
}

// =============================================================================
// For other modules (login records what it wrote to the OpenClaw config)
// =============================================================================

/**
 * The current state (no lock; a missing file is the empty state).
 *
 * @since 0.1.0
 * @category io
 */
export const read: Effect.Effect<State, MalformedFile | FileAccessError, FileSystem.FileSystem | QwenAuthConfig> = Effect
  .gen(function*() {
    const paths = pathsOf(yield* QwenAuthConfig)
    const file = yield* CredentialFile.readOrFail(codec, paths.state)
    return Option.match(file, { onNone: () => emptyState, onSome: (f) => f.state })
  })

/**
 * Changes the state under Qwen Code's lock: re-reads, applies `f`, writes atomically. Do not
 * call it while already holding that lock (the lock is not re-entrant): use `readAt`/`writeAt`.
 *
 * @since 0.1.0
 * @category io
 */
export const update = (
  f: (state: State) => State
): Effect.Effect<State, MalformedFile | FileAccessError | LockError, FileSystem.FileSystem | QwenAuthConfig> =>
  Effect.gen(function*() {
    const settings = yield* QwenAuthConfig
    const paths = pathsOf(settings)
    yield* ensureDirectory(settings.qwenHome)
    return yield* Effect.gen(function*() {
      const file = yield* CredentialFile.readOrFail(codec, paths.state)
      const current = Option.match(file, { onNone: () => emptyState, onSome: (x) => x.state })
      const next = f(current)
      yield* CredentialFile.write(codec, paths.state, next, Option.getOrUndefined(Option.map(file, (x) => x.raw)))
      return next
    }).pipe(QwenCodeLock.withLock(paths.qwenLock))
  })
