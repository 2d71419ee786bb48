/**
 * The plugin's side of the shared files: Qwen Code's `oauth_creds.json` and qwen-auth's state
 * file, both under Qwen Code's `oauth_creds.lock`. The plugin never touches
 * `auth-profiles.json`: OpenClaw saves the profile itself, under its own lock, which it already
 * holds when it calls `refreshOAuth` (files.md "Lock order").
 *
 * @since 0.1.0
 */
import { Effect, type FileSystem, Option, type Scope } from "effect"
import { pathsOf, type Settings } from "../Config.ts"
import { type Credentials, tokenHash } from "../domain/Credentials.ts"
import type { FileAccessError, LockError, MalformedFile } from "../domain/Errors.ts"
import { ensureDirectory } from "../store/AtomicWrite.ts"
import * as QwenCodeLock from "../store/locks/QwenCodeLock.ts"
import * as QwenCodeFile from "../store/QwenCodeFile.ts"
import * as StateFile from "../store/StateFile.ts"

/** A file as read: missing, usable, or broken (a broken file is never rewritten). */
export type Read<A> =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Ok"; readonly value: A }
  | { readonly _tag: "Bad"; readonly error: MalformedFile | FileAccessError }

const toRead = <A, R>(
  effect: Effect.Effect<Option.Option<A>, MalformedFile | FileAccessError, R>
): Effect.Effect<Read<A>, never, R> =>
  effect.pipe(
    Effect.map((o): Read<A> => (Option.isSome(o) ? { _tag: "Ok", value: o.value } : { _tag: "Missing" })),
    Effect.catch((error) => Effect.succeed<Read<A>>({ _tag: "Bad", error }))
  )

/** What the plugin reads under the lock. */
export interface Shared {
  readonly qwen: Read<QwenCodeFile.QwenCodeFile>
  readonly state: Read<StateFile.StateFile>
}

/** The state to judge by (a broken state file counts as empty). */
export const stateOf = (shared: Shared): StateFile.State =>
  shared.state._tag === "Ok" ? shared.state.value.state : StateFile.emptyState

/** The Qwen Code file's credentials, unless qwen-auth recorded them as logged out or refused. */
export const usableStored = (shared: Shared): Credentials | undefined => {
  if (shared.qwen._tag !== "Ok") return undefined
  const stored = shared.qwen.value.credentials
  return StateFile.blockedReason(stateOf(shared), stored) === undefined ? stored : undefined
}

/** Reads both files; never fails. With sync off, the Qwen Code file counts as missing. */
export const readShared = (settings: Settings): Effect.Effect<Shared, never, FileSystem.FileSystem> => {
  const paths = pathsOf(settings)
  return Effect.all({
    qwen: settings.qwenCodeSync ? toRead(QwenCodeFile.read(paths.qwenCreds)) : Effect.succeed<Read<never>>({ _tag: "Missing" }),
    state: toRead(StateFile.readAt(paths.state))
  })
}

/** What a write should also record in the state file. */
export interface StateRecord {
  /** The token lifetime the server issued (seconds). */
  readonly issuedLifetimeSeconds?: number | undefined
  /** The base URL the login put into OpenClaw's config. */
  readonly lastWrittenBaseUrl?: string | undefined
  /** A refresh token the server refused (kept by hash). */
  readonly refused?: Credentials["refreshToken"]
}

/** The files actually written, for the caller's notes. */
export interface Written {
  readonly qwenCode: boolean
  readonly state: boolean
  /** Why the Qwen Code file was left alone although it should have been written. */
  readonly skipped: MalformedFile | FileAccessError | undefined
}

const nextState = (state: StateFile.State, next: Credentials | undefined, record: StateRecord): StateFile.State => {
  let s: StateFile.State = state
  if (next !== undefined) {
    // A fresh token must not stay listed as logged out or refused.
    const key = tokenHash(next.refreshToken ?? next.accessToken)
    s = {
      ...s,
      refusedRefreshTokens: s.refusedRefreshTokens.filter((h) => h !== key),
      loggedOut: s.loggedOut.filter((h) => h !== key)
    }
    const { resourceUrl: _r, ...rest } = s
    s = next.resourceUrl === undefined ? rest : { ...s, resourceUrl: next.resourceUrl }
  }
  if (record.issuedLifetimeSeconds !== undefined) s = { ...s, issuedLifetimeSeconds: record.issuedLifetimeSeconds }
  if (record.lastWrittenBaseUrl !== undefined) s = { ...s, lastWrittenBaseUrl: record.lastWrittenBaseUrl }
  if (record.refused !== undefined) s = StateFile.withRefused(s, record.refused)
  return s
}

/**
 * Writes `next` to the Qwen Code file (unless sync is off, it has no refresh token, or the file
 * is broken) and updates the state file (unless broken). Call while holding the lock.
 */
export const writeShared = (
  settings: Settings,
  shared: Shared,
  next: Credentials | undefined,
  record: StateRecord
): Effect.Effect<Written, MalformedFile | FileAccessError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const paths = pathsOf(settings)
    let qwenCode = false
    let skipped: Written["skipped"] = undefined
    if (next !== undefined && settings.qwenCodeSync && next.refreshToken !== undefined) {
      if (shared.qwen._tag === "Bad") {
        skipped = shared.qwen.error
      } else {
        const raw = shared.qwen._tag === "Ok" ? shared.qwen.value.raw : undefined
        yield* QwenCodeFile.write(paths.qwenCreds, next, raw)
        qwenCode = true
      }
    }
    let state = false
    if (shared.state._tag !== "Bad") {
      const raw = shared.state._tag === "Ok" ? shared.state.value.raw : undefined
      const current = stateOf(shared)
      const updated = nextState(current, next, record)
      if (shared.state._tag === "Missing" || StateFile.encode(updated, raw) !== StateFile.encode(current, raw)) {
        yield* StateFile.writeAt(paths.state, updated, raw)
        state = true
      }
    }
    return { qwenCode, state, skipped }
  })

/**
 * Runs `body` while holding Qwen Code's lock (the qwen home is created 0700 first).
 *
 * @since 0.1.0
 * @category locks
 */
export const withQwenLock = <A, E, R>(
  settings: Settings,
  body: Effect.Effect<A, E, R>
): Effect.Effect<A, E | LockError | FileAccessError, Exclude<R, Scope.Scope> | FileSystem.FileSystem> =>
  Effect.andThen(ensureDirectory(settings.qwenHome), QwenCodeLock.withLock(body, pathsOf(settings).qwenLock))
