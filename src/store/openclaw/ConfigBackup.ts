/**
 * Backups of `openclaw.json` taken before qwen-auth edits a config it did not write last (issue
 * 13): the first goes to `openclaw.json.qwen-auth.bak` and is never overwritten (it is the user's
 * original, comments and all); later ones to `openclaw.json.qwen-auth.<UTC yyyymmddThhmmss>.bak`,
 * of which the newest five are kept. Each keeps the mode the config had.
 *
 * @since 0.1.0
 */
import { Clock, Effect, FileSystem, Option } from "effect"
import { basename, dirname, join } from "node:path"
import { accessError, isNotFound, tempPathFor } from "../AtomicWrite.ts"

/** How many timestamped backups are kept. @since 0.1.0 @category constants */
export const KEPT_BACKUPS = 5

/** The first backup, never overwritten. @since 0.1.0 @category paths */
export const backupPathOf = (configPath: string): string => `${configPath}.qwen-auth.bak`

/** `yyyymmddThhmmss` in UTC. */
const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, "").slice(0, 15)

/** A later backup's path, taken at `ms`. @since 0.1.0 @category paths */
export const timestampedBackupPath = (configPath: string, ms: number): string => `${configPath}.qwen-auth.${stamp(ms)}.bak`

const TIMESTAMPED = /^\.qwen-auth\.(\d{8}T\d{6})\.bak$/

/** The time a timestamped backup's name says (whole seconds). */
const stampMs = (path: string): number | undefined => {
  const m = /\.qwen-auth\.(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.bak$/.exec(path)
  return m === null ? undefined : Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)
}

/**
 * The timestamped backups of `configPath`, oldest first.
 *
 * @since 0.1.0
 * @category paths
 */
export const listTimestamped = (configPath: string): Effect.Effect<ReadonlyArray<string>, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const name = basename(configPath)
    const names = yield* fs.readDirectory(dirname(configPath)).pipe(Effect.orElseSucceed(() => []))
    return names
      .filter((n) => n.startsWith(name) && TIMESTAMPED.test(n.slice(name.length)))
      .sort()
      .map((n) => join(dirname(configPath), n))
  })

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i])

/**
 * Copies the config's current bytes (not decoded text) to the next backup, with `mode`, atomically;
 * prunes the timestamped ones to the newest five. Nothing is written when the newest backup holds
 * the same bytes (a run killed before it recorded its write backs up its own output again).
 * Returns the path written, if any.
 *
 * @since 0.1.0
 * @category writing
 */
export const backUp = Effect.fnUntraced(function*(configPath: string, mode: number) {
  const fs = yield* FileSystem.FileSystem
  const bytes = yield* fs.readFile(configPath).pipe(Effect.mapError(accessError(configPath, "read")))
  const first = backupPathOf(configPath)
  const exists = (path: string) =>
    fs.stat(path).pipe(
      Effect.as(true),
      Effect.catchIf(isNotFound, () => Effect.succeed(false)),
      Effect.mapError(accessError(path, "inspect"))
    )
  const existing = yield* listTimestamped(configPath)
  let target: string
  if (!(yield* exists(first))) {
    target = first
  } else {
    const newest = existing[existing.length - 1] ?? first
    const previous = yield* fs.readFile(newest).pipe(Effect.option)
    if (Option.isSome(previous) && sameBytes(previous.value, bytes)) return undefined
    // A later second than the newest backup's, so names sort by age (two backups within a second,
    // or a clock set back).
    const now = yield* Clock.currentTimeMillis
    const newestMs = existing.length === 0 ? undefined : stampMs(existing[existing.length - 1]!)
    let ms = newestMs !== undefined && now < newestMs + 1000 ? newestMs + 1000 : now
    target = timestampedBackupPath(configPath, ms)
    while (yield* exists(target)) {
      ms += 1000
      target = timestampedBackupPath(configPath, ms)
    }
  }
  const temp = tempPathFor(target)
  yield* Effect.gen(function*() {
    yield* fs.writeFile(temp, bytes, { flag: "wx", mode })
    yield* fs.chmod(temp, mode)
    yield* fs.rename(temp, target)
  }).pipe(
    Effect.mapError(accessError(target, "back up to")),
    Effect.onExit((exit) => exit._tag === "Success" ? Effect.void : fs.remove(temp, { force: true }).pipe(Effect.ignore))
  )
  if (target !== first) {
    const all = yield* listTimestamped(configPath)
    for (const old of all.slice(0, Math.max(0, all.length - KEPT_BACKUPS))) {
      yield* fs.remove(old).pipe(Effect.ignore)
    }
  }
  return target
})
