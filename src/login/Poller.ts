/**
 * RFC 8628 polling policy over the token endpoint (protocol.md §2): when to poll, how to slow
 * down and back off, and when to give up. Time comes only from the Clock, so TestClock drives it.
 * Writes nothing: an interrupted poll leaves no trace.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect } from "effect"
import type { HttpClient } from "effect/http"
import type { Settings } from "../Config.ts"
import type { DeviceAuthorization } from "../oauth/DeviceAuthorization.ts"
import {
  ExpiredToken,
  isTransient,
  type MalformedResponse,
  type NetworkError,
  type OAuthError,
  type ServerError
} from "../oauth/OAuthError.ts"
import type { PkcePair } from "../oauth/Pkce.ts"
import { type PollResult, pollToken, type TokenResponse } from "../oauth/TokenEndpoint.ts"

/** RFC 8628 §3.2: the interval when the server gives none. */
export const DEFAULT_INTERVAL_SECONDS = 5
/** RFC 8628 §3.5: each `slow_down` adds this to the interval. */
export const SLOW_DOWN_STEP_SECONDS = 5
/** Longest wait after consecutive transient faults (unless the interval itself is longer). */
export const MAX_BACKOFF_SECONDS = 60
/** The longest `Retry-After` a bare 429 may impose on one wait: the code expires in minutes. */
export const MAX_POLL_RETRY_AFTER_SECONDS = 60

/** Everything that can end a device login's polling. */
export type PollError = OAuthError

/**
 * Reported before every wait, so a CLI can show a countdown.
 *
 * @since 0.1.0
 * @category models
 */
export interface PollProgress {
  /** What the last poll said (`start` before the first poll). */
  readonly last: "start" | "pending" | "slow_down" | "transient"
  /** Polls made so far. */
  readonly polls: number
  readonly intervalSeconds: number
  readonly nowMs: number
  /** When the next poll happens; `undefined` when none will (the deadline comes first). */
  readonly nextPollAtMs: number | undefined
  readonly deadlineAtMs: number
  /** The transient fault being backed off from, when `last` is `transient`. */
  readonly fault?: NetworkError | ServerError | MalformedResponse | undefined
}

export interface PollOptions {
  /** `--timeout` in seconds: caps the wait below the device code's `expires_in`. */
  readonly timeoutSeconds?: number | undefined
  /** When the device code was issued (Clock ms); defaults to the moment polling starts. */
  readonly issuedAtMs?: number | undefined
  readonly onProgress?: ((progress: PollProgress) => Effect.Effect<void>) | undefined
}

/**
 * The wait after the k-th consecutive transient fault: `max(interval, min(interval × 2^k, 60 s))`.
 *
 * @see RFC 8628 §3.5 ("reduce the polling rate"; doubling recommended)
 */
export const backoffSeconds = (intervalSeconds: number, faults: number): number =>
  faults <= 0
    ? intervalSeconds
    : Math.max(intervalSeconds, Math.min(intervalSeconds * 2 ** faults, MAX_BACKOFF_SECONDS))

type Step =
  | { readonly _tag: "Answer"; readonly result: PollResult }
  | { readonly _tag: "Fault"; readonly fault: NetworkError | ServerError | MalformedResponse }

/**
 * Polls until the user approves, refuses, or the deadline `min(expires_in, timeout)` passes.
 * Waits one interval before the first poll; never polls or sleeps past the deadline.
 *
 * @see RFC 8628 §3.4–3.5
 * @returns the token response, for `toCredentials`.
 */
export const pollForTokens: (
  settings: Settings,
  device: DeviceAuthorization,
  pkce: PkcePair,
  options?: PollOptions
) => Effect.Effect<TokenResponse, PollError, HttpClient.HttpClient> = Effect.fn("Poller.pollForTokens")(
  function*(settings, device, pkce, options = {}) {
    const now = Clock.currentTimeMillis
    const issuedAt = options.issuedAtMs ?? (yield* now)
    const timeout = options.timeoutSeconds
    const byTimeout = timeout !== undefined && timeout < device.expiresInSeconds
    const deadlineAtMs = issuedAt + (byTimeout ? timeout : device.expiresInSeconds) * 1000
    const expired = new ExpiredToken({ reason: byTimeout ? "timeout" : "deadline" })
    const report = options.onProgress ?? (() => Effect.void)

    let interval = device.intervalSeconds !== undefined && device.intervalSeconds > 0
      ? device.intervalSeconds
      : DEFAULT_INTERVAL_SECONDS
    let faults = 0
    // A bare 429's `Retry-After` (capped), for the next wait only.
    let hold = 0
    let polls = 0
    let last: PollProgress["last"] = "start"
    let fault: PollProgress["fault"] = undefined

    while (true) {
      const wait = Math.max(backoffSeconds(interval, faults), hold)
      hold = 0
      const t = yield* now
      const nextPollAtMs = t + wait * 1000
      const polling = nextPollAtMs < deadlineAtMs
      yield* report({
        last,
        polls,
        intervalSeconds: interval,
        nowMs: t,
        nextPollAtMs: polling ? nextPollAtMs : undefined,
        deadlineAtMs,
        ...(fault !== undefined ? { fault } : {})
      })
      if (!polling) {
        yield* Effect.sleep(Duration.millis(Math.max(0, deadlineAtMs - t)))
        return yield* expired
      }
      yield* Effect.sleep(Duration.seconds(wait))

      const remainingMs = deadlineAtMs - (yield* now)
      const step: Step = yield* pollToken(settings, device.deviceCode, pkce.verifier).pipe(
        Effect.map((result): Step => ({ _tag: "Answer", result })),
        Effect.catchIf(
          (e): e is NetworkError | ServerError | MalformedResponse =>
            (e._tag === "NetworkError" || e._tag === "ServerError" || e._tag === "MalformedResponse") && isTransient(e),
          (e) => Effect.succeed<Step>({ _tag: "Fault", fault: e })
        ),
        // A poll still in flight at the deadline is abandoned: the code is dead by then.
        Effect.timeoutOrElse({ duration: Duration.millis(Math.max(0, remainingMs)), orElse: () => Effect.fail(expired) })
      )
      polls++

      if (step._tag === "Fault") {
        faults++
        last = "transient"
        fault = step.fault
        continue
      }
      faults = 0
      fault = undefined
      switch (step.result._tag) {
        case "Tokens":
          return step.result.tokens
        case "Pending":
          last = "pending"
          break
        case "SlowDown":
          // RFC 8628 §3.5 for `slow_down`; a bare 429 gets the same, plus its Retry-After once.
          interval += SLOW_DOWN_STEP_SECONDS
          hold = Math.min(step.result.retryAfterSeconds ?? 0, MAX_POLL_RETRY_AFTER_SECONDS)
          last = "slow_down"
          break
      }
    }
  }
)
