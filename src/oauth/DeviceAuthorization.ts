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
import { checkOAuthBase, checkVerificationUri } from "./Trust.ts"

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

/**
 * RFC 8628 §6.1 user codes as Qwen issues them. The code is printed for the user to compare, so
 * nothing but these characters is ever shown.
 */
const UserCode = Schema.String.check(Schema.isPattern(/^\s*[A-Z0-9-]{4,16}\s*$/))

const DeviceJson = Schema.Struct({
  device_code: Schema.RedactedFromValue(Schema.NonEmptyString),
  user_code: UserCode,
  // Which URLs may be shown and opened is `Trust.checkVerificationUri`'s call.
  verification_uri: Schema.NonEmptyString,
  verification_uri_complete: Schema.optionalKey(Schema.NonEmptyString),
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
 * required); anything else is classified by its `error` first. A `user_code` outside
 * `[A-Z0-9-]{4,16}` is a `MalformedResponse`; a verification URI that is not https (or http to
 * loopback) or carries userinfo is an `UntrustedEndpoint`, before anything is shown or opened.
 *
 * @see RFC 8628 §3.2
 * @returns a `DeviceAuthorization`: show it, then `pollForTokens`.
 */
export const processDeviceAuthorizationResponse = (
  settings: Pick<OAuthSettings, "clientId">,
  answer: Answer
): Effect.Effect<DeviceAuthorization, AnswerError | UntrustedEndpoint> =>
  errorBodyOf(answer.json, answer.secrets) === undefined && answer.status >= 200 && answer.status < 300 &&
    answer.json !== undefined
    ? Effect.gen(function*() {
      const json = yield* decodeAnswer(DeviceJson, answer)
      const complete = json.verification_uri_complete
      return {
        deviceCode: json.device_code,
        userCode: json.user_code.trim(),
        verificationUri: yield* checkVerificationUri("verification_uri", json.verification_uri),
        verificationUriComplete: complete === undefined
          ? undefined
          : yield* checkVerificationUri("verification_uri_complete", complete),
        expiresInSeconds: json.expires_in,
        intervalSeconds: json.interval !== undefined && json.interval > 0 ? json.interval : undefined
      }
    })
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
