/**
 * The token actor (protocol.md §3–4): serves the access token, refreshes it in the background in
 * the advisory window, makes callers wait for one shared refresh in the mandatory window, and
 * goes to `NeedsLogin` when the refresh token is refused — until a new login (ours or Qwen
 * Code's) writes credentials.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, type Redacted, type Stream } from "effect"
import { HttpClient } from "effect/http"
import { QwenAuthConfig } from "../Config.ts"
import type { LoginRequired } from "../domain/Errors.ts"
import { CredentialStore } from "../store/CredentialStore.ts"
import type { AccessToken, TokenState } from "./TokenState.ts"
import type { TokenUnavailable } from "./TokenErrors.ts"
import { makeActor } from "./TokenActor.ts"

/** What `get` and `refresh` fail with. @since 0.1.0 @category errors */
export type TokenError = LoginRequired | TokenUnavailable

/** Options of the layer. @since 0.1.0 @category models */
export interface TokenManagerOptions {
  /** An explicit API base URL; wins over the server's `resource_url` (protocol.md §5). */
  readonly baseUrl?: string | undefined
  /**
   * Bring copies that are behind up to date when the actor (re)loads the files (default true).
   * `doctor` turns it off: it writes nothing but a refresh it has to make.
   */
  readonly repairCopies?: boolean | undefined
}

/**
 * The token actor as a service. One fiber, started with the layer and interrupted when its scope
 * closes, owns the token state.
 *
 * **When to use**
 *
 * Anything that calls the Qwen API: take the token with `get` right before each request, and
 * after a 401/403 call `refresh(tokenThatFailed)` once (`QwenHttpClient` does both).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { TokenManager } from "qwen-portal-auth"
 *
 * const program = Effect.gen(function*() {
 *   const { accessToken, baseUrl } = yield* TokenManager.use((tm) => tm.get)
 *   // call `${baseUrl}/chat/completions` with `Bearer ${Redacted.value(accessToken)}`
 * })
 * ```
 *
 * @since 0.1.0
 * @category services
 */
export class TokenManager extends Context.Service<TokenManager, {
  /**
   * The access token and API base URL. No I/O before the advisory window; in it, the current
   * token while one background refresh runs; in the last 30 s (or expired), waits for the single
   * refresh in flight and fails if it fails.
   */
  readonly get: Effect.Effect<AccessToken, TokenError>
  /**
   * Forced refresh after the API rejected `ifCurrent` (default: the current token). If a newer
   * token is already held or stored, it is returned without a POST.
   */
  readonly refresh: (ifCurrent?: Redacted.Redacted<string>) => Effect.Effect<AccessToken, TokenError>
  /** The current state. */
  readonly state: Effect.Effect<TokenState>
  /** The current state, then every change. */
  readonly changes: Stream.Stream<TokenState>
}>()("qwen-auth/token/TokenManager") {
  /**
   * The actor, with an optional explicit API base URL.
   *
   * @since 0.1.0
   */
  static readonly layerWith = (
    options: TokenManagerOptions = {}
  ): Layer.Layer<TokenManager, never, CredentialStore | QwenAuthConfig | HttpClient.HttpClient> =>
    Layer.effect(
      TokenManager,
      Effect.gen(function*() {
        const settings = yield* QwenAuthConfig
        const store = yield* CredentialStore
        const http = yield* HttpClient.HttpClient
        const actor = yield* makeActor({ settings, store, http, baseUrl: options.baseUrl, repairCopies: options.repairCopies ?? true })
        return TokenManager.of(actor)
      })
    )

  /** The actor with the base URL from the credentials. @since 0.1.0 */
  static readonly layer = TokenManager.layerWith()
}

