/**
 * What `qwen-auth status [--json]` does: read-only (never writes, refreshes or logs in). Exit 0
 * when some source holds usable credentials, 4 when a login is needed (cli-contract.md "Output").
 * Free of effect/cli's command runner, so the fast path of `StatusFast.ts` can run it too.
 */
import { Clock, Console, Duration, Effect } from "effect"
import { pathsOf, QwenAuthConfig } from "../../Config.ts"
import * as CliError from "effect/cli/CliError"
import { ExitCode, type FileAccessError, type MalformedFile } from "../../domain/Errors.ts"
import { toBaseUrl } from "../../domain/ApiBaseUrl.ts"
import { CredentialStore, type Snapshot } from "../../store/CredentialStore.ts"
// The lazy reader: plain-JSON configs never load the JSON5 parser (start-up, docs/benchmarks.md).
import { readConfigLazy } from "../../store/openclaw/ConfigFileLazy.ts"
import { configuredBaseUrl } from "../../store/openclaw/ProviderEntry.ts"
import { currentDefault } from "../../store/openclaw/Models.ts"
import { daemonJson, type DaemonStatus, readDaemonRecord } from "../../daemon/DaemonRecord.ts"
import { Exit, printJson, say } from "../Output.ts"
import { processIsAlive } from "../ProcessAlive.ts"

export type StatusState = "fresh" | "expiring" | "expired-refreshable" | "needs-login" | "logged-out"

/** The state of a snapshot at `nowMs`, with the margin rule of protocol.md §4. */
export const stateOf = (snapshot: Snapshot, nowMs: number, margin: Duration.Duration): StatusState => {
  const c = snapshot.credentials
  if (c === undefined) return snapshot.absentReason === "refused" ? "needs-login" : "logged-out"
  if (!c.isDue(nowMs, margin)) return "fresh"
  if (!c.isExpired(nowMs)) return "expiring"
  return c.refreshToken !== undefined ? "expired-refreshable" : "needs-login"
}

/** Reports the status on stdout (human or `--json`); fails with `Exit` 4 or 1 when not usable. */
export const reportStatus = (json: boolean) =>
  Effect.gen(function*() {
    const settings = yield* QwenAuthConfig
    const store = yield* CredentialStore
    const snapshot = yield* store.load
    const now = yield* Clock.currentTimeMillis
    const paths = pathsOf(settings)
    const problems = [...snapshot.problems]
    const config = yield* readConfigLazy(paths.openclawConfig).pipe(
      Effect.catch((e) => Effect.sync(() => (problems.push(e.message), undefined)))
    )
    const explicitBaseUrl = configuredBaseUrl(config)
    const daemon = yield* readDaemonRecord(settings, processIsAlive)
    const state = stateOf(snapshot, now, settings.refreshMargin)
    const c = snapshot.credentials
    const loggedIn = state === "fresh" || state === "expiring" || state === "expired-refreshable"
    // A host's copy that is behind is repaired by the next refresh or `token`. qwen-auth's own
    // copy is caught up silently, and an OpenClaw profile that was never created is a normal
    // state (OpenClaw may not be set up), not a problem.
    for (const copy of snapshot.behind) {
      // A loose mode is already reported with its file.
      if (copy.path === paths.ownCreds || copy.why === "loose-mode" || (copy.path === paths.authProfiles && copy.why === "missing")) {
        continue
      }
      problems.push(`${copy.path} ${BEHIND[copy.why]}; \`qwen-auth token\` brings it up to date.`)
    }
    const report = {
      loggedIn,
      state,
      source: snapshot.source ?? null,
      expiresAt: c ? new Date(c.expiresAt).toISOString() : null,
      expiresInSeconds: c ? Math.floor((c.expiresAt - now) / 1000) : null,
      refreshable: c ? c.refreshToken !== undefined : null,
      baseUrl: c ? (explicitBaseUrl ?? toBaseUrl(c.resourceUrl)) : (explicitBaseUrl ?? null),
      defaultModel: (config && currentDefault(config)) ?? null,
      files: snapshot.files,
      problems,
      daemon: daemonJson(daemon)
    }
    if (json) yield* printJson(report)
    else {
      yield* Console.log(`${renderHuman(report)}\n${daemonLine(daemon)}`)
      // An OpenClaw that keeps auth-profiles.json (2026.3.24) calls only its bundled refresher,
      // which knows nothing but chat.qwen.ai (hosts.md): qwen-auth has to keep its profile fresh.
      const jsonStore = snapshot.files.some((f) => f.path === paths.authProfiles && f.exists && f.ok)
      if (jsonStore && c !== undefined && daemon._tag !== "running") yield* say(OPENCLAW_3_24_NOTE)
    }
    if (!loggedIn) return yield* Effect.fail(new Exit(ExitCode.loginRequired))
  }).pipe(
    // No usable source and a file we cannot read: exit 1 naming it; `--json` still gets the
    // status object (cli-contract.md: fields always present), with the file under `problems`.
    Effect.catchTags({
      MalformedFile: (error) => json ? unusable(error) : Effect.fail(error),
      FileAccessError: (error) => json ? unusable(error) : Effect.fail(error)
    })
  )

const BEHIND = {
  "missing": "is missing, so Qwen Code would ask for a new login",
  "spent": "holds a refresh token that is already used up",
  "other-login": "holds another login than the one in use",
  "loose-mode": "is readable by others"
} as const

/** Said once by `status` (and `setup-openclaw`) for an OpenClaw with `auth-profiles.json`. */
export const OPENCLAW_3_24_NOTE =
  "Note: OpenClaw 2026.3.24 cannot refresh Qwen logins itself (its bundled refresher only knows chat.qwen.ai). " +
  "Run `qwen-auth daemon` (`qwen-auth daemon install` makes it a service), or `qwen-auth token` before the token " +
  "expires: it refreshes the login and updates OpenClaw's profile."

const unusable = (error: MalformedFile | FileAccessError) =>
  Effect.gen(function*() {
    yield* printJson({
      loggedIn: false,
      state: "needs-login",
      source: null,
      expiresAt: null,
      expiresInSeconds: null,
      refreshable: null,
      baseUrl: null,
      defaultModel: null,
      files: [{ path: error.path, exists: true, mode: null, ok: false, problem: error.message }],
      problems: [error.message],
      daemon: daemonJson(yield* readDaemonRecord(yield* QwenAuthConfig, processIsAlive))
    } satisfies Report)
    yield* say(`qwen-auth: ${error[CliError.userMessage]}`)
    return yield* Effect.fail(new Exit(ExitCode.error))
  })

type Report = {
  readonly loggedIn: boolean
  readonly state: StatusState
  readonly source: string | null
  readonly expiresAt: string | null
  readonly expiresInSeconds: number | null
  readonly refreshable: boolean | null
  readonly baseUrl: string | null
  readonly defaultModel: string | null
  readonly files: Snapshot["files"]
  readonly problems: ReadonlyArray<string>
  readonly daemon: ReturnType<typeof daemonJson>
}

/** Whether a daemon keeps this login fresh (the human report's last line). */
const daemonLine = (d: DaemonStatus): string => {
  switch (d._tag) {
    case "running": {
      const next = d.record?.nextRefreshAt
      const error = d.record?.lastError
      return `  daemon:        running (pid ${d.pid} since ${d.startedAt}) keeps this login fresh` +
        (next ? `; next refresh at ${next}` : error === "LoginRequired" ? "; waiting for a login" : "") +
        (error && error !== "LoginRequired" ? `; last attempt failed (${error})` : "")
    }
    case "stale":
      return `  daemon:        not running (a daemon${d.pid !== undefined ? ` with pid ${d.pid}` : ""} left its lock); ` +
        "start `qwen-auth daemon` to keep this login fresh"
    case "none":
      return "  daemon:        not running; `qwen-auth daemon` keeps this login fresh (`qwen-auth daemon install` runs it as a service)"
  }
}

const duration = (seconds: number): string => {
  const s = Math.abs(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min` : `${s} s`
}

const stateLine: Record<StatusState, string> = {
  "fresh": "Logged in to Qwen",
  "expiring": "Logged in to Qwen (the token is due for refresh)",
  "expired-refreshable": "Logged in to Qwen (the token expired; the next use refreshes it)",
  "needs-login": "Not logged in: the login can no longer be refreshed. Run `qwen-auth login`.",
  "logged-out": "Not logged in. Run `qwen-auth login`."
}

const SOURCE_LABEL = {
  openclaw: "OpenClaw profile qwen-portal:default",
  "qwen-code": "Qwen Code (oauth_creds.json)",
  "qwen-auth": "qwen-auth's own copy (qwen-auth-credentials.json)"
} as const

const renderHuman = (r: Report): string => {
  const lines = [stateLine[r.state]]
  if (r.source) lines.push(`  source:        ${SOURCE_LABEL[r.source as keyof typeof SOURCE_LABEL] ?? r.source}`)
  if (r.expiresAt && r.expiresInSeconds !== null) {
    lines.push(`  expires:       ${r.expiresAt} (${r.expiresInSeconds >= 0 ? "in " : ""}${duration(r.expiresInSeconds)}${r.expiresInSeconds < 0 ? " ago" : ""})`)
  }
  if (r.refreshable === false) lines.push("  refreshable:   no (the server issued no refresh token)")
  if (r.baseUrl) lines.push(`  API base URL:  ${r.baseUrl}`)
  if (r.defaultModel) lines.push(`  default model: ${r.defaultModel}`)
  lines.push("  files:")
  for (const f of r.files) {
    lines.push(`    ${f.exists ? (f.ok ? "ok     " : "PROBLEM") : "missing"} ${f.mode ?? "   "} ${f.path}${f.problem ? ` (${f.problem})` : ""}`)
  }
  for (const p of r.problems) lines.push(`  problem: ${p}`)
  return lines.join("\n")
}
