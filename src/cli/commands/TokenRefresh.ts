/**
 * `qwen-auth token` when the stored token cannot just be printed (`TokenPrint.ts`): the token
 * actor over the store, with the HTTP client. Its first reload brings copies that are behind up
 * to date; inside the refresh margin it refreshes first, and if that refresh fails transiently
 * while the token still has ≥ 30 s left, the current token is used with a warning. A module of
 * its own so a fresh token never loads the actor or undici (start-up, docs/benchmarks.md).
 */
import { Clock, Duration, Effect, Schedule } from "effect"
import * as QwenAuth from "../../QwenAuth.ts"
import { isTransientFailure } from "../../token/TokenErrors.ts"
import { TokenManager } from "../../token/TokenManager.ts"
import { type AccessToken, MANDATORY_WINDOW_MS } from "../../token/TokenState.ts"
import { say } from "../Output.ts"

/** How long `token` keeps trying when the token is (nearly) expired and the server fails transiently. */
const RETRY_BUDGET_MS = 20_000
const RETRY_POLL_MS = 500

/** The token to print: refreshed when due; the old one (with a warning) if a transient failure leaves it ≥ 30 s. */
const currentToken = Effect.gen(function*() {
  const tokens = yield* TokenManager
  const held = yield* tokens.get
  const now = yield* Clock.currentTimeMillis
  if (now < held.refreshDueAt) return held
  return yield* tokens.refresh(held.accessToken).pipe(
    // Near expiry a transient failure is worth waiting out: the actor retries on its backoff and
    // answers callers with the last error until then, so polling it costs no extra requests.
    Effect.retry({
      schedule: Schedule.spaced(RETRY_POLL_MS).pipe(Schedule.upTo({ duration: Duration.millis(RETRY_BUDGET_MS) })),
      while: (error) =>
        error._tag === "TokenUnavailable" && isTransientFailure(error.reason) &&
        held.expiresAt - now < MANDATORY_WINDOW_MS
    }),
    Effect.catchTag("TokenUnavailable", (error) =>
      Effect.gen(function*() {
        const later = yield* Clock.currentTimeMillis
        const reason = error.reason
        if (isTransientFailure(reason) && held.expiresAt - later >= MANDATORY_WINDOW_MS) {
          yield* say(`qwen-auth: warning: refresh failed (${reason.message}); printing the current token, valid until ${new Date(held.expiresAt).toISOString()}`)
          return held
        }
        return yield* Effect.fail(error)
      }))
  )
})

/** Runs `use` on the token the actor hands out, inside the actor's scope. */
export const withCurrentToken = <A, E, R>(use: (token: AccessToken) => Effect.Effect<A, E, R>) =>
  currentToken.pipe(Effect.flatMap(use), Effect.provide(QwenAuth.tokens()))
