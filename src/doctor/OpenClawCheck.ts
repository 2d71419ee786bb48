/**
 * The `openclaw` check: which OpenClaw release is installed (`openclaw --version`), which auth
 * store it keeps (decided from disk, as the credential store decides it), and whether qwen-auth's
 * plugin is the one `openclaw plugins list --json` shows loaded. Skipped when there is no OpenClaw.
 *
 * @since 0.1.0
 */
import { Effect, FileSystem } from "effect"
import type { ChildProcessSpawner } from "effect/process"
import { pathsOf, type Settings } from "../Config.ts"
import * as OpenClawCli from "../setup/OpenClawCli.ts"
import { judgeListing } from "../setup/PluginCheck.ts"
import { PLUGIN_ID } from "../store/openclaw/Ids.ts"
import * as OpenClawSqlite from "../store/OpenClawSqlite.ts"
import { type CheckResult, ok, problem, skipped } from "./Check.ts"

/** The executable: OPENCLAW_BIN, else `openclaw` on PATH (as `setup-openclaw`). */
export const openclawBinOf = (env: Readonly<Record<string, string | undefined>>): string => {
  const fromEnv = env.OPENCLAW_BIN
  return fromEnv !== undefined && fromEnv.trim() !== "" ? fromEnv : "openclaw"
}

const storeOf = (settings: Settings) =>
  Effect.gen(function*() {
    const sqlite = yield* OpenClawSqlite.detect(settings.openclawStateDir, settings.openclawAgentDir)
    if (sqlite.length > 0) return `auth profiles in SQLite (${sqlite.join(", ")})`
    const fs = yield* FileSystem.FileSystem
    const json = pathsOf(settings).authProfiles
    return (yield* fs.exists(json).pipe(Effect.orElseSucceed(() => false)))
      ? `auth profiles in JSON (${json})`
      : "no auth store yet"
  })

/** @since 0.1.0 @category checks */
export const checkOpenClaw = (
  settings: Settings,
  env: Readonly<Record<string, string | undefined>>
): Effect.Effect<CheckResult, never, FileSystem.FileSystem | ChildProcessSpawner.ChildProcessSpawner> =>
  Effect.gen(function*() {
    const bin = openclawBinOf(env)
    const childEnv = OpenClawCli.childEnv(env, { stateDir: settings.openclawStateDir, configPath: pathsOf(settings).openclawConfig })
    const release = yield* Effect.result(OpenClawCli.version(bin, childEnv))
    if (release._tag === "Failure") {
      const e = release.failure
      return e._tag === "OpenClawNotFound"
        ? skipped("openclaw", `OpenClaw not found (${e.detail}); set OPENCLAW_BIN if it is installed elsewhere`)
        : problem("openclaw", "openclaw-failed", e.message, `${bin} --version`)
    }
    const store = yield* storeOf(settings)
    const listed = yield* Effect.result(OpenClawCli.listPlugins(bin, childEnv))
    if (listed._tag === "Failure") {
      return problem("openclaw", "openclaw-failed", `OpenClaw ${release.success.text}, ${store}; ${listed.failure.message}`, `${bin} plugins list --json`)
    }
    const pluginDir = `${settings.openclawStateDir}/extensions/${PLUGIN_ID}`
    const verdict = yield* judgeListing(listed.success, pluginDir)
    const said = `OpenClaw ${release.success.text}, ${store}`
    return verdict.loaded
      ? ok("openclaw", `${said}, qwen-auth's plugin loaded from ${pluginDir}`)
      : problem("openclaw", "plugin-not-loaded", `${said}; qwen-auth's plugin is not loaded: ${verdict.reason}`, "qwen-auth setup-openclaw")
  })
