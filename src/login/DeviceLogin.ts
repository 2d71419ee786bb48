/**
 * A whole device login (RFC 8628 + PKCE) as one Effect: device code, show it (through a
 * callback), poll, and the credentials with their API base URL. It prints and writes nothing,
 * so the CLI and the OpenClaw plugin share it; persisting is `OpenClawSetup.persistLogin`.
 *
 * @since 0.1.0
 */
import { Clock, Effect, type Redacted } from "effect"
import type { HttpClient } from "effect/http"
import type { Settings } from "../Config.ts"
import type { Credentials } from "../domain/Credentials.ts"
import { type DeviceAuthorization, startDeviceAuthorization } from "../oauth/DeviceAuthorization.ts"

export type { DeviceAuthorization } from "../oauth/DeviceAuthorization.ts"
export type { PollProgress } from "./Poller.ts"
import type { OAuthError } from "../oauth/OAuthError.ts"
import { checkResourceUrl } from "../oauth/Trust.ts"
import { toCredentials } from "../oauth/TokenEndpoint.ts"
import { pollForTokens, type PollProgress } from "./Poller.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface DeviceLoginOptions<R = never> {
  /** `--timeout` in seconds; caps the wait below the device code's `expires_in`. */
  readonly timeoutSeconds?: number | undefined
  /**
   * Called once the device code is known, before polling starts: show `verificationUri` and
   * `userCode` (RFC 8628 §3.3.1), open a browser, …
   */
  readonly onDevice?: ((device: DeviceAuthorization) => Effect.Effect<void, never, R>) | undefined
  /** Called before every wait of the poller (countdowns). */
  readonly onProgress?: ((progress: PollProgress) => Effect.Effect<void>) | undefined
  /** A fixed PKCE verifier (tests only). */
  readonly verifier?: Redacted.Redacted<string> | string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface DeviceLoginResult {
  /** With their issued lifetime (the refresh margin is at most half of it). */
  readonly credentials: Credentials
  /** `normalize(resource_url)`, checked to be a host tokens may go to (protocol.md §5). */
  readonly baseUrl: string
}

/** Everything a device login can fail with. @since 0.1.0 @category errors */
export type DeviceLoginError = OAuthError

/**
 * Runs the device flow to the end. Interrupting it stops the poller at once; nothing is written
 * anywhere in any case.
 *
 * **When to use** for a new login; check first that its results can be written
 * (`OpenClawSetup.checkTargets`), so a user does not approve a login that then cannot be saved.
 *
 * @example
 * ```ts
 * const result = yield* runDeviceLogin(settings, {
 *   onDevice: (d) => Console.error(`Open ${d.verificationUri} and enter ${d.userCode}`)
 * })
 * ```
 *
 * @see RFC 8628 §3.1–3.5, RFC 7636
 * @returns the credentials, their issued lifetime and API base URL, for `persistLogin`.
 * @since 0.1.0
 * @category login
 */
export const runDeviceLogin = <R = never>(
  settings: Settings,
  options: DeviceLoginOptions<R> = {}
): Effect.Effect<DeviceLoginResult, DeviceLoginError, HttpClient.HttpClient | R> =>
  Effect.gen(function*() {
    // The device code's lifetime counts from when it was requested, not from when it arrived.
    const requestedAtMs = yield* Clock.currentTimeMillis
    const { device, pkce } = yield* startDeviceAuthorization(settings, { verifier: options.verifier })
    if (options.onDevice !== undefined) yield* options.onDevice(device)
    const tokens = yield* pollForTokens(settings, device, pkce, {
      timeoutSeconds: options.timeoutSeconds,
      issuedAtMs: requestedAtMs,
      onProgress: options.onProgress
    })
    const receivedAtMs = yield* Clock.currentTimeMillis
    // A hostile resource_url must not receive tokens: refuse before anything is persisted.
    const baseUrl = yield* checkResourceUrl(settings, tokens.resourceUrl)
    return {
      credentials: toCredentials(tokens, receivedAtMs),
      baseUrl
    }
  }).pipe(Effect.withSpan("DeviceLogin.run"))
