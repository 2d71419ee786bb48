/**
 * `<qwen home>/qwen-auth-daemon.json` (0600, atomic): what a running daemon tells `status` and
 * `doctor` — its pid, when it started, when it last refreshed, when it refreshes next, and the
 * tag of its last error. No tokens. Written only by the daemon holding the home's lock; whether
 * that daemon still runs is the lock's verdict, never the record's word.
 *
 * @since 0.1.0
 */
import { Effect, type FileSystem, Option, Schema } from "effect"
import type { Settings } from "../Config.ts"
import type { FileAccessError, MalformedFile } from "../domain/Errors.ts"
import { readFileIfExists, removeIfExists, writeFileAtomic } from "../store/AtomicWrite.ts"
import { daemonLockPath, inspect, type IsAlive, type LockVerdict } from "./DaemonLock.ts"

/** `<qwen home>/qwen-auth-daemon.json`. @since 0.1.0 @category paths */
export const daemonRecordPath = (qwenHome: string) => `${qwenHome}/qwen-auth-daemon.json`

/**
 * The record's content (instants as ISO strings, `null` while unknown).
 *
 * @since 0.1.0
 * @category models
 */
export interface DaemonRecord {
  readonly version: 1
  readonly pid: number
  readonly startedAt: string
  /** The daemon's last persisted refresh of its own. */
  readonly lastRefreshAt: string | null
  /** When it next refreshes (or retries); null while a login is needed. */
  readonly nextRefreshAt: string | null
  /** The tag of the last failure (`ServerError`, `NetworkError`, `LoginRequired`, …); null after a success. */
  readonly lastError: string | null
}

const NullableString = Schema.NullOr(Schema.String)

const RecordJson = Schema.fromJsonString(Schema.Struct({
  version: Schema.Literal(1),
  pid: Schema.Int,
  startedAt: Schema.String,
  lastRefreshAt: NullableString,
  nextRefreshAt: NullableString,
  lastError: NullableString
}))

/**
 * Writes the record atomically with mode 0600.
 *
 * @since 0.1.0
 * @category writing
 */
export const writeRecord = (
  qwenHome: string,
  record: DaemonRecord
): Effect.Effect<void, FileAccessError | MalformedFile, FileSystem.FileSystem> =>
  writeFileAtomic(daemonRecordPath(qwenHome), `${JSON.stringify(record, null, 2)}\n`, { credential: true })

/** Removes the record (a daemon that stops cleanly). @since 0.1.0 @category writing */
export const removeRecord = (qwenHome: string) => removeIfExists(daemonRecordPath(qwenHome)).pipe(Effect.ignore)

/**
 * The daemon of a home as `status` and `doctor` see it.
 *
 * - `running`: the lock is live (its pid runs, its mtime is fresh); `record` is what the daemon
 *   last wrote (absent for a moment after it started).
 * - `stale`: a lock is left by a daemon that is gone or hung; nothing keeps the login fresh.
 * - `none`: no daemon for this home.
 *
 * @since 0.1.0
 * @category models
 */
export type DaemonStatus =
  | { readonly _tag: "running"; readonly pid: number; readonly startedAt: string; readonly record: DaemonRecord | undefined }
  | { readonly _tag: "stale"; readonly pid: number | undefined; readonly why: Extract<LockVerdict, { _tag: "Stale" }>["why"] }
  | { readonly _tag: "none" }

/**
 * Reads the daemon lock and record of the configured Qwen home (read-only; never fails: an
 * unreadable record is reported as absent).
 *
 * **When to use**
 *
 * `status` and `doctor`: say whether a daemon keeps this login fresh.
 *
 * @since 0.1.0
 * @category reading
 */
export const readDaemonRecord = (
  settings: Pick<Settings, "qwenHome">,
  isAlive: IsAlive
): Effect.Effect<DaemonStatus, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const verdict = yield* inspect(daemonLockPath(settings.qwenHome), isAlive)
    if (verdict._tag === "None") return { _tag: "none" } as const
    if (verdict._tag === "Stale") return { _tag: "stale", pid: verdict.info?.pid, why: verdict.why } as const
    const read = yield* readFileIfExists(daemonRecordPath(settings.qwenHome)).pipe(Effect.orElseSucceed(Option.none))
    const record = Option.flatMap(read, (file) => Schema.decodeUnknownOption(RecordJson)(file.text))
    // A record of an earlier daemon (another pid) says nothing about this one.
    const mine = Option.filter(record, (r) => r.pid === verdict.info.pid)
    return { _tag: "running", pid: verdict.info.pid, startedAt: verdict.info.startedAt, record: Option.getOrUndefined(mine) } as const
  })

/**
 * The `daemon` field of `status --json` (cli-contract.md): null unless a daemon runs.
 *
 * @since 0.1.0
 * @category rendering
 */
export const daemonJson = (status: DaemonStatus) =>
  status._tag !== "running"
    ? null
    : {
      pid: status.pid,
      startedAt: status.startedAt,
      lastRefreshAt: status.record?.lastRefreshAt ?? null,
      nextRefreshAt: status.record?.nextRefreshAt ?? null
    }
