/**
 * The device authorization step (RFC 8628 §3.1–3.2) with PKCE: request builder, response
 * processor, and the two glued together. Never sleeps, retries or writes.
 *
 * @since 0.1.0
 */
import { Effect, Redacted, Schema } from "effect"
import type { HttpClient, HttpClientRequest } from "effect/http"
import { randomUUID } from "node:crypto"
import { type AnswerError, classifyFailure, decodeAnswer, errorBodyOf, Seconds } from "./ErrorClassification.ts"
import type { NetworkError, UntrustedEndpoint } from "./OAuthError.ts"
import { endpointsOf, type OAuthSettings } from "./OAuthSettings.ts"
import { generatePkce, type PkcePair, pkceFromVerifier } from "./Pkce.ts"
import { type Answer, exchange, formPost } from "./Transport.ts"
import { checkOAuthBase } from "./Trust.ts"

/**
 * What the device authorization step reads; a `Config.Settings` value fits as it is.
 *
 * @since 0.1.0
 * @category models
 */
export type DeviceAuthorizationSettings = Pick<
  OAuthSettings,
  "oauthBaseUrl" | "clientId" | "scope" | "userAgent" | "requestTimeout"
>

/**
 * What the user needs to approve the login, and what the poller needs to collect it.
 *
 * @since 0.1.0
 * @category models
 */
export interface DeviceAuthorization {
  readonly deviceCode: Redacted.Redacted<string>
  /** Shown to the user always (RFC 8628 §3.3.1). */
  readonly userCode: string
  readonly verificationUri: string
  /** Opened / QR-encoded as-is when present. */
  readonly verificationUriComplete: string | undefined
  readonly expiresInSeconds: number
  /** The server's polling interval; `undefined` means the RFC default of 5 s. */
  readonly intervalSeconds: number | undefined
}

/** Only http(s) URLs are shown or opened: a hostile answer must not make us open `file:` or scripts. */
const WebUrl = Schema.NonEmptyString.check(
  Schema.makeFilter<string>((s) => /^https?:\/\/[^\s]+$/i.test(s.trim()) || "an http(s) URL")
)

const DeviceJson = Schema.Struct({
  device_code: Schema.RedactedFromValue(Schema.NonEmptyString),
  user_code: Schema.NonEmptyString,
  verification_uri: WebUrl,
  verification_uri_complete: Schema.optionalKey(WebUrl),
  expires_in: Seconds,
  // Lenient: 0 means "no advice" and falls back to the default interval.
  interval: Schema.optionalKey(
    Schema.Union([Schema.Finite, Schema.FiniteFromString]).pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))
  )
})

/**
 * The device authorization request: client id, scope and the S256 challenge, with a fresh
 * `x-request-id`.
 *
 * @see RFC 8628 §3.1, RFC 7636 §4.3
 * @returns a request for `HttpClient.execute`; read it with `processDeviceAuthorizationResponse`.
 */
export const deviceAuthorizationRequest = (
  settings: Pick<OAuthSettings, "oauthBaseUrl" | "clientId" | "scope" | "userAgent">,
  pkce: PkcePair,
  requestId: string = randomUUID()
): HttpClientRequest.HttpClientRequest =>
  formPost(endpointsOf(settings).deviceCode, settings, {
    client_id: settings.clientId,
    scope: settings.scope,
    code_challenge: pkce.challenge,
    code_challenge_method: pkce.method
  }, { "x-request-id": requestId })

/**
 * Decodes a 2xx answer (all of `device_code`, `user_code`, `verification_uri`, `expires_in`
 * required); anything else is classified by its `error` first.
 *
 * @see RFC 8628 §3.2
 * @returns a `DeviceAuthorization`: show it, then `pollForTokens`.
 */
export const processDeviceAuthorizationResponse = (
  settings: Pick<OAuthSettings, "clientId">,
  answer: Answer
): Effect.Effect<DeviceAuthorization, AnswerError> =>
  errorBodyOf(answer.json) === undefined && answer.status >= 200 && answer.status < 300 && answer.json !== undefined
    ? Effect.map(decodeAnswer(DeviceJson, answer), (json) => ({
      deviceCode: json.device_code,
      userCode: json.user_code.trim(),
      verificationUri: json.verification_uri.trim(),
      verificationUriComplete: json.verification_uri_complete?.trim(),
      expiresInSeconds: json.expires_in,
      intervalSeconds: json.interval !== undefined && json.interval > 0 ? json.interval : undefined
    }))
    : classifyFailure(settings, answer)

/**
 * Sends the device authorization request (timeout `settings.requestTimeout`).
 *
 * @returns a `DeviceAuthorization` for `pollForTokens`.
 */
export const requestDeviceAuthorization: (
  settings: DeviceAuthorizationSettings,
  pkce: PkcePair
) => Effect.Effect<DeviceAuthorization, AnswerError | NetworkError | UntrustedEndpoint, HttpClient.HttpClient> = Effect
  .fn("DeviceAuthorization.request")(function*(settings, pkce) {
    yield* checkOAuthBase(settings)
    const request = deviceAuthorizationRequest(settings, pkce)
    const answer = yield* exchange("device_authorization", request, settings.requestTimeout)
    return yield* processDeviceAuthorizationResponse(settings, answer)
  })

/**
 * Makes a PKCE pair (or uses `options.verifier`, for tests) and requests a device code.
 *
 * @returns the pair and the device authorization, both needed by `pollForTokens`.
 */
export const startDeviceAuthorization = (
  settings: DeviceAuthorizationSettings,
  options: { readonly verifier?: Redacted.Redacted<string> | string | undefined } = {}
): Effect.Effect<
  { readonly pkce: PkcePair; readonly device: DeviceAuthorization },
  AnswerError | NetworkError | UntrustedEndpoint,
  HttpClient.HttpClient
> =>
  Effect.gen(function*() {
    const pkce = options.verifier !== undefined ? pkceFromVerifier(options.verifier) : yield* generatePkce
    const device = yield* requestDeviceAuthorization(settings, pkce)
    return { pkce, device }
  })
