/**
 * Qwen Code's `oauth_creds.lock` protocol (files.md "Qwen Code: oauth_creds.json"), as a scoped
 * resource: create the lock file exclusively with a random UUID, treat a lock older than 10 s
 * as stale (rename it away, delete it), retry with backoff for about 30 s.
 *
 * Unlike Qwen Code, qwen-auth keeps its lock fresh while it works (so a slow refresh is not
 * taken for stale) and removes the lock only while it still holds its own UUID.
 *
 * @since 0.1.0
 */
import { Clock, Data, Duration, Effect, FileSystem, Option, Schedule, type Scope } from "effect"
import { dual } from "effect/Function"
import { randomUUID } from "node:crypto"
import { dirname } from "node:path"
import { LockError } from "../../domain/Errors.ts"
import { pauseAt } from "../../internal/TestPause.ts"
import { describePlatformError, ensureDirectory } from "../AtomicWrite.ts"

// =============================================================================
// Timing
// =============================================================================

/** A lock whose mtime is older than this is stale (Qwen Code's `LOCK_TIMEOUT_MS`). @since 0.1.0 @category constants */
export const STALE_MS = 10_000
/** How often a held lock's mtime is refreshed. @since 0.1.0 @category constants */
export const HEARTBEAT_MS = 3_000
/** How long to keep trying before `LockError { reason: "timeout" }`. @since 0.1.0 @category constants */
export const ACQUIRE_TIMEOUT_MS = 30_000

/** Timing of one acquisition (tests shorten it). @since 0.1.0 @category models */
export interface QwenCodeLockTiming {
  readonly staleMs: number
  readonly heartbeatMs: number
  readonly timeoutMs: number
  /** First wait; each next wait is 1.5× longer (Qwen Code's backoff), capped at `maxIntervalMs`. */
  readonly baseIntervalMs: number
  readonly maxIntervalMs: number
}

/** Qwen Code's own numbers. @since 0.1.0 @category constants */
export const DEFAULT_TIMING: QwenCodeLockTiming = {
  staleMs: STALE_MS,
  heartbeatMs: HEARTBEAT_MS,
  timeoutMs: ACQUIRE_TIMEOUT_MS,
  baseIntervalMs: 100,
  maxIntervalMs: 2_000
}

// =============================================================================
// Errors (NotAcquired stays private: it only drives the retry)
// =============================================================================

class NotAcquired extends Data.TaggedError("NotAcquired")<{}> {}

const ioError = (path: string, what: string) => (error: Parameters<typeof describePlatformError>[0]) =>
  new LockError({ path, reason: "io", detail: `${what}: ${describePlatformError(error)}` })

// =============================================================================
// Steps
// =============================================================================

const mtimeOf = (info: FileSystem.File.Info) => Option.match(info.mtime, { onNone: () => 0, onSome: (d) => d.getTime() })

/** One attempt: create exclusively, or clear a stale lock and report "not yet". */
const tryOnce = (lockPath: string, id: string, timing: QwenCodeLockTiming) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const created = yield* fs.writeFileString(lockPath, id, { flag: "wx", mode: 0o600 }).pipe(
      Effect.as(true),
      Effect.catchIf((e) => e.reason._tag === "AlreadyExists", () => Effect.succeed(false)),
      Effect.mapError(ioError(lockPath, "cannot create the lock file"))
    )
    if (created) return
    const info = yield* fs.stat(lockPath).pipe(Effect.option)
    const now = yield* Clock.currentTimeMillis
    if (Option.isSome(info) && now - mtimeOf(info.value) > timing.staleMs) {
      // Rename first so two takers cannot both delete a fresh lock created in between.
      const aside = `${lockPath}.stale.${randomUUID()}`
      const moved = yield* fs.rename(lockPath, aside).pipe(Effect.as(true), Effect.orElseSucceed(() => false))
      if (moved) yield* fs.remove(aside).pipe(Effect.ignore)
    }
    return yield* new NotAcquired()
  })

const retrySchedule = (timing: QwenCodeLockTiming) =>
  Schedule.min([
    Schedule.exponential(Duration.millis(timing.baseIntervalMs), 1.5),
    Schedule.spaced(Duration.millis(timing.maxIntervalMs))
  ]).pipe(Schedule.jittered, Schedule.upTo({ duration: Duration.millis(timing.timeoutMs) }))

/** Removes the lock only if it still holds our UUID; never fails. */
const releaseIfOwn = (lockPath: string, id: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const content = yield* fs.readFileString(lockPath).pipe(Effect.option)
    if (Option.isSome(content) && content.value === id) yield* fs.remove(lockPath).pipe(Effect.ignore)
  })

/** Keeps our lock fresh; stops touching it once it is no longer ours. */
const heartbeat = (lockPath: string, id: string, timing: QwenCodeLockTiming) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    while (true) {
      yield* Effect.sleep(Duration.millis(timing.heartbeatMs))
      const content = yield* fs.readFileString(lockPath).pipe(Effect.option)
      if (Option.isNone(content) || content.value !== id) {
        yield* Effect.logWarning(`qwen-auth: lost the lock ${lockPath} to another process`)
        return
      }
      const now = yield* Clock.currentTimeMillis
      yield* fs.utimes(lockPath, new Date(now), new Date(now)).pipe(Effect.ignore)
    }
  })

// =============================================================================
// API
// =============================================================================

/**
 * Takes Qwen Code's lock for the rest of the scope. The release (and the interruption of a
 * pending acquisition) removes the lock file only if it holds our UUID, so an interrupt never
 * leaks a lock and never removes a peer's.
 *
 * @since 0.1.0
 * @category locks
 */
export const acquire = (
  lockPath: string,
  timing: QwenCodeLockTiming = DEFAULT_TIMING
): Effect.Effect<void, LockError, Scope.Scope | FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const id = randomUUID()
    yield* ensureDirectory(dirname(lockPath)).pipe(
      Effect.mapError((e) => new LockError({ path: lockPath, reason: "io", detail: e.detail }))
    )
    // Registered before trying, so an interrupt between creation and return still cleans up.
    yield* Effect.addFinalizer(() => releaseIfOwn(lockPath, id))
    yield* tryOnce(lockPath, id, timing).pipe(
      Effect.retry({ while: (e) => e._tag === "NotAcquired", schedule: retrySchedule(timing) }),
      Effect.catchTag("NotAcquired", () =>
        Effect.fail(
          new LockError({
            path: lockPath,
            reason: "timeout",
            detail: `still held by another process after ${Math.round(timing.timeoutMs / 1000)} s`
          })
        ))
    )
    yield* Effect.forkScoped(heartbeat(lockPath, id, timing))
    yield* pauseAt("lock:qwen-code:held")
  })

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
