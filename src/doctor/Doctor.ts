/**
 * `qwen-auth doctor`'s core: runs the checks in order and returns one result each. Front ends
 * (the CLI) only render it. Writes nothing itself: the only write it can cause is a refresh the
 * `api` check needs, made and persisted by the token actor like any other.
 *
 * @since 0.1.0
 */
import { Clock, Effect, FileSystem, Layer } from "effect"
import type { ChildProcessSpawner } from "effect/process"
import { pathsOf, QwenAuthConfig } from "../Config.ts"
import * as HttpClientLayer from "../internal/HttpClientLayer.ts"
import { CredentialStore } from "../store/CredentialStore.ts"
import { readConfigLazy } from "../store/openclaw/ConfigFileLazy.ts"
import { configuredBaseUrl } from "../store/openclaw/ProviderEntry.ts"
import { QwenHttpClient } from "../token/QwenHttpClient.ts"
import { TokenManager } from "../token/TokenManager.ts"
import type { IsAlive } from "../daemon/DaemonLock.ts"
import { checkApi } from "./ApiCheck.ts"
import { type CheckResult, exitCodeOf, problem, shellWord, skipped } from "./Check.ts"
import { checkDaemon } from "./DaemonCheck.ts"
import { checkFiles, checkQwenCode } from "./FileChecks.ts"
import { checkOAuthServer } from "./OAuthServerCheck.ts"
import { checkOpenClaw } from "./OpenClawCheck.ts"

export { type CheckResult, exitCodeOf } from "./Check.ts"

/** What `doctor --json` prints. @since 0.1.0 @category models */
export interface DoctorReport {
  readonly ok: boolean
  readonly checks: ReadonlyArray<CheckResult>
}

/**
 * Runs every check. `env` is the process environment (OpenClaw's executable and its settings);
 * `isAlive` tells whether a daemon's pid still runs.
 *
 * @since 0.1.0
 * @category running
 */
export const runDoctor = (
  env: Readonly<Record<string, string | undefined>>,
  isAlive: IsAlive
): Effect.Effect<DoctorReport, never, QwenAuthConfig | CredentialStore | FileSystem.FileSystem | ChildProcessSpawner.ChildProcessSpawner> =>
  Effect.gen(function*() {
    const settings = yield* QwenAuthConfig
    const store = yield* CredentialStore
    const paths = pathsOf(settings)
    const checks: Array<CheckResult> = []
    const http = HttpClientLayer.layer

    const loaded = yield* Effect.result(store.load)
    const now = yield* Clock.currentTimeMillis
    const snapshot = loaded._tag === "Success" ? loaded.success : undefined
    const c = snapshot?.credentials
    const loggedIn = c !== undefined && (!c.isExpired(now) || c.refreshToken !== undefined)

    if (loaded._tag === "Failure") {
      const e = loaded.failure
      const what = e._tag === "MalformedFile" ? `${e.path} ${e.problem}` : e.message
      checks.push(problem("files", "file-problem", `${what}, and no other copy holds a login`, `\${EDITOR:-vi} ${shellWord(e.path)}`))
    } else {
      checks.push(checkFiles(loaded.success, paths, loggedIn))
    }

    checks.push(yield* checkOAuthServer(settings).pipe(Effect.provide(http)))

    if (!loggedIn) {
      checks.push(skipped("api", "not logged in, so there is no token to try"))
    } else {
      const config = yield* readConfigLazy(paths.openclawConfig).pipe(Effect.orElseSucceed(() => undefined))
      // The token actor over the same store, without its copy repair (doctor reports, it does not fix).
      const tokens = TokenManager.layerWith({ baseUrl: configuredBaseUrl(config), repairCopies: false })
      const api = QwenHttpClient.layer.pipe(Layer.provideMerge(tokens), Layer.provide(http))
      checks.push(yield* checkApi.pipe(Effect.provide(api)))
    }

    checks.push(yield* checkOpenClaw(settings, env))
    checks.push(
      snapshot === undefined
        ? skipped("qwen-code", "the files could not be read (see `files`)")
        : checkQwenCode(snapshot, paths, settings.qwenCodeSync, loggedIn)
    )
    checks.push(yield* checkDaemon(settings, isAlive))
    return { ok: exitCodeOf(checks) === 0, checks }
  })
