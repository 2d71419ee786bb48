/**
 * One daemon per Qwen home: `<qwen home>/qwen-auth-daemon.lock`, created exclusively with the
 * holder's pid and start time inside, its mtime refreshed every 10 s while held. A lock is stale
 * when its pid is gone (a `kill -9`: a restart must not wait), when it names this very process
 * (a container restarted with the same pid), or when its mtime is over 60 s old (a hung holder,
 * a reused pid); a stale lock is renamed aside and removed, then taken.
 *
 * The lock is written complete in one step (a temp file hard-linked to the lock's name), so a
 * reader never sees it empty.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Fiber, FileSystem, Option, Runtime, Schema, type Scope } from "effect"
import * as CliError from "effect/cli/CliError"
import { randomUUID } from "node:crypto"
import { ExitCode, LockError } from "../domain/Errors.ts"
import { describePlatformError, ensureDirectory, tempPathFor } from "../store/AtomicWrite.ts"

// =============================================================================
// Timing
// =============================================================================

/** How often the holder refreshes the lock's mtime. @since 0.1.0 @category constants */
export const HEARTBEAT_MS = 10_000
/** A lock whose mtime is older than this is stale, whatever its pid. @since 0.1.0 @category constants */
export const STALE_MS = 60_000
/** A lock dated further in the future than this is stale too (a clock set back). @since 0.1.0 @category constants */
export const FUTURE_SKEW_MS = 5_000

/** `<qwen home>/qwen-auth-daemon.lock`. @since 0.1.0 @category paths */
export const daemonLockPath = (qwenHome: string) => `${qwenHome}/qwen-auth-daemon.lock`

// =============================================================================
// Errors and models
// =============================================================================

/**
 * Another live daemon keeps this Qwen home fresh.
 *
 * @since 0.1.0
 * @category errors
 */
export class DaemonRunning extends Schema.TaggedError<DaemonRunning>()("DaemonRunning", {
  pid: Schema.Number,
  startedAt: Schema.String,
  qwenHome: Schema.String
}) {
  override get message() {
    return `a daemon (pid ${this.pid}, since ${this.startedAt}) already keeps ${this.qwenHome} fresh`
  }
  override get [CliError.userMessage]() {
    return this.message
  }
  override readonly [Runtime.errorExitCode] = ExitCode.error
}

/** What a lock file says. @since 0.1.0 @category models */
export interface LockInfo {
  readonly pid: number
  readonly startedAt: string
  readonly id: string
}

/** What the lock file says about the daemon of a home. @since 0.1.0 @category models */
export type LockVerdict =
  | { readonly _tag: "None" }
  | { readonly _tag: "Live"; readonly info: LockInfo; readonly ageMs: number }
  | { readonly _tag: "Stale"; readonly info: LockInfo | undefined; readonly why: "gone" | "self" | "old" | "unreadable" }

/** Whether a process id is running (at the CLI edge: `process.kill(pid, 0)`). @since 0.1.0 @category models */
export type IsAlive = (pid: number) => boolean

const LockInfoJson = Schema.fromJsonString(Schema.Struct({ pid: Schema.Int, startedAt: Schema.String, id: Schema.String }))

const parse = (text: string): LockInfo | undefined =>
  Option.getOrUndefined(Schema.decodeUnknownOption(LockInfoJson)(text))

const ioError = (path: string, what: string) => (error: Parameters<typeof describePlatformError>[0]) =>
  new LockError({ path, reason: "io", detail: `${what}: ${describePlatformError(error)}` })

// =============================================================================
// Reading
// =============================================================================

/**
 * Reads the lock of a home and judges it (read-only: `status` and `doctor` use it too).
 *
 * @since 0.1.0
 * @category reading
 */
export const inspect = (
  lockPath: string,
  isAlive: IsAlive,
  selfPid?: number
): Effect.Effect<LockVerdict, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const info = yield* fs.stat(lockPath).pipe(Effect.option)
    if (Option.isNone(info)) return { _tag: "None" } as const
    const text = yield* fs.readFileString(lockPath).pipe(Effect.option)
    if (Option.isNone(text)) return { _tag: "None" } as const // removed in between
    const now = yield* Clock.currentTimeMillis
    const mtime = Option.match(info.value.mtime, { onNone: () => 0, onSome: (d) => d.getTime() })
    const ageMs = now - mtime
    const parsed = parse(text.value)
    if (ageMs > STALE_MS || ageMs < -FUTURE_SKEW_MS) return { _tag: "Stale", info: parsed, why: "old" } as const
    if (parsed === undefined) return { _tag: "Stale", info: undefined, why: "unreadable" } as const
    if (parsed.pid === selfPid) return { _tag: "Stale", info: parsed, why: "self" } as const
    if (!isAlive(parsed.pid)) return { _tag: "Stale", info: parsed, why: "gone" } as const
    return { _tag: "Live", info: parsed, ageMs: Math.max(0, ageMs) } as const
  })

// =============================================================================
// Holding
// =============================================================================

/** The lock we hold. @since 0.1.0 @category models */
export interface HeldLock {
  readonly path: string
  readonly info: LockInfo
  /** Fails once the lock no longer holds our id (removed or taken over); never succeeds. */
  readonly lost: Effect.Effect<never, LockError>
}

/** Creates the lock complete in one step; false when one exists. */
const create = (fs: FileSystem.FileSystem, lockPath: string, info: LockInfo) =>
  Effect.gen(function*() {
    const temp = tempPathFor(lockPath)
    yield* fs.writeFileString(temp, JSON.stringify(info), { flag: "wx", mode: 0o600 }).pipe(
      Effect.mapError(ioError(lockPath, "cannot write the lock file"))
    )
    return yield* fs.link(temp, lockPath).pipe(
      Effect.as(true),
      Effect.catchIf((e) => e.reason._tag === "AlreadyExists", () => Effect.succeed(false)),
      Effect.mapError(ioError(lockPath, "cannot create the lock file")),
      Effect.ensuring(fs.remove(temp).pipe(Effect.ignore))
    )
  })

const ownedBy = (fs: FileSystem.FileSystem, lockPath: string, id: string) =>
  fs.readFileString(lockPath).pipe(
    Effect.map((text) => parse(text)?.id === id),
    Effect.orElseSucceed(() => false)
  )

/** Keeps the lock fresh every `HEARTBEAT_MS`; fails once it is no longer ours. */
const heartbeat = (fs: FileSystem.FileSystem, lockPath: string, id: string) =>
  Effect.gen(function*() {
    while (true) {
      yield* Effect.sleep(Duration.millis(HEARTBEAT_MS))
      if (!(yield* ownedBy(fs, lockPath, id))) {
        return yield* new LockError({ path: lockPath, reason: "compromised", detail: "removed or taken over by another process" })
      }
      const now = yield* Clock.currentTimeMillis
      yield* fs.utimes(lockPath, new Date(now), new Date(now)).pipe(Effect.ignore)
    }
  })

/**
 * Takes the daemon lock of `qwenHome` for the rest of the scope, or fails with `DaemonRunning`
 * naming the live holder. The release (also on interrupt) removes the lock only while it holds
 * our id.
 *
 * @since 0.1.0
 * @category locks
 */
export const acquire = (
  qwenHome: string,
  options: { readonly pid: number; readonly startedAt: string; readonly isAlive: IsAlive }
): Effect.Effect<HeldLock, DaemonRunning | LockError, Scope.Scope | FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const lockPath = daemonLockPath(qwenHome)
    yield* ensureDirectory(qwenHome).pipe(
      Effect.mapError((e) => new LockError({ path: lockPath, reason: "io", detail: e.detail }))
    )
    const info: LockInfo = { pid: options.pid, startedAt: options.startedAt, id: randomUUID() }
    // Registered before trying, so an interrupt between creation and return still cleans up.
    yield* Effect.addFinalizer(() =>
      Effect.flatMap(ownedBy(fs, lockPath, info.id), (own) => own ? fs.remove(lockPath).pipe(Effect.ignore) : Effect.void)
    )
    // A stale lock is moved aside and the create tried again; a racing daemon that wins it is live.
    for (let round = 0; round < 3; round++) {
      if (yield* create(fs, lockPath, info)) {
        const beat = yield* Effect.forkScoped(heartbeat(fs, lockPath, info.id))
        return { path: lockPath, info, lost: Effect.flatMap(Fiber.join(beat), () => Effect.never) }
      }
      const verdict = yield* inspect(lockPath, options.isAlive, options.pid)
      if (verdict._tag === "Live") {
        return yield* new DaemonRunning({ pid: verdict.info.pid, startedAt: verdict.info.startedAt, qwenHome })
      }
      if (verdict._tag === "Stale") {
        // Rename first so two takers cannot both delete a fresh lock created in between.
        const aside = `${lockPath}.stale.${randomUUID()}`
        const moved = yield* fs.rename(lockPath, aside).pipe(Effect.as(true), Effect.orElseSucceed(() => false))
        if (moved) yield* fs.remove(aside).pipe(Effect.ignore)
      }
    }
    return yield* new LockError({ path: lockPath, reason: "timeout", detail: "other daemons keep taking it" })
  })
