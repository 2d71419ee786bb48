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
import { B64TOKEN, Credentials } from "../domain/Credentials.ts"
import { escapeUrl } from "../domain/Sanitize.ts"
import { type AnswerError, classifyFailure, decodeAnswer, errorBodyOf, Seconds } from "./ErrorClassification.ts"
import type { MalformedResponse, NetworkError, OAuthError, UntrustedEndpoint } from "./OAuthError.ts"
import { endpointsOf, type OAuthSettings } from "./OAuthSettings.ts"
import { type Answer, exchange, formPost } from "./Transport.ts"
import { checkOAuthBase } from "./Trust.ts"

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

/**
 * The longest token lifetime believed: one year. Qwen issues about 6 h; a larger `expires_in` is
 * a broken or hostile answer, and past about 8.6e12 s `expiresAt` is no longer a valid `Date`.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_EXPIRES_IN_SECONDS = 31_536_000

/**
 * A token in RFC 6750's charset (`B64TOKEN`), `Redacted` from the moment it is decoded: a token with
 * a newline or an escape sequence never reaches a file, a header or `qwen-auth token`'s output.
 */
const BearerToken = Schema.RedactedFromValue(Schema.String.check(Schema.isPattern(B64TOKEN)))

/** An empty `refresh_token`/`id_token` counts as absent (see `nonEmptySecret`); anything else must be a b64token. */
const OptionalToken = Schema.RedactedFromValue(
  Schema.String.check(Schema.makeFilter<string>((s) => s === "" || B64TOKEN.test(s) || "an RFC 6750 b64token"))
)

/** `token_type`: one RFC 7230 token word (no spaces, no CR/LF), such as `Bearer`. */
const TokenType = Schema.String.check(
  Schema.makeFilter<string>((s) => s.trim() === "" || /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/.test(s.trim()) || "a token word")
)

/** `expires_in`: lenient seconds (> 0), at most `MAX_EXPIRES_IN_SECONDS`. */
const ExpiresIn = Seconds.pipe(Schema.check(Schema.isLessThanOrEqualTo(MAX_EXPIRES_IN_SECONDS)))

/**
 * RFC 6749 §5.1 body. `expires_in` is required here (protocol.md §2: refresh timing depends on
 * it); optional fields are checked only when present; unknown keys are ignored. A failure names
 * the field, never its value.
 */
const TokenJson = Schema.Struct({
  access_token: BearerToken,
  expires_in: ExpiresIn,
  token_type: Schema.optionalKey(TokenType),
  refresh_token: Schema.optionalKey(OptionalToken),
  id_token: Schema.optionalKey(OptionalToken),
  scope: Schema.optionalKey(Schema.String),
  resource_url: Schema.optionalKey(Schema.String)
})

const nonEmptySecret = (s: Redacted.Redacted<string> | undefined) =>
  s === undefined || Redacted.value(s) === "" ? undefined : s

const nonEmpty = (s: string | undefined) => (s === undefined || s.trim() === "" ? undefined : s.trim())

const mapDefined = <A, B>(a: A | undefined, f: (a: A) => B): B | undefined => (a === undefined ? undefined : f(a))

/**
 * Decodes a 2xx token body into a `TokenResponse`; tokens are `Redacted` from here on.
 *
 * @see RFC 6749 §5.1
 * @returns a `TokenResponse` for `toCredentials`.
 */
export const decodeTokenResponse = (answer: Answer): Effect.Effect<TokenResponse, MalformedResponse> =>
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
      // Kept as a URL (it is saved and shown): unsafe characters percent-encoded, not dropped.
      resourceUrl: mapDefined(nonEmpty(json.resource_url), escapeUrl)
    }
  })

/**
 * Turns a token response into credentials. `expiresAt = nowMs + expires_in * 1000` (the issued
 * lifetime travels with them); with no new
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
    lifetimeMs: response.expiresInSeconds * 1000,
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
  /** `slow_down`, or a bare 429 (then with its `Retry-After`, when sane). */
  | { readonly _tag: "SlowDown"; readonly retryAfterSeconds?: number | undefined }
  | { readonly _tag: "Tokens"; readonly tokens: TokenResponse }

/**
 * What one poll reads; a `Config.Settings` value fits as it is.
 *
 * @since 0.1.0
 * @category models
 */
export type TokenPollSettings = Pick<OAuthSettings, "oauthBaseUrl" | "clientId" | "userAgent" | "requestTimeout">

/**
 * One poll of the token endpoint with the device code and PKCE verifier.
 *
 * @see RFC 8628 §3.4, RFC 7636 §4.5
 * @returns a request for `HttpClient.execute`; read it with `processTokenPollResponse`.
 */
export const tokenPollRequest = (
  settings: Pick<OAuthSettings, "oauthBaseUrl" | "clientId" | "userAgent">,
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
 * as 429 and `authorization_pending` as 400); a 200 `{"status":"pending"}` is pending too. A
 * 429 that is neither `slow_down`, a quota error nor a final OAuth error (a gateway's bare rate
 * limit) is a slow-down as well: the device code is still good, so the login goes on, slower.
 *
 * @see RFC 8628 §3.5
 * @returns `Pending` / `SlowDown` (poll again, the poller decides when) or `Tokens`.
 */
export const processTokenPollResponse = (
  settings: Pick<OAuthSettings, "clientId">,
  answer: Answer
): Effect.Effect<PollResult, AnswerError> => {
  const body = errorBodyOf(answer.json, answer.secrets)
  if (body?.error === "authorization_pending") return Effect.succeed({ _tag: "Pending" })
  if (body?.error === "slow_down") return Effect.succeed({ _tag: "SlowDown" })
  if (body === undefined && answer.status >= 200 && answer.status < 300 && answer.json !== undefined) {
    if (isRecord(answer.json) && answer.json.status === "pending" && answer.json.access_token === undefined) {
      return Effect.succeed({ _tag: "Pending" })
    }
    return Effect.map(decodeTokenResponse(answer), (tokens) => ({ _tag: "Tokens", tokens }))
  }
  return classifyFailure(settings, answer).pipe(
    Effect.catchTag("RateLimited", (e): Effect.Effect<PollResult> =>
      Effect.succeed({ _tag: "SlowDown", retryAfterSeconds: e.retryAfterSeconds }))
  )
}

/**
 * Sends one poll (timeout `settings.requestTimeout`) and classifies the answer.
 *
 * @returns `PollResult`; the poller owns waiting and the deadline.
 */
export const pollToken: (
  settings: TokenPollSettings,
  deviceCode: Redacted.Redacted<string>,
  codeVerifier: Redacted.Redacted<string>
) => Effect.Effect<PollResult, AnswerError | NetworkError | UntrustedEndpoint, HttpClient.HttpClient> = Effect.fn(
  "TokenEndpoint.pollToken"
)(function*(settings, deviceCode, codeVerifier) {
  yield* checkOAuthBase(settings)
  const request = tokenPollRequest(settings, deviceCode, codeVerifier)
  const answer = yield* exchange("token", request, settings.requestTimeout, [deviceCode, codeVerifier])
  return yield* processTokenPollResponse(settings, answer)
})

// ---------------------------------------------------------------------------------------------
// Refresh
// ---------------------------------------------------------------------------------------------

/**
 * What one refresh reads; a `Config.Settings` value fits as it is.
 *
 * @since 0.1.0
 * @category models
 */
export type RefreshSettings = Pick<OAuthSettings, "oauthBaseUrl" | "clientId" | "userAgent" | "refreshTimeout">

/**
 * A usable answer to a refresh grant. Once the server has answered 2xx it may have invalidated
 * the old refresh token (rotation, RFC 6749 §6), so a rotated `refresh_token` is never thrown away
 * with an otherwise unusable body.
 *
 * @since 0.1.0
 * @category models
 */
export type RefreshAnswer =
  | { readonly _tag: "Tokens"; readonly tokens: TokenResponse }
  /**
   * 2xx JSON object whose refresh_token is a valid non-empty string but whose access_token or
   * expires_in (or another checked field) failed validation. `problem` names that field, never
   * its value: keep the refresh token, then treat the access token as missing.
   */
  | {
    readonly _tag: "RotatedOnly"
    readonly refreshToken: Redacted.Redacted<string>
    readonly problem: MalformedResponse
  }

/** Only the rotated token, for a 2xx body the full `TokenJson` rejected. */
const RotatedJson = Schema.Struct({ refresh_token: BearerToken })

/**
 * A refresh-token grant.
 *
 * @see RFC 6749 §6
 * @returns a request for `HttpClient.execute`; read it with `processRefreshResponse`.
 */
export const refreshRequest = (
  settings: Pick<OAuthSettings, "oauthBaseUrl" | "clientId" | "userAgent">,
  refreshToken: Redacted.Redacted<string>
): HttpClientRequest.HttpClientRequest =>
  formPost(endpointsOf(settings).token, settings, {
    grant_type: "refresh_token",
    refresh_token: Redacted.value(refreshToken),
    client_id: settings.clientId
  })

/**
 * Classifies a refresh answer: 2xx → `Tokens`, or `RotatedOnly` when the body is unusable but
 * carries a valid `refresh_token`; `invalid_grant` → `InvalidGrant{endpoint:"refresh"}`; a bare
 * 401, 5xx, non-JSON 200 → transient errors (see `isTransient`). A 2xx body without a usable
 * `refresh_token` whose fields fail validation is a `MalformedResponse`.
 *
 * @see RFC 6749 §5.1–5.2, §6, protocol.md §3
 * @returns a `RefreshAnswer`: `Tokens` for `toCredentials` (keep the old refresh token when none
 * is sent); `RotatedOnly` means the old refresh token is likely dead, so persist the new one.
 */
export const processRefreshResponse = (
  settings: Pick<OAuthSettings, "clientId">,
  answer: Answer
): Effect.Effect<RefreshAnswer, AnswerError> =>
  errorBodyOf(answer.json, answer.secrets) === undefined && answer.status >= 200 && answer.status < 300 &&
    answer.json !== undefined
    ? decodeTokenResponse(answer).pipe(
      Effect.map((tokens): RefreshAnswer => ({ _tag: "Tokens", tokens })),
      Effect.catchTag("MalformedResponse", (problem) =>
        decodeAnswer(RotatedJson, answer).pipe(
          Effect.map((json): RefreshAnswer => ({ _tag: "RotatedOnly", refreshToken: json.refresh_token, problem })),
          // No usable refresh token either: the first problem is the one to report.
          Effect.mapError(() => problem)
        ))
    )
    : classifyFailure(settings, answer)

/**
 * One refresh (protocol.md §3): POST grant_type=refresh_token with the configured timeout
 * (`settings.refreshTimeout`). Fails with `InvalidGrant{endpoint:"refresh"}` when the token is dead.
 * The refresh token, and `alsoRedact` (the access token it replaces), are redacted by value from
 * anything an error quotes from the answer.
 *
 * @returns a `RefreshAnswer` (see `processRefreshResponse`).
 */
export const refresh: (
  settings: RefreshSettings,
  refreshToken: Redacted.Redacted<string>,
  alsoRedact?: ReadonlyArray<Redacted.Redacted<string>>
) => Effect.Effect<RefreshAnswer, OAuthError, HttpClient.HttpClient> = Effect.fn("TokenEndpoint.refresh")(
  function*(settings, refreshToken, alsoRedact = []) {
    yield* checkOAuthBase(settings)
    const answer = yield* exchange(
      "refresh",
      refreshRequest(settings, refreshToken),
      settings.refreshTimeout,
      [refreshToken, ...alsoRedact]
    )
    return yield* processRefreshResponse(settings, answer)
  }
)
