/**
 * The `api` check: `GET {baseUrl}/models` with the current token through `QwenHttpClient`, the
 * client every embedder uses. A 401/403 there already costs one forced refresh through the token
 * actor (persisted like any refresh); what is still refused after it is the service's answer.
 *
 * @since 0.1.0
 */
import { Clock, Effect } from "effect"
import { HttpClientRequest } from "effect/http"
import { escapeControls } from "../domain/Sanitize.ts"
import { networkErrorOf } from "../oauth/Transport.ts"
import { DISCONTINUATION } from "../domain/QwenService.ts"
import { QwenHttpClient, type QwenApiError } from "../token/QwenHttpClient.ts"
import type { RefreshFailure } from "../token/TokenErrors.ts"
import { TokenManager } from "../token/TokenManager.ts"
import { type CheckResult, ok, problem } from "./Check.ts"
import { route } from "./Network.ts"

/** Where a user goes instead while the service refuses Qwen OAuth tokens (an alternative Qwen names). */
export const SWITCH_PROVIDER = "openclaw models auth login --provider openrouter"

const LOGIN = "qwen-auth login"
const AGAIN = "qwen-auth doctor"

const inSeconds = (nowMs: number, seconds: number | undefined) =>
  seconds === undefined ? "" : ` (the server expects it back at ${new Date(nowMs + seconds * 1000).toISOString()})`

/** The ids of an OpenAI-style model list, shown escaped and cut short. */
const modelIds = (json: unknown): ReadonlyArray<string> => {
  const data = typeof json === "object" && json !== null ? (json as { readonly data?: unknown }).data : undefined
  if (!Array.isArray(data)) return []
  return data.flatMap((m) => typeof m === "object" && m !== null && typeof m.id === "string" ? [escapeControls(m.id).slice(0, 60)] : [])
}

/** A failed refresh, as what the user must do about it. */
const refreshProblem = (reason: RefreshFailure, url: string): Effect.Effect<CheckResult> =>
  Effect.gen(function*() {
    switch (reason._tag) {
      case "InvalidGrant":
        return problem("api", "login-required", "Qwen refused the refresh token (invalid_grant): the login has expired or was revoked", LOGIN)
      case "InvalidClient":
        return problem("api", "client-refused", reason.message, "qwen-auth doctor --client-id <the client id the server expects>")
      case "NetworkError":
        return problem("api", "unreachable", `the refresh could not reach the OAuth server: ${reason.detail}`, AGAIN)
      case "QuotaExceeded":
        return problem("api", "quota-exhausted", `${reason.message}${inSeconds(yield* Clock.currentTimeMillis, reason.retryAfterSeconds)}`, AGAIN)
      case "RateLimited":
        return problem("api", "throttled", reason.message, AGAIN)
      case "ServerError":
        return problem("api", "server-error", `the refresh failed: ${reason.message}`, AGAIN)
      default:
        return problem("api", "refresh-failed", `the refresh before ${url} failed: ${reason.message}`, "qwen-auth token --verbose")
    }
  })

const failed = (error: QwenApiError, url: string): Effect.Effect<CheckResult> =>
  Effect.gen(function*() {
    switch (error._tag) {
      case "ServiceRejectsTokens":
        return problem(
          "api",
          "service-rejects-tokens",
          `GET ${url} answered HTTP ${error.status} to a token issued ${error.tokenAgeSeconds} s earlier${error.serverMessage !== undefined ? ` ("${error.serverMessage}")` : ""}. ${DISCONTINUATION}`,
          SWITCH_PROVIDER
        )
      case "LoginRequired":
        return problem("api", "login-required", error.reason, LOGIN)
      case "TokenUnavailable":
        return yield* refreshProblem(error.reason, url)
      case "QuotaExceeded":
        return problem("api", "quota-exhausted", `${error.message}${error.serverMessage !== undefined ? ` ("${error.serverMessage}")` : ""}${inSeconds(yield* Clock.currentTimeMillis, error.retryAfterSeconds)}`, AGAIN)
      case "RateLimited":
        return problem("api", "throttled", `${error.message}${error.serverMessage !== undefined ? ` ("${error.serverMessage}")` : ""}`, AGAIN)
      case "UntrustedEndpoint":
        return problem("api", "untrusted-endpoint", error.message, "qwen-auth login --force")
      case "HttpClientError":
        return problem("api", "unreachable", `GET ${url}: ${networkErrorOf("api", error).detail} (${yield* route(url)})`, `curl -sS -o /dev/null -w '%{http_code}\\n' ${url}`)
    }
  })

/** @since 0.1.0 @category checks */
export const checkApi: Effect.Effect<CheckResult, never, QwenHttpClient | TokenManager> = Effect.gen(function*() {
  const client = yield* QwenHttpClient
  const tokens = yield* TokenManager
  const held = yield* Effect.result(tokens.get)
  const url = held._tag === "Success" ? `${held.success.baseUrl}/models` : "/models"
  const sent = yield* Effect.result(
    client.execute(HttpClientRequest.get("/models")).pipe(
      Effect.flatMap((response) => Effect.map(Effect.orElseSucceed(response.json, () => undefined), (json) => ({ status: response.status, json })))
    )
  )
  if (sent._tag === "Failure") return yield* failed(sent.failure, url)
  const { json, status } = sent.success
  if (status >= 200 && status < 300) {
    const ids = modelIds(json)
    return ok("api", `GET ${url} answered HTTP ${status}${ids.length > 0 ? ` (models: ${ids.slice(0, 8).join(", ")})` : ""}`)
  }
  if (status === 401 || status === 403) {
    // The refresh behind it did not yield a token issued moments ago (a peer's older one was adopted):
    // refused all the same, after the one forced refresh.
    return problem("api", "service-rejects-tokens", `GET ${url} answered HTTP ${status} even after a refresh. ${DISCONTINUATION}`, SWITCH_PROVIDER)
  }
  if (status === 404) {
    return problem("api", "endpoint-not-found", `GET ${url} answered HTTP 404: no Qwen API at that base URL`, "qwen-auth login --force")
  }
  if (status === 429) return problem("api", "throttled", `GET ${url} answered HTTP 429`, AGAIN)
  if (status >= 500) return problem("api", "server-error", `GET ${url} answered HTTP ${status}`, AGAIN)
  return problem("api", "unexpected-answer", `GET ${url} answered HTTP ${status}`, "qwen-auth doctor --verbose")
})
