/**
 * OpenClaw's lock on `auth-profiles.json`: `proper-lockfile` with OpenClaw's exact options
 * (files.md "OpenClaw: auth-profiles.json"), wrapped as one service. It is the one place that
 * may bypass the FileSystem service (proper-lockfile does its own I/O).
 *
 * - The lock is a folder `<file>.lock`; proper-lockfile keeps it fresh while held.
 * - OpenClaw resolves the real path of the file; we do the same ourselves and pass
 *   `realpath: false`, so a missing file can be locked and both sides agree on the lock folder.
 * - A compromised lock (proper-lockfile's `onCompromised`, which throws by default) becomes a
 *   `LockError { reason: "compromised" }` delivered to the holder.
 *
 * @since 0.1.0
 */
import { Context, Deferred, Effect, FileSystem, Layer, type Scope } from "effect"
import { basename, dirname, resolve } from "node:path"
import { LockError } from "../../domain/Errors.ts"
import { pauseAt } from "../../internal/TestPause.ts"
import { ensureDirectory } from "../AtomicWrite.ts"

type ProperLockfile = typeof import("proper-lockfile")

/** A CommonJS module imported dynamically: its exports may sit under `default` (bundlers, Node). */
const commonJsExports = (m: ProperLockfile | { readonly default: ProperLockfile }): ProperLockfile =>
  "lock" in m && typeof m.lock === "function" ? m : (m as { readonly default: ProperLockfile }).default

/** proper-lockfile options as OpenClaw passes them. @since 0.1.0 @category models */
export interface OpenClawLockOptions {
  readonly retries: {
    readonly retries: number
    readonly factor: number
    readonly minTimeout: number
    readonly maxTimeout: number
    readonly randomize: boolean
  }
  readonly stale: number
}

/** OpenClaw 2026.3.24's options, exactly. @since 0.1.0 @category constants */
export const OPENCLAW_LOCK_OPTIONS: OpenClawLockOptions = {
  retries: { retries: 10, factor: 2, minTimeout: 100, maxTimeout: 10_000, randomize: true },
  stale: 30_000
}

/** A held lock. @since 0.1.0 @category models */
export interface OpenClawLockHandle {
  /** The lock folder. */
  readonly lockPath: string
  /** Fails with `LockError { reason: "compromised" }` once the lock is lost; never succeeds. */
  readonly compromised: Effect.Effect<never, LockError>
  /** Fails if the lock has been lost; checked right before writing. */
  readonly check: Effect.Effect<void, LockError>
}

/** The service's operations. @since 0.1.0 @category models */
export interface OpenClawLockShape {
  /** Takes the lock on `file` for the rest of the scope; creates the file's folder (0700) first. */
  readonly acquire: (file: string) => Effect.Effect<OpenClawLockHandle, LockError, Scope.Scope>
  /** Runs `effect` under the lock; a lost lock interrupts it and fails with "compromised". */
  readonly withLock: <A, E, R>(
    file: string,
    effect: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | LockError, Exclude<R, Scope.Scope>>
}

const describe = (error: unknown): string => {
  if (typeof error === "object" && error !== null) {
    const code = "code" in error && typeof error.code === "string" ? error.code : undefined
    if (code === "ELOCKED") return "held by another process (OpenClaw?) for too long"
    const message = "message" in error && typeof error.message === "string" ? error.message : "failed"
    return code === undefined ? message : `${message} (${code})`
  }
  return String(error)
}

/** OpenClaw locks the real path; resolve it ourselves (the file may not exist yet). */
const canonicalPath = (fs: FileSystem.FileSystem, file: string) =>
  fs.realPath(file).pipe(
    Effect.catch(() =>
      fs.realPath(dirname(file)).pipe(
        Effect.map((dir) => `${dir}/${basename(file)}`),
        Effect.orElseSucceed(() => resolve(file))
      )
    )
  )

const make = (options: OpenClawLockOptions): Effect.Effect<OpenClawLockShape, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem

    const acquire = (file: string): Effect.Effect<OpenClawLockHandle, LockError, Scope.Scope> =>
      Effect.gen(function*() {
        yield* ensureDirectory(dirname(file)).pipe(
          Effect.mapError((e) => new LockError({ path: `${file}.lock`, reason: "io", detail: e.detail }))
        )
        const target = yield* canonicalPath(fs, file)
        const lockPath = `${target}.lock`
        const lost = yield* Deferred.make<never, LockError>()
        // The pending promise may settle after an interrupt: the finalizer marks the request
        // abandoned and a late lock is released at once, so no lock leaks.
        const state: { release: (() => Promise<void>) | undefined; abandoned: boolean } = {
          release: undefined,
          abandoned: false
        }
        yield* Effect.addFinalizer(() =>
          Effect.promise(async () => {
            state.abandoned = true
            const release = state.release
            state.release = undefined
            if (release !== undefined) await release().catch(() => undefined)
          })
        )
        // Loaded on first use: read-only commands never take this lock (start-up time).
        const lockfile = yield* Effect.promise(() => import("proper-lockfile").then(commonJsExports))
        yield* Effect.callback<void, LockError>((resume) => {
          lockfile.lock(target, {
            retries: { ...options.retries },
            stale: options.stale,
            realpath: false,
            onCompromised: (err) => {
              Deferred.doneUnsafe(lost, Effect.fail(new LockError({ path: lockPath, reason: "compromised", detail: describe(err) })))
            }
          }).then(
            (release) => {
              if (state.abandoned) {
                release().catch(() => undefined)
              } else {
                state.release = release
                resume(Effect.void)
              }
            },
            (err: unknown) => {
              const timeout = typeof err === "object" && err !== null && "code" in err && err.code === "ELOCKED"
              resume(Effect.fail(new LockError({ path: lockPath, reason: timeout ? "timeout" : "io", detail: describe(err) })))
            }
          )
        })
        yield* pauseAt("lock:openclaw:held")
        const compromised = Deferred.await(lost)
        return {
          lockPath,
          compromised,
          check: Effect.suspend(() => Deferred.isDoneUnsafe(lost) ? compromised : Effect.void)
        } satisfies OpenClawLockHandle
      }).pipe(Effect.provideService(FileSystem.FileSystem, fs))

    const withLock = <A, E, R>(file: string, effect: Effect.Effect<A, E, R>) =>
      Effect.scoped(
        Effect.flatMap(acquire(file), (handle) => Effect.raceFirst(effect, handle.compromised))
      )

    return { acquire, withLock }
  })

/**
 * @since 0.1.0
 * @category services
 */
export class OpenClawLock extends Context.Service<OpenClawLock, OpenClawLockShape>()("qwen-auth/store/locks/OpenClawLock") {
  /** With explicit options (tests use short retries). */
  static readonly layerWith = (options: OpenClawLockOptions) => Layer.effect(OpenClawLock, make(options))
  /** OpenClaw's own options. */
  static readonly layer = OpenClawLock.layerWith(OPENCLAW_LOCK_OPTIONS)
}
