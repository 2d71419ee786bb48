/**
 * The daemon: the token actor over the user's files as a long-running service (issue 15). It
 * holds the Qwen home's daemon lock, runs the one token actor with a margin ahead of every host
 * (`max(margin, 10 min)`, still at most half the lifetime), watching the files so a peer's newer
 * token or a new login is taken up at once, retrying past expiry (nobody else drives it), and
 * reports each event as one line on stderr and in `qwen-auth-daemon.json`. It has no refresh or
 * file rules of its own: every write goes through the credential store, under the hosts' locks.
 *
 * Between events it sleeps until its next deadline or the next file check (a few `stat`s).
 *
 * @since 0.1.0
 */
import { Clock, Console, Duration, Effect, FileSystem, Logger } from "effect"
import { HttpClient } from "effect/http"
import { QwenAuthConfig, type Settings } from "../Config.ts"
import { CredentialStore } from "../store/CredentialStore.ts"
import type { ActorEvent } from "../token/ActorEvent.ts"
import { makeActor } from "../token/TokenActor.ts"
import * as DaemonLock from "./DaemonLock.ts"
import { type DaemonRecord, removeRecord, writeRecord } from "./DaemonRecord.ts"

/** The daemon refreshes at least this long before expiry: ahead of the hosts' 5 min. @since 0.1.0 @category constants */
export const DAEMON_MIN_MARGIN = Duration.minutes(10)
/** On a signal, how much longer than one refresh request a refresh in flight may take to persist. @since 0.1.0 @category constants */
export const STOP_GRACE = Duration.seconds(2)

// =============================================================================
// Events
// =============================================================================

/** @since 0.1.0 @category models */
export type DaemonEventName =
  | "started"
  | "refreshed"
  | "adopted"
  | "refresh-failed"
  | "needs-login"
  | "login-detected"
  | "stopped"
  | "log"

/** One line on stderr. @since 0.1.0 @category models */
export interface DaemonLine {
  readonly time: number
  readonly level: "debug" | "info" | "warn" | "error"
  readonly event: DaemonEventName
  readonly expiresAt?: number | undefined
  readonly nextRefreshAt?: number | undefined
  readonly message: string
}

const iso = (ms: number) => new Date(ms).toISOString()

/**
 * A line as printed: `{"time","level","event","expiresAt"?,"nextRefreshAt"?,"message"}` with
 * `--json`, else `<time> <event>: <message>`.
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderLine = (line: DaemonLine, json: boolean): string =>
  json
    ? JSON.stringify({
      time: iso(line.time),
      level: line.level,
      event: line.event,
      ...(line.expiresAt !== undefined ? { expiresAt: iso(line.expiresAt) } : {}),
      ...(line.nextRefreshAt !== undefined ? { nextRefreshAt: iso(line.nextRefreshAt) } : {}),
      message: line.message
    })
    : `${iso(line.time)} ${line.event}: ${line.message}`

const timing = (expiresAt: number, nextRefreshAt: number) =>
  `the token expires at ${iso(expiresAt)}; next refresh at ${iso(nextRefreshAt)}`

/** The line of an actor event. @since 0.1.0 @category rendering */
export const lineOf = (event: ActorEvent, time: number): DaemonLine => {
  switch (event._tag) {
    case "Refreshed":
      return { time, level: "info", event: "refreshed", ...event, message: `refreshed every copy; ${timing(event.expiresAt, event.nextRefreshAt)}` }
    case "Adopted":
      return {
        time,
        level: "info",
        event: "adopted",
        ...event,
        message: `took up the newer token another program stored; ${timing(event.expiresAt, event.nextRefreshAt)}`
      }
    case "LoginDetected":
      return { time, level: "info", event: "login-detected", ...event, message: `found a new login; ${timing(event.expiresAt, event.nextRefreshAt)}` }
    case "RefreshFailed":
      return {
        time,
        level: "warn",
        event: "refresh-failed",
        expiresAt: event.expiresAt,
        nextRefreshAt: event.retryAt,
        message: `refresh failed (${event.message}); ` +
          (event.expiresAt > time
            ? `the current token is kept (it expires at ${iso(event.expiresAt)}); `
            : `the token expired at ${iso(event.expiresAt)}; `) +
          `retrying at ${iso(event.retryAt)}`
      }
    case "NeedsLogin":
      return {
        time,
        level: "warn",
        event: "needs-login",
        message: `${event.reason.replace(/\s*run `qwen-auth login`\.?$/i, "")} Waiting for a login (\`qwen-auth login\`, Qwen Code or OpenClaw).`
      }
  }
}

/**
 * Log lines of the daemon's run (the core's own warnings) in the daemon's format.
 *
 * @since 0.1.0
 * @category rendering
 */
export const daemonLogger = (json: boolean) =>
  Logger.make<unknown, string>(({ date, logLevel, message }) => {
    const text = (Array.isArray(message) ? message : [message]).map((m) => typeof m === "string" ? m : String(m)).join(" ")
    const level = logLevel === "Fatal" || logLevel === "Error" ? "error" : logLevel === "Warn" ? "warn" : logLevel === "Info" ? "info" : "debug"
    return renderLine({ time: date.getTime(), level, event: "log", message: text }, json)
  }).pipe(Logger.withConsoleError)

// =============================================================================
// Run
// =============================================================================

/** @since 0.1.0 @category models */
export interface DaemonOptions {
  readonly pid: number
  readonly isAlive: DaemonLock.IsAlive
  readonly json: boolean
}

/**
 * Runs until interrupted (a signal): takes the lock, starts the actor, reports events. On
 * interrupt, a refresh in flight is given its request timeout plus `STOP_GRACE` to persist; then
 * `stopped` is reported, the record removed, the lock released. Fails with `DaemonRunning` when
 * another daemon keeps this home, and with `LockError` if the lock is taken away.
 *
 * @since 0.1.0
 * @category run
 */
export const run = Effect.fn("Daemon.run")(function*(options: DaemonOptions) {
  const settings: Settings = yield* QwenAuthConfig
  const store = yield* CredentialStore
  const http = yield* HttpClient.HttpClient
  const fs = yield* FileSystem.FileSystem
  const home = settings.qwenHome
  const startedAtMs = yield* Clock.currentTimeMillis
  const lock = yield* DaemonLock.acquire(home, { pid: options.pid, startedAt: iso(startedAtMs), isAlive: options.isAlive })

  let record: DaemonRecord = {
    version: 1,
    pid: options.pid,
    startedAt: iso(startedAtMs),
    lastRefreshAt: null,
    nextRefreshAt: null,
    lastError: null
  }
  const emit = (line: DaemonLine) => Console.error(renderLine(line, options.json))
  const saveRecord = (patch: Partial<DaemonRecord>) =>
    Effect.suspend(() => {
      record = { ...record, ...patch }
      return writeRecord(home, record).pipe(
        Effect.provideService(FileSystem.FileSystem, fs),
        Effect.catch((error) => Effect.logWarning(`Cannot write the daemon record: ${error.message}`))
      )
    })

  const onEvent = (event: ActorEvent) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      yield* emit(lineOf(event, now))
      switch (event._tag) {
        case "Refreshed":
          return yield* saveRecord({ lastRefreshAt: iso(now), nextRefreshAt: iso(event.nextRefreshAt), lastError: null })
        case "Adopted":
        case "LoginDetected":
          return yield* saveRecord({ nextRefreshAt: iso(event.nextRefreshAt), lastError: null })
        case "RefreshFailed":
          return yield* saveRecord({ nextRefreshAt: iso(event.retryAt), lastError: event.errorTag })
        case "NeedsLogin":
          return yield* saveRecord({ nextRefreshAt: null, lastError: "LoginRequired" })
      }
    })

  const actor = yield* makeActor({
    settings,
    store,
    http,
    baseUrl: undefined,
    options: { minMargin: DAEMON_MIN_MARGIN, watchFiles: true, retryPastExpiry: true, onEvent }
  })

  // started (and, without a usable login, needs-login once).
  const state = yield* actor.state
  const next = yield* actor.nextRefreshAt
  const now = yield* Clock.currentTimeMillis
  const expiresAt = state._tag === "Fresh" || state._tag === "Refreshing" ? state.expiresAt : undefined
  yield* emit({
    time: now,
    level: "info",
    event: "started",
    expiresAt,
    nextRefreshAt: next,
    message: `keeps ${home} fresh (pid ${options.pid})` + (expiresAt !== undefined && next !== undefined ? `; ${timing(expiresAt, next)}` : "")
  })
  yield* saveRecord({ nextRefreshAt: next !== undefined ? iso(next) : null })
  if (state._tag === "NeedsLogin" || state._tag === "LoggedOut") {
    yield* onEvent({
      _tag: "NeedsLogin",
      reason: state._tag === "NeedsLogin" ? state.reason : "No Qwen credentials are stored (never logged in, or logged out)."
    })
  }

  const stop = Effect.gen(function*() {
    // A refresh in flight persists before the actor's fibers are interrupted with the scope.
    yield* actor.drain.pipe(Effect.interruptible, Effect.timeoutOption(Duration.sum(settings.refreshTimeout, STOP_GRACE)))
    yield* emit({ time: yield* Clock.currentTimeMillis, level: "info", event: "stopped", message: `no longer keeps ${home} fresh` })
    yield* removeRecord(home).pipe(Effect.provideService(FileSystem.FileSystem, fs))
  })

  return yield* lock.lost.pipe(Effect.onExit(() => stop))
})
