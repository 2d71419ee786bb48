/**
 * The token endpoint: one device-grant poll and one refresh, each as a request builder and a
 * response processor (oauth4webapi's shape). Never sleeps, retries or writes.
 *
 * CONTRACT (used by the poller, the token actor and the plugin): the exported names and types
 * below.
 *
 * @since 0.1.0
 */
import { Effect, Redacted, Schema } from "effect"
import type { HttpClient, HttpClientRequest } from "effect/http"
import { endpointsOf, type Settings } from "../Config.ts"
import { Credentials } from "../domain/Credentials.ts"
import { type Answer, type AnswerError, checkOAuthBase, classifyFailure, decodeAnswer, errorBodyOf, exchange, formPost, Seconds } from "./Http.ts"
import type { NetworkError, OAuthError, UntrustedEndpoint } from "./OAuthError.ts"

/** RFC 8628 §3.4 grant type of the device flow. */
export const DEVICE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"

// ---------------------------------------------------------------------------------------------
// Token response
// ---------------------------------------------------------------------------------------------

/** A successful token response (RFC 6749 §5.1), decoded leniently. */
export interface TokenResponse {
  readonly accessToken: Redacted.Redacted<string>
  readonly refreshToken: Redacted.Redacted<string> | undefined
  readonly idToken: Redacted.Redacted<string> | undefined
  readonly tokenType: string
  readonly expiresInSeconds: number
  readonly scope: string | undefined
  readonly resourceUrl: string | undefined
}

const Secret = Schema.RedactedFromValue(Schema.String)

/**
 * RFC 6749 §5.1 body. `expires_in` is required here (protocol.md §2: refresh timing depends on
 * it); optional fields are checked only when present; unknown keys are ignored.
 */
const TokenJson = Schema.Struct({
  access_token: Schema.RedactedFromValue(Schema.NonEmptyString),
  expires_in: Seconds,
  token_type: Schema.optionalKey(Schema.String),
  refresh_token: Schema.optionalKey(Secret),
  id_token: Schema.optionalKey(Secret),
  scope: Schema.optionalKey(Schema.String),
  resource_url: Schema.optionalKey(Schema.String)
})

const nonEmptySecret = (s: Redacted.Redacted<string> | undefined) =>
  s === undefined || Redacted.value(s) === "" ? undefined : s

const nonEmpty = (s: string | undefined) => (s === undefined || s.trim() === "" ? undefined : s.trim())

/**
 * Decodes a 2xx token body into a `TokenResponse`; tokens are `Redacted` from here on.
 *
 * @see RFC 6749 §5.1
 * @returns a `TokenResponse` for `toCredentials`.
 */
export const decodeTokenResponse = (answer: Answer): Effect.Effect<TokenResponse, AnswerError> =>
  Effect.map(decodeAnswer(TokenJson, answer), (json): TokenResponse => {
    const type = nonEmpty(json.token_type)
    return {
      accessToken: json.access_token,
      refreshToken: nonEmptySecret(json.refresh_token),
      idToken: nonEmptySecret(json.id_token),
      // RFC 6749 §5.1: token_type is case-insensitive; "Bearer" is what the API expects.
      tokenType: type === undefined || type.toLowerCase() === "bearer" ? "Bearer" : type,
      expiresInSeconds: json.expires_in,
      scope: nonEmpty(json.scope),
      resourceUrl: nonEmpty(json.resource_url)
    }
  })

/**
 * Turns a token response into credentials. `expiresAt = nowMs + expires_in * 1000`; with no new
 * refresh token the previous one is kept; a new `resource_url` replaces the old one.
 */
export const toCredentials = (response: TokenResponse, nowMs: number, previous?: Credentials): Credentials => {
  const refreshToken = response.refreshToken ?? previous?.refreshToken
  const idToken = response.idToken ?? previous?.idToken
  const resourceUrl = response.resourceUrl ?? previous?.resourceUrl
  return new Credentials({
    accessToken: response.accessToken,
    tokenType: response.tokenType,
    expiresAt: nowMs + response.expiresInSeconds * 1000,
    ...(refreshToken !== undefined ? { refreshToken } : {}),
    ...(idToken !== undefined ? { idToken } : {}),
    ...(resourceUrl !== undefined ? { resourceUrl } : {})
  })
}

// ---------------------------------------------------------------------------------------------
// Device-grant poll
// ---------------------------------------------------------------------------------------------

/**
 * The outcome of one poll. `Pending` and `SlowDown` are retry signals private to the poller
 * (style.md 5); they never leave the login module as errors.
 */
export type PollResult =
  | { readonly _tag: "Pending" }
  | { readonly _tag: "SlowDown" }
  | { readonly _tag: "Tokens"; readonly tokens: TokenResponse }

/**
 * One poll of the token endpoint with the device code and PKCE verifier.
 *
 * @see RFC 8628 §3.4, RFC 7636 §4.5
 * @returns a request for `HttpClient.execute`; read it with `processTokenPollResponse`.
 */
export const tokenPollRequest = (
  settings: Settings,
  deviceCode: Redacted.Redacted<string>,
  codeVerifier: Redacted.Redacted<string>
): HttpClientRequest.HttpClientRequest =>
  formPost(endpointsOf(settings).token, settings, {
    grant_type: DEVICE_GRANT_TYPE,
    client_id: settings.clientId,
    device_code: Redacted.value(deviceCode),
    code_verifier: Redacted.value(codeVerifier)
  })

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

/**
 * Classifies a poll answer by its `error` first, whatever the status (Qwen sends `slow_down`
 * as 429 and `authorization_pending` as 400); a 200 `{"status":"pending"}` is pending too.
 *
 * @see RFC 8628 §3.5
 * @returns `Pending` / `SlowDown` (poll again, the poller decides when) or `Tokens`.
 */
export const processTokenPollResponse = (
  settings: Settings,
  answer: Answer
): Effect.Effect<PollResult, AnswerError> => {
  const body = errorBodyOf(answer.json)
  if (body?.error === "authorization_pending") return Effect.succeed({ _tag: "Pending" })
  if (body?.error === "slow_down") return Effect.succeed({ _tag: "SlowDown" })
  if (body === undefined && answer.status >= 200 && answer.status < 300 && answer.json !== undefined) {
    if (isRecord(answer.json) && answer.json.status === "pending" && answer.json.access_token === undefined) {
      return Effect.succeed({ _tag: "Pending" })
    }
    return Effect.map(decodeTokenResponse(answer), (tokens) => ({ _tag: "Tokens", tokens }))
  }
  return classifyFailure(settings, answer)
}

/**
 * Sends one poll (timeout `settings.requestTimeoutMs`) and classifies the answer.
 *
 * @returns `PollResult`; the poller owns waiting and the deadline.
 */
export const pollToken: (
  settings: Settings,
  deviceCode: Redacted.Redacted<string>,
  codeVerifier: Redacted.Redacted<string>
) => Effect.Effect<PollResult, AnswerError | NetworkError | UntrustedEndpoint, HttpClient.HttpClient> = Effect.fn(
  "TokenEndpoint.pollToken"
)(function*(settings, deviceCode, codeVerifier) {
  yield* checkOAuthBase(settings)
  const answer = yield* exchange("token", tokenPollRequest(settings, deviceCode, codeVerifier), settings.requestTimeoutMs)
  return yield* processTokenPollResponse(settings, answer)
})

// ---------------------------------------------------------------------------------------------
// Refresh
// ---------------------------------------------------------------------------------------------

/**
 * A refresh-token grant.
 *
 * @see RFC 6749 §6
 * @returns a request for `HttpClient.execute`; read it with `processRefreshResponse`.
 */
export const refreshRequest = (
  settings: Settings,
  refreshToken: Redacted.Redacted<string>
): HttpClientRequest.HttpClientRequest =>
  formPost(endpointsOf(settings).token, settings, {
    grant_type: "refresh_token",
    refresh_token: Redacted.value(refreshToken),
    client_id: settings.clientId
  })

/**
 * Classifies a refresh answer: 2xx → tokens; `invalid_grant` → `InvalidGrant{endpoint:"refresh"}`;
 * a bare 401, 5xx, non-JSON 200 → transient errors (see `isTransient`).
 *
 * @see RFC 6749 §5.1–5.2, protocol.md §3
 * @returns a `TokenResponse` for `toCredentials` (keep the old refresh token when none is sent).
 */
export const processRefreshResponse = (settings: Settings, answer: Answer): Effect.Effect<TokenResponse, AnswerError> =>
  errorBodyOf(answer.json) === undefined && answer.status >= 200 && answer.status < 300 && answer.json !== undefined
    ? decodeTokenResponse(answer)
    : classifyFailure(settings, answer)

/**
 * One refresh (protocol.md §3): POST grant_type=refresh_token with the configured timeout
 * (`settings.refreshTimeoutMs`). Fails with `InvalidGrant{endpoint:"refresh"}` when the token is dead.
 */
export const refresh: (
  settings: Settings,
  refreshToken: Redacted.Redacted<string>
) => Effect.Effect<TokenResponse, OAuthError, HttpClient.HttpClient> = Effect.fn("TokenEndpoint.refresh")(
  function*(settings, refreshToken) {
    yield* checkOAuthBase(settings)
    const answer = yield* exchange("refresh", refreshRequest(settings, refreshToken), settings.refreshTimeoutMs)
    return yield* processRefreshResponse(settings, answer)
  }
)
