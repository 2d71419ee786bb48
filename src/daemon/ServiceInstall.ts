/**
 * The file work of `qwen-auth daemon install` / `uninstall`: write the service definition
 * (atomically, 0644, folders 0700), or remove it — only a file qwen-auth wrote (its first line
 * carries `MARKER`), and on Linux only once systemd no longer has it enabled (an enabled unit
 * whose file is gone can no longer be disabled). Starts and stops nothing.
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Option } from "effect"
import { dirname } from "node:path"
import { ensureDirectory, readFileIfExists, removeIfExists, writeFileAtomic } from "../store/AtomicWrite.ts"
import { MARKER, type ServicePlatform, ServiceUnitError, stopHint, SYSTEMD_UNIT } from "./ServiceUnit.ts"

const notOurs = (path: string) =>
  new ServiceUnitError({ detail: `${path} exists and was not written by qwen-auth; move it away or edit it by hand.` })

/** What `install` did. @since 0.1.0 @category models */
export type Installed = "wrote" | "updated" | "unchanged"

/**
 * Writes `text` at `path` unless a file qwen-auth did not write is there.
 *
 * @since 0.1.0
 * @category install
 */
export const installUnit = Effect.fnUntraced(function*(path: string, text: string) {
  const existing = yield* readFileIfExists(path)
  if (Option.isSome(existing) && !existing.value.text.includes(MARKER)) return yield* notOurs(path)
  if (Option.isSome(existing) && existing.value.text === text) return "unchanged" as Installed
  yield* ensureDirectory(dirname(path))
  yield* writeFileAtomic(path, text, { credential: false, mode: 0o644 })
  return (Option.isSome(existing) ? "updated" : "wrote") as Installed
})

/**
 * Removes the definition at `path` if qwen-auth wrote it; false when there is none.
 *
 * @since 0.1.0
 * @category install
 */
export const uninstallUnit = Effect.fnUntraced(function*(path: string, platform: ServicePlatform) {
  const fs = yield* FileSystem.FileSystem
  const existing = yield* readFileIfExists(path)
  if (Option.isNone(existing)) return false
  if (!existing.value.text.includes(MARKER)) return yield* notOurs(path)
  if (platform === "linux") {
    const wants = `${dirname(path)}/default.target.wants/${SYSTEMD_UNIT}`
    const enabled = yield* fs.readLink(wants).pipe(Effect.as(true), Effect.orElseSucceed(() => false))
    if (enabled) {
      return yield* new ServiceUnitError({
        detail: `${SYSTEMD_UNIT} is enabled: run \`${stopHint(platform)}\` first, then \`qwen-auth daemon uninstall\` again.`
      })
    }
  }
  return yield* removeIfExists(path)
})
