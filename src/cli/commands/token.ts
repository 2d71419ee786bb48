/**
 * `qwen-auth token [--json]`: prints the access token (the one command whose job that is).
 * Inside the refresh margin it refreshes first, through the token actor; if that refresh fails
 * transiently while the token still has ≥ 30 s left, it prints the token with a warning.
 */
import { Clock, Console, Duration, Effect, Redacted, Schedule } from "effect"
import { Command, Flag } from "effect/cli"
import { B64TOKEN } from "../../domain/Credentials.ts"
import { LoginRequired } from "../../domain/Errors.ts"
import * as QwenAuth from "../../QwenAuth.ts"
import { isTransientFailure } from "../../token/TokenErrors.ts"
import { TokenManager } from "../../token/TokenManager.ts"
import { type AccessToken, MANDATORY_WINDOW_MS } from "../../token/TokenState.ts"
import { withStore } from "../Environment.ts"
import { printJson, say } from "../Output.ts"

const json = Flag.Boolean("json").pipe(
  Flag.withDescription("Print {accessToken, expiresAt, baseUrl} as JSON"),
  Flag.withDefault(false)
)

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

export const token = Command.make("token", { json }, ({ json }) =>
  Effect.gen(function*() {
    const t: AccessToken = yield* currentToken
    // Tokens from the server are checked when decoded; one read from a file may hold anything,
    // and this command's output goes into headers and shells: print a b64token or nothing.
    if (!B64TOKEN.test(Redacted.value(t.accessToken))) {
      return yield* new LoginRequired({
        reason: "The stored access token holds characters no bearer token may (RFC 6750); it is not printed."
      })
    }
    if (json) {
      return yield* printJson({
        accessToken: Redacted.value(t.accessToken),
        expiresAt: new Date(t.expiresAt).toISOString(),
        baseUrl: t.baseUrl
      })
    }
    yield* Console.log(Redacted.value(t.accessToken))
  }).pipe(
    Effect.provide(QwenAuth.tokens()),
    withStore
  )
).pipe(Command.withDescription("Print a valid access token on stdout (refreshing it first when due)"))
