/**
 * Qwen Code's `oauth_creds.lock` protocol (files.md "Qwen Code: oauth_creds.json"; hosts.md for
 * the releases): create the lock file exclusively with a random UUID; a lock whose mtime is older
 * than 35 s is stale (Qwen Code 0.24.4's limit, the largest in use) however long it has been held,
 * and is renamed away and deleted.
 *
 * Unlike Qwen Code, qwen-auth keeps its lock fresh while it works (so a slow refresh is not taken
 * for stale), removes the lock only while it still holds its own UUID, and checks that it still
 * does before every write (`LockHandle.check`): Qwen Code's exit handlers delete the lock without
 * looking at its owner.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Exit, FileSystem, Option, Random, Scope } from "effect"
import { dual } from "effect/Function"
import { randomUUID } from "node:crypto"
import { dirname } from "node:path"
import { LockError } from "../../domain/Errors.ts"
import { pauseAt } from "../../internal/TestPause.ts"
import { describePlatformError, ensureDirectory } from "../AtomicWrite.ts"

// =============================================================================
// Timing
// =============================================================================

/** A lock whose mtime is older than this is stale (Qwen Code 0.24.4's; 0.12.0 used 10 s). @since 0.1.0 @category constants */
export const STALE_MS = 35_000
/** How often a held lock's mtime is refreshed. @since 0.1.0 @category constants */
export const HEARTBEAT_MS = 3_000
/** How long to keep trying before `LockError { reason: "timeout" }`: past the stale limit, so a dead peer's lock is broken. @since 0.1.0 @category constants */
export const ACQUIRE_TIMEOUT_MS = 45_000
/** A lock whose mtime is further in the future than this is stale too. @since 0.1.0 @category constants */
export const FUTURE_SKEW_MS = 5_000
/** After this long waiting, say once what for. @since 0.1.0 @category constants */
export const NOTICE_AFTER_MS = 5_000

/** Timing of one acquisition (tests shorten it). @since 0.1.0 @category models */
export interface QwenCodeLockTiming {
  readonly staleMs: number
  readonly heartbeatMs: number
  readonly timeoutMs: number
  /** First wait; each next wait is 1.5× longer (Qwen Code's backoff), capped at `maxIntervalMs`, jittered. */
  readonly baseIntervalMs: number
  readonly maxIntervalMs: number
}

/** The numbers qwen-auth runs with. @since 0.1.0 @category constants */
export const DEFAULT_TIMING: QwenCodeLockTiming = {
  staleMs: STALE_MS,
  heartbeatMs: HEARTBEAT_MS,
  timeoutMs: ACQUIRE_TIMEOUT_MS,
  baseIntervalMs: 100,
  maxIntervalMs: 2_000
}

/** A lock we hold. @since 0.1.0 @category models */
export interface LockHandle {
  readonly lockPath: string
  /** Fails with `LockError { reason: "compromised" }` once the lock file no longer holds our UUID. */
  readonly check: Effect.Effect<void, LockError>
}

/** One try: held (for the rest of the scope), or busy with a live lock `ageMs` old. @since 0.1.0 @category models */
export type Attempt =
  | { readonly _tag: "Held"; readonly handle: LockHandle }
  | { readonly _tag: "Busy"; readonly ageMs: number }

const ioError = (path: string, what: string) => (error: Parameters<typeof describePlatformError>[0]) =>
  new LockError({ path, reason: "io", detail: `${what}: ${describePlatformError(error)}` })

// =============================================================================
// Steps
// =============================================================================

const mtimeOf = (info: FileSystem.File.Info) => Option.match(info.mtime, { onNone: () => 0, onSome: (d) => d.getTime() })

/** Creates the lock exclusively; true when created. */
const create = (fs: FileSystem.FileSystem, lockPath: string, id: string) =>
  fs.writeFileString(lockPath, id, { flag: "wx", mode: 0o600 }).pipe(
    Effect.as(true),
    Effect.catchIf((e) => e.reason._tag === "AlreadyExists", () => Effect.succeed(false)),
    Effect.mapError(ioError(lockPath, "cannot create the lock file"))
  )

/** Removes the lock only if it still holds our UUID; never fails. */
const releaseIfOwn = (lockPath: string, id: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const content = yield* fs.readFileString(lockPath).pipe(Effect.option)
    if (Option.isSome(content) && content.value === id) yield* fs.remove(lockPath).pipe(Effect.ignore)
  })

const ownedBy = (lockPath: string, id: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const content = yield* fs.readFileString(lockPath).pipe(Effect.option)
    return Option.isSome(content) && content.value === id
  })

/** Keeps our lock fresh; stops touching it once it is no longer ours. */
const heartbeat = (lockPath: string, id: string, timing: QwenCodeLockTiming) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    while (true) {
      yield* Effect.sleep(Duration.millis(timing.heartbeatMs))
      if (!(yield* ownedBy(lockPath, id))) {
        yield* Effect.logWarning(`qwen-auth: lost the lock ${lockPath} to another process; nothing is written without it`)
        return
      }
      const now = yield* Clock.currentTimeMillis
      yield* fs.utimes(lockPath, new Date(now), new Date(now)).pipe(Effect.ignore)
    }
  })

/**
 * One try, no waiting: create the lock, or break a stale one and create it, or report the live
 * lock's age. Held for the rest of the scope: the release (also on interrupt) removes the lock
 * file only if it still holds our UUID, so it never removes a peer's.
 *
 * @since 0.1.0
 * @category locks
 */
export const tryAcquire = (
  lockPath: string,
  timing: QwenCodeLockTiming = DEFAULT_TIMING
): Effect.Effect<Attempt, LockError, Scope.Scope | FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const id = randomUUID()
    yield* ensureDirectory(dirname(lockPath)).pipe(
      Effect.mapError((e) => new LockError({ path: lockPath, reason: "io", detail: e.detail }))
    )
    // Registered before trying, so an interrupt between creation and return still cleans up.
    yield* Effect.addFinalizer(() => releaseIfOwn(lockPath, id))
    let created = yield* create(fs, lockPath, id)
    if (!created) {
      const info = yield* fs.stat(lockPath).pipe(Effect.option)
      if (Option.isNone(info)) {
        created = yield* create(fs, lockPath, id) // released just now
      } else {
        const ageMs = (yield* Clock.currentTimeMillis) - mtimeOf(info.value)
        // A lock dated in the future (a clock set back, a copied file) would otherwise never age.
        const live = ageMs <= timing.staleMs && ageMs >= -FUTURE_SKEW_MS
        if (live) return { _tag: "Busy", ageMs: Math.max(0, ageMs) } satisfies Attempt
        // Rename first so two takers cannot both delete a fresh lock created in between.
        const aside = `${lockPath}.stale.${randomUUID()}`
        const moved = yield* fs.rename(lockPath, aside).pipe(Effect.as(true), Effect.orElseSucceed(() => false))
        if (moved) yield* fs.remove(aside).pipe(Effect.ignore)
        created = yield* create(fs, lockPath, id)
      }
    }
    if (!created) return { _tag: "Busy", ageMs: 0 } satisfies Attempt
    yield* Effect.forkScoped(heartbeat(lockPath, id, timing))
    yield* pauseAt("lock:qwen-code:held")
    const check = Effect.flatMap(ownedBy(lockPath, id), (own) =>
      own
        ? Effect.void
        : Effect.fail(
          new LockError({ path: lockPath, reason: "compromised", detail: "removed or taken over by another process" })
        )).pipe(Effect.provideService(FileSystem.FileSystem, fs))
    return { _tag: "Held", handle: { lockPath, check } } satisfies Attempt
  })

/**
 * Runs `attempt` (which takes the locks it needs, each once, in its own scope) until it is no
 * longer busy: between tries every lock is released, and the wait grows 1.5× from
 * `baseIntervalMs` up to `maxIntervalMs`, jittered. Past `NOTICE_AFTER_MS` says once what it waits
 * for; past `timeoutMs` fails with `LockError { reason: "timeout" }`.
 *
 * @since 0.1.0
 * @category locks
 */
export const retryWhileBusy = <A, E, R>(
  lockPath: string,
  attempt: Effect.Effect<{ readonly _tag: "Busy"; readonly ageMs: number } | { readonly _tag: "Done"; readonly value: A }, E, R>,
  timing: QwenCodeLockTiming = DEFAULT_TIMING
): Effect.Effect<A, E | LockError, R> =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    let interval = timing.baseIntervalMs
    let noticed = false
    while (true) {
      const result = yield* attempt
      if (result._tag === "Done") return result.value
      const waited = (yield* Clock.currentTimeMillis) - started
      if (waited >= timing.timeoutMs) {
        return yield* new LockError({
          path: lockPath,
          reason: "timeout",
          detail: `still held by another process after ${Math.round(waited / 1000)} s (a lock is taken over once it is ` +
            `${Math.round(timing.staleMs / 1000)} s old)`
        })
      }
      if (!noticed && waited >= NOTICE_AFTER_MS) {
        noticed = true
        yield* Effect.logWarning(
          `qwen-auth: waiting for ${lockPath}: another process (Qwen Code or qwen-auth) has held it for ` +
            `${Math.round(result.ageMs / 1000)} s; a lock older than ${Math.round(timing.staleMs / 1000)} s is taken over`
        )
      }
      const jittered = Math.round(interval * (yield* Random.nextBetween(0.8, 1.2)))
      yield* Effect.sleep(Duration.millis(Math.min(jittered, timing.maxIntervalMs, timing.timeoutMs - waited)))
      interval = Math.min(interval * 1.5, timing.maxIntervalMs)
    }
  })

// =============================================================================
// API
// =============================================================================

/**
 * Takes Qwen Code's lock for the rest of the scope, waiting (see `retryWhileBusy`) while a live
 * lock is held. For callers that take no other lock.
 *
 * @since 0.1.0
 * @category locks
 */
export const acquire = (
  lockPath: string,
  timing: QwenCodeLockTiming = DEFAULT_TIMING
): Effect.Effect<LockHandle, LockError, Scope.Scope | FileSystem.FileSystem> =>
  Effect.flatMap(Effect.scope, (outer) =>
    retryWhileBusy(
      lockPath,
      Effect.gen(function*() {
        // Each try in its own scope; a held lock's scope is handed to the caller's.
        const scope = yield* Scope.fork(outer)
        const attempt = yield* tryAcquire(lockPath, timing).pipe(
          Scope.provide(scope),
          Effect.onExit((exit) => Exit.isSuccess(exit) && exit.value._tag === "Held" ? Effect.void : Scope.close(scope, exit))
        )
        return attempt._tag === "Held" ? { _tag: "Done" as const, value: attempt.handle } : attempt
      }),
      timing
    ))

/**
 * Runs `effect` while holding Qwen Code's lock (data-first or piped).
 *
 * @since 0.1.0
 * @category locks
 */
export const withLock: {
  (lockPath: string, timing?: QwenCodeLockTiming): <A, E, R>(
    effect: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | LockError, Exclude<R, Scope.Scope> | FileSystem.FileSystem>
  <A, E, R>(
    effect: Effect.Effect<A, E, R>,
    lockPath: string,
    timing?: QwenCodeLockTiming
  ): Effect.Effect<A, E | LockError, Exclude<R, Scope.Scope> | FileSystem.FileSystem>
} = dual(
  (args) => Effect.isEffect(args[0]),
  <A, E, R>(effect: Effect.Effect<A, E, R>, lockPath: string, timing: QwenCodeLockTiming = DEFAULT_TIMING) =>
    Effect.scoped(Effect.andThen(acquire(lockPath, timing), effect))
)
