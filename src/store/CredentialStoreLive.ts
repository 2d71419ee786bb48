/**
 * The implementation behind `CredentialStore`'s layers: reads and reconciles every copy, and
 * writes under the locks in the fixed order (OpenClaw's `auth-profiles.json` lock, then Qwen
 * Code's `oauth_creds.lock`), with no nested wait: while Qwen Code's lock is busy both are
 * released and retaken after a jittered pause.
 *
 * Every write of a shared file is fenced: the locks must still be ours and the file must still
 * hold what was read. A fenced-off copy is not overwritten; qwen-auth's own copy is written first
 * (after a refresh it may hold the only live chain), and the copies left behind are brought up to
 * date under freshly taken locks right after.
 *
 * Two modes. **Files**: OpenClaw's copy is `auth-profiles.json`, under OpenClaw's lock (the CLI,
 * the Layer). **Host**: inside OpenClaw, which owns its store and already holds its lock when it
 * calls the plugin; OpenClaw's copy is the credential it handed over (a `HostCredential`), only
 * Qwen Code's lock is taken, and the result goes back to OpenClaw, which saves it.
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Option, Ref, Result, type Scope } from "effect"
import { dirname } from "node:path"
import { pathsOf, QwenAuthConfig } from "../Config.ts"
import { type Credentials, tokenHash } from "../domain/Credentials.ts"
import { FileAccessError, type LockError, type MalformedFile } from "../domain/Errors.ts"
import {
  CREDENTIAL_FILE_MODE,
  ensureDirectory,
  type FileRead,
  readFileIfExists,
  removeIfExists,
  sweepStaleTempFiles
} from "./AtomicWrite.ts"
import * as CredentialFile from "./CredentialFile.ts"
import type { HostCredential } from "./HostCredential.ts"
import * as QwenCodeLock from "./locks/QwenCodeLock.ts"
import type { OpenClawLockHandle, OpenClawLockShape } from "./locks/OpenClawLock.ts"
import * as OpenClawProfiles from "./OpenClawProfiles.ts"
import * as QwenCodeFile from "./QwenCodeFile.ts"
import * as OpenClawSqlite from "./OpenClawSqlite.ts"
import {
  behindCopies,
  type OpenClawCopy,
  type OpenClawStore,
  openclawCredentials,
  ownCredentials,
  qwenCredentials,
  reconcile,
  type Sources,
  stateOf
} from "./Reconcile.ts"
import type { Snapshot } from "./Snapshot.ts"
import * as StateFile from "./StateFile.ts"

/** Errors a store operation can fail with. @since 0.1.0 @category errors */
export type StoreError = MalformedFile | FileAccessError | LockError

/** What `logout` removed. @since 0.1.0 @category models */
export interface LogoutReport {
  readonly removed: ReadonlyArray<string>
  readonly wasLoggedIn: boolean
  /**
   * OpenClaw 2026.9.6's own copy of the login (its SQLite store, which only OpenClaw writes):
   * refused by the plugin from now on, usable by OpenClaw until it expires.
   */
  readonly openclawKept?: { readonly path: string; readonly expiresAt: number } | undefined
}

/**
 * The decision an `update` step returns: write `next` (to every copy) or nothing.
 *
 * @since 0.1.0
 * @category models
 */
export interface UpdateDecision<A> {
  readonly next: Credentials | undefined
  /** Also record this refresh token as refused (by hash), in the same locked step. */
  readonly refused?: Credentials["refreshToken"]
  /** Also record this refresh token as spent (rotated away by the refresh that produced `next`). */
  readonly spent?: Credentials["refreshToken"]
  readonly result: A
}

/** How many times copies fenced off by a peer are retried under fresh locks. */
const CATCH_UP_ROUNDS = 2

/** Where OpenClaw's copy lives. @since 0.1.0 @category models */
export type OpenClawSide =
  | { readonly _tag: "Files"; readonly lock: OpenClawLockShape }
  | { readonly _tag: "Host"; readonly credential: HostCredential["Service"] }

/** Builds the store's operations; the services are captured once. */
export const makeStore = (side: OpenClawSide) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const settings = yield* QwenAuthConfig
    const paths = pathsOf(settings)
    const provideFs = Effect.provideService(FileSystem.FileSystem, fs)

    /** Which store OpenClaw uses, decided from disk (a SQLite database means 2026.9.6). */
    const openclawStore: Effect.Effect<OpenClawStore> = side._tag === "Host"
      ? Effect.succeed({ _tag: "Host" })
      : Effect.gen(function*() {
        const dbs = yield* OpenClawSqlite.detect(settings.openclawStateDir, settings.openclawAgentDir)
        if (dbs.length === 0) return { _tag: "Json" } as const
        const legacyJson = yield* fs.exists(paths.authProfiles).pipe(Effect.orElseSucceed(() => false))
        return { _tag: "Sqlite", databases: dbs, legacyJson } as const
      }).pipe(provideFs)

    const readOpenClaw = (store: OpenClawStore): Effect.Effect<CredentialFile.Read<OpenClawCopy>, never, FileSystem.FileSystem> => {
      switch (store._tag) {
        case "Host":
          return side._tag !== "Host" ? Effect.succeed(CredentialFile.missing) : Effect.map(Ref.get(side.credential), (c) => ({
            _tag: "Ok",
            value: { profile: c === undefined ? { _tag: "Absent" } : { _tag: "Present", credentials: c, raw: {} }, raw: undefined, file: undefined }
          }))
        case "Json":
          return CredentialFile.read(OpenClawProfiles.codec, paths.authProfiles)
        case "Sqlite":
          return Effect.map(OpenClawSqlite.read(settings.openclawStateDir, settings.openclawAgentDir, store.databases), (copy) =>
            copy === undefined
              ? CredentialFile.missing
              : {
                _tag: "Ok",
                value: { profile: copy.profile, raw: undefined, file: undefined, problem: copy.problem, path: copy.path }
              })
      }
    }

    const read: Effect.Effect<Sources> = Effect.gen(function*() {
      const store = yield* openclawStore
      const copies = yield* Effect.all({
        qwen: settings.qwenCodeSync ? CredentialFile.read(QwenCodeFile.codec, paths.qwenCreds) : Effect.succeed(CredentialFile.missing),
        own: CredentialFile.read(QwenCodeFile.codec, paths.ownCreds),
        openclaw: readOpenClaw(store),
        state: CredentialFile.read(StateFile.codec, paths.state)
      })
      return { paths, qwenCodeSync: settings.qwenCodeSync, openclawStore: store, ...copies } satisfies Sources
    }).pipe(provideFs)

    /**
     * The locks in the fixed order; `guard` fails once either is no longer ours. OpenClaw's lock
     * guards `auth-profiles.json` only: inside OpenClaw (it holds its own) and next to a SQLite
     * store (never written) only Qwen Code's is taken. Qwen Code's lock is tried once per round:
     * when busy, OpenClaw's is released too before the pause, so no peer waits on us while we wait.
     */
    const withLocks = <A, E, R>(
      body: (guard: Effect.Effect<void, LockError>, openclawBlocked: LockError | undefined) => Effect.Effect<A, E, R>
    ): Effect.Effect<A, E | LockError, Exclude<R, Scope.Scope>> => {
      const round = (openclawLock: boolean) =>
        Effect.scoped(Effect.gen(function*() {
          // OpenClaw's lock folder cannot be made (a read-only or full folder): its file cannot be
          // written either, so the others go ahead without it and it is reported as not written.
          let openclaw: OpenClawLockHandle | undefined
          let openclawBlocked: LockError | undefined
          if (openclawLock && side._tag === "Files") {
            const taken = yield* Effect.result(side.lock.acquire(paths.authProfiles))
            if (Result.isSuccess(taken)) openclaw = taken.success
            else if (taken.failure.reason === "io") openclawBlocked = taken.failure
            else return yield* Effect.fail(taken.failure)
          }
          const qwen = yield* provideFs(QwenCodeLock.tryAcquire(paths.qwenLock))
          if (qwen._tag === "Busy") return qwen
          const guard = openclaw === undefined ? qwen.handle.check : Effect.andThen(openclaw.check, qwen.handle.check)
          return { _tag: "Done" as const, value: yield* body(guard, openclawBlocked) }
        }))
      return Effect.flatMap(
        openclawStore,
        (store) => QwenCodeLock.retryWhileBusy(paths.qwenLock, round(store._tag === "Json"))
      ) as Effect.Effect<A, E | LockError, Exclude<R, Scope.Scope>>
    }

    // Said once per process: a run may write the copies more than once (adoption, catch-up).
    const noted = yield* Ref.make<ReadonlySet<string>>(new Set())
    const noteOnce = (message: string) =>
      Effect.flatMap(Ref.modify(noted, (seen) => [!seen.has(message), new Set([...seen, message])]), (fresh) =>
        fresh ? Effect.logWarning(message) : Effect.void)

    const sweep = Effect.all([
      sweepStaleTempFiles(settings.qwenHome),
      side._tag === "Files" ? sweepStaleTempFiles(settings.openclawAgentDir) : Effect.void,
      // The config writes (openclaw.json, its backups) leave their temp files there.
      side._tag === "Files" ? sweepStaleTempFiles(dirname(paths.openclawConfig)) : Effect.void
    ]).pipe(Effect.asVoid, provideFs)

    const writeOpenClaw = (sources: Sources, next: Credentials | undefined) =>
      side._tag === "Host"
        ? Ref.set(side.credential, next)
        : Effect.andThen(
          ensureDirectory(dirname(paths.authProfiles)),
          CredentialFile.write(OpenClawProfiles.codec, paths.authProfiles, next, CredentialFile.rawOf(sources.openclaw))
        ).pipe(provideFs)

    const writeState = (sources: Sources, state: StateFile.State) =>
      CredentialFile.write(StateFile.codec, paths.state, state, CredentialFile.rawOf(sources.state)).pipe(provideFs)

    /** Whether `path` still holds what was read (the same text, or still nothing). */
    const unchangedSince = (path: string, read: CredentialFile.Read<{ readonly file: FileRead | undefined }>) =>
      readFileIfExists(path, { credential: true }).pipe(
        Effect.map((now) =>
          read._tag === "Missing"
            ? Option.isNone(now)
            : read._tag === "Ok" && Option.isSome(now) && now.value.text === read.value.file?.text
        ),
        Effect.orElseSucceed(() => false),
        provideFs
      )

    /**
     * Writes `next` to every writable copy (a broken file is never overwritten), then the state
     * file. qwen-auth's own copy goes first: after a refresh it may hold the only live chain, and
     * only qwen-auth writes it (a concurrent newer one is kept). Each shared copy is written only
     * while the locks are ours and it still holds what was read; otherwise it is left to the
     * catch-up under fresh locks (`deferred`). With `skipUnchanged`, copies that already hold
     * `next` are left alone. Qwen Code's file, where missing, is created by a login, or where
     * qwen-auth wrote the version that vanished or never saw another login there.
     */
    const writeCopies = (
      sources: Sources,
      next: Credentials,
      options: {
        readonly guard: Effect.Effect<void, LockError>
        readonly skipUnchanged: boolean
        readonly createQwenCode: boolean
        readonly refused?: Credentials["refreshToken"] | undefined
        readonly spent?: Credentials["refreshToken"] | undefined
        readonly openclawBlocked?: LockError | undefined
      }
    ): Effect.Effect<{ readonly written: ReadonlyArray<string>; readonly deferred: ReadonlyArray<string> }, StoreError> =>
      Effect.gen(function*() {
        const written: Array<string> = []
        const deferred: Array<string> = []
        let hostWritten = false
        const skipped: Array<MalformedFile | FileAccessError> = []
        const state = stateOf(sources)
        const holds = (current: Credentials | undefined) => options.skipUnchanged && current?.sameTokens(next) === true
        const failures: Array<MalformedFile | FileAccessError> = []
        /** Writes one copy; a failure is recorded and the next copy still tried. */
        const tryWrite = (path: string, write: Effect.Effect<void, MalformedFile | FileAccessError, FileSystem.FileSystem>) =>
          provideFs(write).pipe(
            Effect.as(true),
            Effect.tap(() => Effect.sync(() => written.push(path))),
            Effect.catch((error) => Effect.sync(() => (failures.push(error), false)))
          )
        const locksHeld = options.guard.pipe(Effect.as(true), Effect.orElseSucceed(() => false))
        const fenced = (path: string, read: CredentialFile.Read<{ readonly file: FileRead | undefined }>) =>
          Effect.flatMap(locksHeld, (held) => held ? unchangedSince(path, read) : Effect.succeed(false))

        // qwen-auth's own copy (Qwen Code's format: only with a refresh token), whatever the hosts keep.
        if (next.refreshable) {
          if (sources.own._tag === "Bad") {
            skipped.push(sources.own.error)
          } else if (!holds(ownCredentials(sources))) {
            const mayWrite = (yield* unchangedSince(paths.ownCreds, sources.own)) ||
              (yield* CredentialFile.read(QwenCodeFile.codec, paths.ownCreds).pipe(
                Effect.map((now) => now._tag === "Missing" || (now._tag === "Ok" && now.value.credentials.expiresAt <= next.expiresAt)),
                provideFs
              ))
            if (mayWrite) {
              yield* tryWrite(
                paths.ownCreds,
                CredentialFile.write(QwenCodeFile.codec, paths.ownCreds, next, CredentialFile.rawOf(sources.own))
              )
            } else {
              deferred.push(paths.ownCreds)
            }
          }
        }
        // Qwen Code's file (credentials without a refresh token go only to OpenClaw's copy, files.md).
        let qwenCode: StateFile.SaveFacts["qwenCode"] = "kept"
        if (settings.qwenCodeSync && next.refreshable) {
          const current = qwenCredentials(sources)
          if (sources.qwen._tag === "Bad") {
            skipped.push(sources.qwen.error)
          } else if (current === undefined && !options.createQwenCode && !StateFile.mayRecreateQwenCode(state)) {
            // Not qwen-auth's file to recreate: whoever removed it may have left Qwen OAuth on purpose.
          } else if (!holds(current)) {
            if (yield* fenced(paths.qwenCreds, sources.qwen)) {
              const ok = yield* tryWrite(
                paths.qwenCreds,
                CredentialFile.write(QwenCodeFile.codec, paths.qwenCreds, next, CredentialFile.rawOf(sources.qwen))
              )
              if (ok) qwenCode = "written"
            } else {
              deferred.push(paths.qwenCreds)
            }
          }
          if (qwenCode !== "written" && current?.refreshToken !== undefined && tokenHash(current.refreshToken) !== state.qwenCodeWritten) {
            qwenCode = "foreign"
          }
        }
        // OpenClaw's copy: auth-profiles.json (2026.3.24), or the host's credential (the plugin).
        if (sources.openclaw._tag === "Bad") {
          skipped.push(sources.openclaw.error)
        } else if (sources.openclawStore._tag === "Sqlite") {
          // OpenClaw 2026.9.6 writes its own store; the plugin hands it this chain.
        } else if (OpenClawProfiles.notOurs(sources.openclaw, paths.authProfiles) !== undefined) {
          // The user's own non-oauth profile under our id: never converted.
          yield* noteOnce(OpenClawProfiles.notOurs(sources.openclaw, paths.authProfiles)!)
        } else if (!holds(openclawCredentials(sources))) {
          if (side._tag === "Host") {
            yield* writeOpenClaw(sources, next)
            hostWritten = true
          } else if (options.openclawBlocked !== undefined) {
            failures.push(
              new FileAccessError({ path: paths.authProfiles, operation: "lock", detail: options.openclawBlocked.detail })
            )
          } else if (yield* fenced(paths.authProfiles, sources.openclaw)) {
            yield* tryWrite(paths.authProfiles, writeOpenClaw(sources, next))
          } else {
            deferred.push(paths.authProfiles)
          }
        }
        // One copy that cannot be written (a full disk, a read-only folder) never loses the chain:
        // the others were still tried. Only when no copy holds it is the save a failure.
        const openclawPath = sources.openclaw._tag === "Ok" ? sources.openclaw.value.path ?? paths.authProfiles : paths.authProfiles
        const alreadyHeld = ([
          [openclawPath, openclawCredentials(sources)],
          [paths.qwenCreds, qwenCredentials(sources)],
          [paths.ownCreds, ownCredentials(sources)]
        ] as const).filter(([path, c]) => c?.sameTokens(next) === true && !written.includes(path)).map(([path]) => path)
        const savedIn = [...written, ...(hostWritten ? ["OpenClaw's profile"] : []), ...alreadyHeld]
        const problems = [...failures, ...skipped]
        if (savedIn.length === 0 && problems.length > 0) return yield* Effect.fail(problems[0]!)
        for (const failure of failures) {
          yield* Effect.logWarning(`qwen-auth: ${failure.message}; the login is kept in ${savedIn.join(", ")}`)
        }
        // A broken state file is reported by `load` and left alone; the credentials still count.
        if (sources.state._tag !== "Bad") {
          const nextState = StateFile.afterSave(state, next, { refused: options.refused, spent: options.spent, qwenCode })
          const raw = CredentialFile.rawOf(sources.state)
          if (sources.state._tag === "Missing" || StateFile.encode(nextState, raw) !== StateFile.encode(state, raw)) {
            if (yield* fenced(paths.state, sources.state)) {
              const ok = yield* tryWrite(paths.state, writeState(sources, nextState))
              // The credentials are saved; only what the state keeps (hashes, lifetime) is not.
              if (!ok) yield* Effect.logWarning(`qwen-auth: ${failures.at(-1)!.message}`)
            } else {
              deferred.push(paths.state)
            }
          }
        }
        // Modes `status` reported as loose are tightened now, also where the content was current.
        for (const copy of behindCopies(sources, next)) {
          if (copy.why === "loose-mode" && !written.includes(copy.path) && !deferred.includes(copy.path)) {
            yield* fs.chmod(copy.path, CREDENTIAL_FILE_MODE).pipe(Effect.ignore)
          }
        }
        return { written, deferred }
      })

    const requireState = (sources: Sources) =>
      sources.state._tag === "Bad" ? Effect.fail(sources.state.error) : Effect.succeed(stateOf(sources))

    const load: Effect.Effect<Snapshot, StoreError> = Effect.flatMap(read, reconcile).pipe(
      Effect.withSpan("CredentialStore.load")
    )

    /**
     * Brings the copies fenced off by a peer up to date under fresh locks: re-read, reconcile (a
     * peer's newer chain wins, a spent one never does), write what is behind. Bounded rounds.
     */
    const catchUp = (
      deferred: ReadonlyArray<string>,
      facts: { readonly refused?: Credentials["refreshToken"] | undefined; readonly spent?: Credentials["refreshToken"] | undefined },
      rounds: number
    ): Effect.Effect<void> =>
      deferred.length === 0
        ? Effect.void
        : rounds === 0
        ? Effect.logWarning(`qwen-auth: could not bring ${deferred.join(", ")} up to date (changed by another process each time)`)
        : Effect.andThen(
          Effect.logDebug(`Not written (the lock was lost or the file changed under it): ${deferred.join(", ")}; retrying`),
          updateIn(
            (current) => Effect.succeed({ next: current.stale ? current.credentials : undefined, ...facts, result: undefined }),
            rounds - 1
          )
        ).pipe(Effect.catch((error) => Effect.logDebug(`Could not bring every credential copy up to date: ${error.message}`)))

    const save = Effect.fn("CredentialStore.save")(function*(credentials: Credentials) {
      const { written, deferred } = yield* withLocks((guard, openclawBlocked) =>
        Effect.gen(function*() {
          const sources = yield* read
          // The primary copy must be writable: fail before writing anything.
          if (sources.openclaw._tag === "Bad") return yield* Effect.fail(sources.openclaw.error)
          const result = yield* writeCopies(sources, credentials, {
            guard,
            skipUnchanged: false,
            createQwenCode: true,
            openclawBlocked
          })
          yield* sweep
          return result
        })
      )
      yield* catchUp(deferred, {}, CATCH_UP_ROUNDS)
      return written
    })

    const updateIn = <A, E, R>(
      f: (current: Snapshot) => Effect.Effect<UpdateDecision<A>, E, R>,
      rounds: number
    ): Effect.Effect<A, E | StoreError, R> =>
      withLocks((guard, openclawBlocked) =>
        // Once `f` has an answer (perhaps a rotated refresh token the server already considers
        // spent), persisting it must not be interrupted: a lost rotation forces a new login.
        Effect.uninterruptibleMask((restore) =>
          Effect.gen(function*() {
            const sources = yield* restore(read)
            const snapshot = yield* restore(reconcile(sources))
            const decision = yield* restore(f(snapshot))
            let deferred: ReadonlyArray<string> = []
            if (decision.next !== undefined) {
              deferred = (yield* writeCopies(sources, decision.next, {
                guard,
                skipUnchanged: true,
                createQwenCode: false,
                refused: decision.refused,
                spent: decision.spent,
                openclawBlocked
              })).deferred
              yield* sweep
            } else if (decision.refused !== undefined || decision.spent !== undefined) {
              const state = yield* requireState(sources)
              const recorded = [decision.refused, decision.spent].reduce<StateFile.State>(
                (s, token, i) => token === undefined ? s : i === 0 ? StateFile.withRefused(s, token) : StateFile.withSpent(s, token),
                state
              )
              const held = yield* guard.pipe(Effect.as(true), Effect.orElseSucceed(() => false))
              if (held && (yield* unchangedSince(paths.state, sources.state))) {
                yield* writeState(sources, recorded)
                // A refresh killed before its first rename leaves a temp file; this path writes too.
                yield* sweep
              } else {
                deferred = [paths.state]
              }
            }
            return { result: decision.result, deferred, refused: decision.refused, spent: decision.spent }
          })
        )
      ).pipe(
        Effect.tap((done) => catchUp(done.deferred, { refused: done.refused, spent: done.spent }, rounds)),
        Effect.map((done) => done.result),
        Effect.withSpan("CredentialStore.update")
      ) as Effect.Effect<A, E | StoreError, R>

    const update = <A, E, R>(
      f: (current: Snapshot) => Effect.Effect<UpdateDecision<A>, E, R>
    ): Effect.Effect<A, E | StoreError, R> => updateIn(f, CATCH_UP_ROUNDS)

    const markRefused = Effect.fn("CredentialStore.markRefused")(function*(refreshToken: Credentials["refreshToken"]) {
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
      const openclawStored = side._tag === "Host"
        ? (yield* Ref.get(side.credential)) !== undefined
        : yield* exists(paths.authProfiles)
      if (
        !openclawStored && !(yield* exists(paths.ownCreds)) && !(settings.qwenCodeSync && (yield* exists(paths.qwenCreds)))
      ) {
        return { removed: [], wasLoggedIn: false } satisfies LogoutReport
      }
      return yield* withLocks((guard, openclawBlocked) =>
        Effect.gen(function*() {
          // A logout must remove OpenClaw's profile too: without its lock it cannot.
          if (openclawBlocked !== undefined) return yield* Effect.fail(openclawBlocked)
          const sources = yield* read
          const snapshot = yield* reconcile(sources).pipe(Effect.option)
          const state = yield* requireState(sources)
          if (sources.openclaw._tag === "Bad") return yield* Effect.fail(sources.openclaw.error)
          const removed: Array<string> = []
          // Every credential we could load again is recorded, so Qwen Code's file is not re-imported.
          const known = [openclawCredentials(sources), qwenCredentials(sources), ownCredentials(sources)].filter((c) =>
            c !== undefined
          )
          const loggedOut = known.reduce<StateFile.State>((s, c) => StateFile.withLoggedOut(s, c.stateKey), state)
          // With --all Qwen Code's file goes too: a later refresh must not bring it back.
          const { qwenCodeWritten: _q, qwenCodeForeign: _f, ...withoutQwenCode } = loggedOut
          const nextState = options.all ? { ...withoutQwenCode } : loggedOut
          yield* guard
          if (
            sources.openclaw._tag === "Ok" && sources.openclaw.value.profile._tag !== "Absent" &&
            sources.openclawStore._tag !== "Sqlite" && OpenClawProfiles.notOurs(sources.openclaw, paths.authProfiles) === undefined
          ) {
            yield* writeOpenClaw(sources, undefined)
            removed.push(side._tag === "Host" ? "OpenClaw's profile" : `${paths.authProfiles} (profile ${OpenClawProfiles.PROFILE_ID})`)
          }
          // qwen-auth's own copy goes with every logout; Qwen Code's only with --all.
          if (yield* provideFs(removeIfExists(paths.ownCreds))) removed.push(paths.ownCreds)
          if (options.all && settings.qwenCodeSync) {
            if (yield* provideFs(removeIfExists(paths.qwenCreds))) removed.push(paths.qwenCreds)
          }
          if (known.length > 0) yield* writeState(sources, nextState)
          yield* sweep
          const wasLoggedIn = Option.match(snapshot, { onNone: () => false, onSome: (s) => s.credentials !== undefined })
          const kept = sources.openclawStore._tag === "Sqlite" ? openclawCredentials(sources) : undefined
          const keptIn = sources.openclaw._tag === "Ok" ? sources.openclaw.value.path : undefined
          return {
            removed,
            wasLoggedIn,
            ...(kept !== undefined && keptIn !== undefined ? { openclawKept: { path: keptIn, expiresAt: kept.expiresAt } } : {})
          } satisfies LogoutReport
        })
      )
    })

    const fingerprint: Effect.Effect<string> = Effect.forEach(
      side._tag === "Files"
        ? [paths.qwenCreds, paths.ownCreds, paths.authProfiles, paths.state]
        : [paths.qwenCreds, paths.ownCreds, paths.state],
      (path) =>
        fs.stat(path).pipe(
          Effect.map((info) => `${Option.match(info.mtime, { onNone: () => 0, onSome: (d) => d.getTime() })}:${Number(info.size)}`),
          Effect.orElseSucceed(() => "-")
        )
    ).pipe(Effect.map((parts) => parts.join("|")))

    return { load, save, update, markRefused, logout, fingerprint }
  })
