/**
 * How long the token actor waits after a failed refresh attempt (protocol.md §3): exponential
 * from `backoffBase`, capped at `backoffCap`, jittered by ±`jitter`; `Retry-After` and quota
 * answers are honoured, and permanent errors are retried only at the cap, never in a tight loop.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Random, Schedule } from "effect"
import type { Settings } from "../Config.ts"
import { isOAuthError, isTransient } from "../oauth/OAuthError.ts"
import type { RefreshFailure } from "./TokenErrors.ts"

/** The retry schedule (its delays; the actor steps it by hand, one failure at a time). */
export const refreshSchedule = (settings: Settings): Schedule.Schedule<unknown> =>
  Schedule.min([Schedule.exponential(settings.backoffBase), Schedule.spaced(settings.backoffCap)])
    .pipe(
      Schedule.modifyDelay(({ duration }) =>
        Effect.map(
          Random.nextBetween(1 - settings.jitter, 1 + settings.jitter),
          (factor) => Duration.millis(Math.min(Duration.toMillis(settings.backoffCap), Math.round(Duration.toMillis(duration) * factor)))
        )
      )
    )

/** A stateful stepper: each call returns the next delay in ms. */
export type Stepper = Effect.Effect<number>

/** A fresh stepper (after a success the sequence starts again from the base). */
export const makeStepper = (settings: Settings): Effect.Effect<Stepper> =>
  Effect.map(Schedule.toStep(refreshSchedule(settings)), (step) =>
    // The schedule never ends; its clock input is unused (delays depend on the attempt only).
    Effect.suspend(() => step(0, undefined)).pipe(
      Effect.map(([, delay]) => Duration.toMillis(delay)),
      Effect.catchCause(() => Effect.succeed(Duration.toMillis(settings.backoffCap)))
    ))

/**
 * The wait after `error`, given the schedule's next delay: at least `Retry-After` for a rate
 * limit, the cap for quota and permanent errors (a configuration or server problem does not go
 * away in a second).
 */
export const delayAfter = (settings: Settings, error: RefreshFailure, scheduledMs: number): number => {
  if (error._tag === "RateLimited") {
    return Math.max(scheduledMs, (error.retryAfterSeconds ?? 0) * 1000)
  }
  if (error._tag === "QuotaExceeded") return Math.max(scheduledMs, Duration.toMillis(settings.backoffCap))
  if (error._tag === "MalformedFile") return Math.max(scheduledMs, Duration.toMillis(settings.backoffCap))
  if (isOAuthError(error) && !isTransient(error)) return Math.max(scheduledMs, Duration.toMillis(settings.backoffCap))
  return scheduledMs
}
