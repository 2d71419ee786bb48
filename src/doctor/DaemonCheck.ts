/**
 * The `daemon` check: whether a `qwen-auth daemon` keeps this Qwen home fresh, read from its lock
 * and record (never from the daemon itself). No daemon is not a problem; a daemon that died and
 * left its lock is, since nothing refreshes ahead of the hosts any more.
 *
 * @since 0.1.0
 */
import { Effect, type FileSystem } from "effect"
import type { Settings } from "../Config.ts"
import type { IsAlive } from "../daemon/DaemonLock.ts"
import { daemonLockPath } from "../daemon/DaemonLock.ts"
import { readDaemonRecord } from "../daemon/DaemonRecord.ts"
import { type CheckResult, ok, problem, skipped } from "./Check.ts"

const WHY = {
  gone: "is gone",
  old: "has not touched it for over a minute (hung or stopped)",
  self: "had this process's pid (a restarted container)",
  unreadable: "left it unreadable"
} as const

/** @since 0.1.0 @category checks */
export const checkDaemon = (
  settings: Pick<Settings, "qwenHome">,
  isAlive: IsAlive
): Effect.Effect<CheckResult, never, FileSystem.FileSystem> =>
  Effect.map(readDaemonRecord(settings, isAlive), (daemon): CheckResult => {
    switch (daemon._tag) {
      case "none":
        return skipped("daemon", `no daemon keeps ${settings.qwenHome} fresh (\`qwen-auth daemon install\` sets one up)`)
      case "stale":
        return problem(
          "daemon",
          "daemon-stopped",
          `${daemonLockPath(settings.qwenHome)} is left by a daemon${daemon.pid !== undefined ? ` (pid ${daemon.pid})` : ""} that ${WHY[daemon.why]}: nothing refreshes ahead of the hosts`,
          "qwen-auth daemon"
        )
      case "running": {
        const r = daemon.record
        const times = r === undefined
          ? "it has not written its record yet"
          : `last refresh ${r.lastRefreshAt ?? "none yet"}, next ${r.nextRefreshAt ?? "when a login appears"}` +
            (r.lastError !== null ? `; its last attempt failed (${r.lastError})` : "")
        return ok("daemon", `pid ${daemon.pid}, running since ${daemon.startedAt}, keeps ${settings.qwenHome} fresh: ${times}`)
      }
    }
  })
