/**
 * An `HttpClient` for the Qwen API (protocol.md §6): prefixes the API base URL, adds
 * `Authorization: Bearer …` and `X-DashScope-AuthType: qwen-oauth`, and after a 401/403 forces one
 * refresh (shared with any refresh in flight) and retries once; never loops. Quota errors surface
 * as `QuotaExceeded`, other 429s as `RateLimited`; neither is retried. A second 401/403 to a token
 * issued less than a minute earlier is `ServiceRejectsTokens`: the service, not the token.
 *
 * @since 0.1.0
 */
import { Clock, Context, Effect, Layer } from "effect"
import { HttpClient, type HttpClientError, HttpClientRequest, type HttpClientResponse } from "effect/http"
import { QwenAuthConfig, type Settings } from "../Config.ts"
import type { LoginRequired } from "../domain/Errors.ts"
import { classifyFailure, errorBodyOf } from "../oauth/ErrorClassification.ts"
import { QuotaExceeded, RateLimited, UntrustedEndpoint } from "../oauth/OAuthError.ts"
import { FRESH_TOKEN_MS, ServiceRejectsTokens } from "./ServiceRejectsTokens.ts"
import type { TokenUnavailable } from "./TokenErrors.ts"
import { TokenManager } from "./TokenManager.ts"
import type { AccessToken } from "./TokenState.ts"

/**
 * Everything a Qwen API call can fail with before a response is returned.
 *
 * @since 0.1.0
 * @category errors
 */
export type QwenApiError =
  | HttpClientError.HttpClientError
  | LoginRequired
  | TokenUnavailable
  | QuotaExceeded
  | RateLimited
  | UntrustedEndpoint
  | ServiceRejectsTokens

const QUOTA_TEXT = /quota\s+(exceeded|exhausted)|insufficient[_\s]quota/i
const ABSOLUTE = /^[a-z][a-z0-9+.-]*:\/\//i

/**
 * Puts the token on a request. Paths are relative to the API base URL; an absolute URL is only
 * accepted under that base, so the bearer token never goes to another host.
 */
const authorize = (
  request: HttpClientRequest.HttpClientRequest,
  token: AccessToken
): Effect.Effect<HttpClientRequest.HttpClientRequest, UntrustedEndpoint> => {
  const absolute = ABSOLUTE.test(request.url)
  if (absolute && !(request.url === token.baseUrl || request.url.startsWith(`${token.baseUrl}/`))) {
    return Effect.fail(new UntrustedEndpoint({ url: request.url.replace(/[?#].*$/, ""), reason: `not under the API base URL ${token.baseUrl}` }))
  }
  return Effect.succeed(
    (absolute ? request : HttpClientRequest.prependUrl(request, token.baseUrl)).pipe(
      HttpClientRequest.bearerToken(token.accessToken),
      HttpClientRequest.setHeader("x-dashscope-authtype", "qwen-oauth")
    )
  )
}

/** The answer to classify; the bearer token the request carried is redacted from what it quotes. */
const answerOf = (response: HttpClientResponse.HttpClientResponse, text: string, token: AccessToken) => {
  let json: unknown = undefined
  try {
    json = text.trim() === "" ? undefined : JSON.parse(text)
  } catch {
    json = undefined
  }
  return {
    endpoint: "api" as const,
    status: response.status,
    headers: response.headers,
    text,
    json,
    secrets: [token.accessToken]
  }
}

/** A 429 (or a 401/403 saying "quota") becomes a typed error; anything else is the response. */
const surfaceLimits = (settings: Settings) =>
(
  response: HttpClientResponse.HttpClientResponse,
  token: AccessToken
): Effect.Effect<HttpClientResponse.HttpClientResponse, QwenApiError> => {
  if (response.status !== 429) return Effect.succeed(response)
  return Effect.flatMap(response.text, (text) =>
    classifyFailure(settings, answerOf(response, text, token)).pipe(
      Effect.catch((e) =>
        e._tag === "QuotaExceeded" || e._tag === "RateLimited"
          ? Effect.fail(e)
          : Effect.fail(new RateLimited({ endpoint: "api" }))
      )
    ))
}

/**
 * The Qwen API client as a service. Use it like any `HttpClient`, with paths relative to the API
 * base URL.
 *
 * **When to use**
 *
 * Calling the OpenAI-compatible Qwen API from an Effect program with the token kept fresh.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HttpClientRequest } from "effect/http"
 * import { QwenHttpClient } from "qwen-portal-auth"
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* QwenHttpClient
 *   const response = yield* client.execute(
 *     HttpClientRequest.post("/chat/completions").pipe(
 *       HttpClientRequest.bodyJsonUnsafe({ model: "coder-model", messages: [{ role: "user", content: "hi" }] })
 *     )
 *   )
 *   return yield* response.json
 * })
 * ```
 *
 * Request bodies should be re-readable (JSON, text, bytes): after a 401/403 the same request is
 * sent once more with the new token.
 *
 * @since 0.1.0
 * @category services
 */
export class QwenHttpClient extends Context.Service<QwenHttpClient, HttpClient.HttpClient.With<QwenApiError>>()(
  "qwen-auth/token/QwenHttpClient"
) {
  /** Needs TokenManager, HttpClient and QwenAuthConfig. @since 0.1.0 */
  static readonly layer: Layer.Layer<QwenHttpClient, never, TokenManager | HttpClient.HttpClient | QwenAuthConfig> =
    Layer.effect(
      QwenHttpClient,
      Effect.gen(function*() {
        const tokens = yield* TokenManager
        const http = yield* HttpClient.HttpClient
        const settings = yield* QwenAuthConfig
        const limits = surfaceLimits(settings)

        const send = (request: HttpClientRequest.HttpClientRequest, token: AccessToken) =>
          Effect.flatMap(authorize(request, token), http.execute)

        /** A 401/403 that says "quota" is a quota error, not a token problem. */
        const quotaOr = (response: HttpClientResponse.HttpClientResponse, text: string, token: AccessToken) =>
          QUOTA_TEXT.test(text)
            ? classifyFailure(settings, answerOf(response, text, token)).pipe(
              Effect.catch(() => Effect.fail(new QuotaExceeded({ endpoint: "api" })))
            )
            : Effect.void

        const run = Effect.fnUntraced(function*(
          request: HttpClientRequest.HttpClientRequest
        ): Effect.fn.Return<HttpClientResponse.HttpClientResponse, QwenApiError> {
          const token = yield* tokens.get
          const first = yield* send(request, token)
          if (first.status !== 401 && first.status !== 403) return yield* limits(first, token)
          yield* quotaOr(first, yield* first.text, token)
          // Name the token that failed: if someone already replaced it, no new POST happens.
          const fresh = yield* tokens.refresh(token.accessToken)
          // Exactly one retry.
          const second = yield* send(request, fresh)
          if (second.status !== 401 && second.status !== 403) return yield* limits(second, fresh)
          // An older token may simply have been revoked: that answer goes back as it is.
          const ageMs = fresh.issuedAt === undefined ? undefined : (yield* Clock.currentTimeMillis) - fresh.issuedAt
          if (ageMs === undefined || ageMs >= FRESH_TOKEN_MS) return second
          const text = yield* second.text
          yield* quotaOr(second, text, fresh)
          const said = errorBodyOf(answerOf(second, text, fresh).json, [fresh.accessToken])?.description
          return yield* new ServiceRejectsTokens({
            status: second.status,
            tokenAgeSeconds: Math.max(0, Math.floor(ageMs / 1000)),
            ...(said !== undefined ? { serverMessage: said } : {})
          })
        })

        return HttpClient.makeWith<never, never, QwenApiError, never>(
          (request) => Effect.flatMap(request, run),
          Effect.succeed
        )
      })
    )
}
