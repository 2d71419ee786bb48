/**
 * The implementation behind `CredentialStore.layer`: reads and reconciles every source, and
 * writes under the locks in the fixed order (OpenClaw's `auth-profiles.json` lock, then Qwen
 * Code's `oauth_creds.lock`). Kept apart from the contract file, which imports it.
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Option, type Scope } from "effect"
import { dirname } from "node:path"
import { pathsOf, QwenAuthConfig } from "../Config.ts"
import type { Credentials } from "../domain/Credentials.ts"
import { type FileAccessError, type LockError, MalformedFile } from "../domain/Errors.ts"
import { ensureDirectory, removeIfExists, sweepStaleTempFiles } from "./AtomicWrite.ts"
import type { LogoutReport, SaveOptions, Snapshot, StoreError, UpdateDecision } from "./CredentialStore.ts"
import * as QwenCodeLock from "./locks/QwenCodeLock.ts"
import { OpenClawLock } from "./locks/OpenClawLock.ts"
import * as OpenClawProfiles from "./OpenClawProfiles.ts"
import * as QwenCodeFile from "./QwenCodeFile.ts"
import {
  openclawCredentials,
  qwenCredentials,
  readSources,
  reconcile,
  sameCredentials,
  type Sources,
  stateKey,
  stateOf
} from "./Reconcile.ts"
import * as StateFile from "./StateFile.ts"
import { tokenHash } from "../domain/Credentials.ts"

/** Options of `update` (additive to the contract). @since 0.1.0 @category models */
export interface UpdateOptions {
  /** The host (OpenClaw) already holds its `auth-profiles.json` lock: take only Qwen Code's. */
  readonly openclawLockHeld?: boolean
}

type WriteError = MalformedFile | FileAccessError | LockError

/** Builds the store's operations; the services are captured once. */
export const makeStore = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const settings = yield* QwenAuthConfig
  const openclawLock = yield* OpenClawLock
  const paths = pathsOf(settings)
  const provideFs = Effect.provideService(FileSystem.FileSystem, fs)

  const read = provideFs(readSources(paths, settings.qwenCodeSync))

  /** Both locks in the fixed order; `guard` fails once OpenClaw's lock is lost. */
  const withLocks = <A, E, R>(
    body: (guard: Effect.Effect<void, LockError>) => Effect.Effect<A, E, R>,
    options?: UpdateOptions
  ): Effect.Effect<A, E | LockError, Exclude<R, Scope.Scope>> => {
    const qwenLocked = (guard: Effect.Effect<void, LockError>) =>
      Effect.andThen(provideFs(QwenCodeLock.acquire(paths.qwenLock)), body(guard))
    if (options?.openclawLockHeld === true) return Effect.scoped(qwenLocked(Effect.void))
    return Effect.scoped(
      Effect.flatMap(
        openclawLock.acquire(paths.authProfiles),
        (handle) => Effect.raceFirst(qwenLocked(handle.check), handle.compromised)
      )
    )
  }

  const sweep = Effect.all([
    sweepStaleTempFiles(settings.qwenHome),
    sweepStaleTempFiles(settings.openclawAgentDir)
  ]).pipe(Effect.asVoid, provideFs)

  /** The state after writing `next`: its hash is no longer blocked; lifetime and resource kept. */
  const stateFor = (
    state: StateFile.State,
    next: Credentials,
    lifetime: number | undefined,
    refused: Credentials["refreshToken"]
  ): StateFile.State => {
    const key = tokenHash(stateKey(next))
    const base: StateFile.State = {
      ...state,
      refusedRefreshTokens: state.refusedRefreshTokens.filter((h) => h !== key),
      loggedOut: state.loggedOut.filter((h) => h !== key)
    }
    const withLifetime = lifetime === undefined ? base : { ...base, issuedLifetimeSeconds: lifetime }
    const { resourceUrl: _r, ...withoutResource } = withLifetime
    const resourced = next.resourceUrl === undefined ? withoutResource : { ...withLifetime, resourceUrl: next.resourceUrl }
    return refused === undefined ? resourced : StateFile.withRefused(resourced, refused)
  }

  /**
   * Writes `next` to every writable target (a broken file is never overwritten), then the state
   * file. With `skipUnchanged`, targets that already hold `next` are left alone.
   */
  const writeTargets = (
    sources: Sources,
    next: Credentials,
    options: {
      readonly guard: Effect.Effect<void, LockError>
      readonly skipUnchanged: boolean
      readonly lifetime: number | undefined
      readonly refused?: Credentials["refreshToken"]
    }
  ): Effect.Effect<ReadonlyArray<string>, WriteError> =>
    Effect.gen(function*() {
      const written: Array<string> = []
      const skipped: Array<MalformedFile | FileAccessError> = []
      yield* options.guard
      if (sources.openclaw._tag === "Bad") {
        skipped.push(sources.openclaw.error)
      } else {
        const current = openclawCredentials(sources)
        if (!(options.skipUnchanged && current !== undefined && sameCredentials(current, next))) {
          yield* ensureDirectory(dirname(paths.authProfiles))
          const raw = sources.openclaw._tag === "Ok" ? sources.openclaw.value.raw : undefined
          yield* OpenClawProfiles.write(paths.authProfiles, next, raw)
          written.push(paths.authProfiles)
        }
      }
      // Credentials without a refresh token go only to the OpenClaw profile (files.md).
      if (settings.qwenCodeSync && next.refreshToken !== undefined) {
        if (sources.qwen._tag === "Bad") {
          skipped.push(sources.qwen.error)
        } else {
          const current = qwenCredentials(sources)
          if (!(options.skipUnchanged && current !== undefined && sameCredentials(current, next))) {
            yield* ensureDirectory(settings.qwenHome)
            const raw = sources.qwen._tag === "Ok" ? sources.qwen.value.raw : undefined
            yield* options.guard
            yield* QwenCodeFile.write(paths.qwenCreds, next, raw)
            written.push(paths.qwenCreds)
          }
        }
      }
      if (written.length === 0 && skipped.length > 0) {
        const anyCurrent = [openclawCredentials(sources), qwenCredentials(sources)].some((c) =>
          c !== undefined && sameCredentials(c, next)
        )
        if (!anyCurrent) return yield* Effect.fail(skipped[0]!)
      }
      // A broken state file is reported by `load` and left alone; the credentials still count.
      if (sources.state._tag !== "Bad") {
        const current = stateOf(sources)
        const nextState = stateFor(current, next, options.lifetime, options.refused)
        const raw = sources.state._tag === "Ok" ? sources.state.value.raw : undefined
        if (StateFile.encode(nextState, raw) !== StateFile.encode(current, raw) || sources.state._tag === "Missing") {
          yield* StateFile.writeAt(paths.state, nextState, raw)
          written.push(paths.state)
        }
      }
      return written
    }).pipe(provideFs)

  const requireState = (sources: Sources) =>
    sources.state._tag === "Bad" ? Effect.fail(sources.state.error) : Effect.succeed(stateOf(sources))

  const writeState = (sources: Sources, state: StateFile.State) =>
    StateFile.writeAt(paths.state, state, sources.state._tag === "Ok" ? sources.state.value.raw : undefined).pipe(
      provideFs
    )

  const load: Effect.Effect<Snapshot, StoreError> = Effect.flatMap(read, reconcile).pipe(
    Effect.withSpan("CredentialStore.load")
  )

  const save = Effect.fn("CredentialStore.save")(function*(credentials: Credentials, options?: SaveOptions) {
    return yield* withLocks((guard) =>
      Effect.gen(function*() {
        const sources = yield* read
        // The primary target must be writable: fail before writing anything.
        if (sources.openclaw._tag === "Bad") return yield* Effect.fail(sources.openclaw.error)
        const written = yield* writeTargets(sources, credentials, {
          guard,
          skipUnchanged: false,
          lifetime: options?.issuedLifetimeSeconds
        })
        yield* sweep
        return written
      })
    )
  })

  const update = <A, E, R>(
    f: (current: Snapshot) => Effect.Effect<UpdateDecision<A>, E, R>,
    options?: UpdateOptions
  ): Effect.Effect<A, E | StoreError, R> =>
    withLocks((guard) =>
      // Once `f` has an answer (perhaps a rotated refresh token the server already considers
      // spent), persisting it must not be interrupted: a lost rotation forces a new login.
      Effect.uninterruptibleMask((restore) => Effect.gen(function*() {
        const sources = yield* restore(read)
        const snapshot = yield* restore(reconcile(sources))
        const decision = yield* restore(f(snapshot))
        if (decision.next !== undefined) {
          yield* writeTargets(sources, decision.next, {
            guard,
            skipUnchanged: true,
            lifetime: decision.issuedLifetimeSeconds,
            refused: decision.refused
          })
          yield* sweep
        } else if (decision.refused !== undefined) {
          const state = yield* requireState(sources)
          yield* guard
          yield* writeState(sources, StateFile.withRefused(state, decision.refused))
          // A refresh killed before its first rename leaves a temp file; this path writes too.
          yield* sweep
        }
        return decision.result
      })), options).pipe(Effect.withSpan("CredentialStore.update")) as Effect.Effect<A, E | StoreError, R>

  const markRefused = Effect.fn("CredentialStore.markRefused")(function*(
    refreshToken: Credentials["refreshToken"]
  ) {
    if (refreshToken === undefined) return
    yield* withLocks((guard) =>
      Effect.gen(function*() {
        const sources = yield* read
        const state = yield* requireState(sources)
        yield* guard
        yield* writeState(sources, StateFile.withRefused(state, refreshToken))
      })
    )
  })

  const logout = Effect.fn("CredentialStore.logout")(function*(options: { readonly all: boolean }) {
    // Nothing stored: nothing to remove, and no lock folders created on a machine without them.
    const exists = (path: string) => fs.exists(path).pipe(Effect.orElseSucceed(() => true))
    if (!(yield* exists(paths.authProfiles)) && !(settings.qwenCodeSync && (yield* exists(paths.qwenCreds)))) {
      return { removed: [], wasLoggedIn: false } satisfies LogoutReport
    }
    return yield* withLocks((guard) =>
      Effect.gen(function*() {
        const sources = yield* read
        const snapshot = yield* reconcile(sources).pipe(Effect.option)
        const state = yield* requireState(sources)
        if (sources.openclaw._tag === "Bad") return yield* Effect.fail(sources.openclaw.error)
        const removed: Array<string> = []
        // Every credential we could load again is recorded, so the Qwen Code file is not re-imported.
        const known = [openclawCredentials(sources), qwenCredentials(sources)].filter((c) => c !== undefined)
        const nextState = known.reduce<StateFile.State>((s, c) => StateFile.withLoggedOut(s, stateKey(c)), state)
        yield* guard
        if (sources.openclaw._tag === "Ok" && sources.openclaw.value.profile._tag !== "Absent") {
          yield* OpenClawProfiles.write(paths.authProfiles, undefined, sources.openclaw.value.raw).pipe(provideFs)
          removed.push(`${paths.authProfiles} (profile ${OpenClawProfiles.PROFILE_ID})`)
        }
        if (options.all && settings.qwenCodeSync) {
          if (yield* provideFs(removeIfExists(paths.qwenCreds))) removed.push(paths.qwenCreds)
        }
        if (known.length > 0) yield* writeState(sources, nextState)
        yield* sweep
        const wasLoggedIn = Option.match(snapshot, { onNone: () => false, onSome: (s) => s.credentials !== undefined })
        return { removed, wasLoggedIn } satisfies LogoutReport
      })
    )
  })

  const fingerprint: Effect.Effect<string> = Effect.forEach(
    [paths.qwenCreds, paths.authProfiles, paths.state],
    (path) =>
      fs.stat(path).pipe(
        Effect.map((info) =>
          `${Option.match(info.mtime, { onNone: () => 0, onSome: (d) => d.getTime() })}:${Number(info.size)}`
        ),
        Effect.orElseSucceed(() => "-")
      )
  ).pipe(Effect.map((parts) => parts.join("|")))

  return { load, save, update, markRefused, logout, fingerprint }
})
