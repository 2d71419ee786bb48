/**
 * The wiring every front end builds on: the credential store (over the user's files, or inside
 * OpenClaw), the HTTP client, the token actor and the Qwen API client. The CLI, the OpenClaw
 * plugin and embedders use these layers; `layer()` is the whole set for an Effect program.
 *
 * @since 0.1.0
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Layer } from "effect"
import type { HttpClient } from "effect/http"
import { QwenAuthConfig, type Settings } from "./Config.ts"
import type { Credentials } from "./domain/Credentials.ts"
import * as HttpClientLayer from "./internal/HttpClientLayer.ts"
import { CredentialStore, HostCredential } from "./store/CredentialStore.ts"
import { QwenHttpClient } from "./token/QwenHttpClient.ts"
import { TokenManager, type TokenManagerOptions } from "./token/TokenManager.ts"

/**
 * Options of `QwenAuth.layer`: any setting (otherwise from the environment, then defaults) and an
 * explicit API base URL, which wins over the server's `resource_url`.
 *
 * @since 0.1.0
 * @category models
 */
export interface QwenAuthOptions extends Partial<Settings> {
  readonly baseUrl?: string | undefined
}

/**
 * The credential store over the user's files (OpenClaw's `auth-profiles.json` under OpenClaw's
 * lock, Qwen Code's `oauth_creds.json` under its lock, qwen-auth's state file). What the CLI,
 * the token actor and embedders share.
 *
 * @since 0.1.0
 * @category layers
 */
export const store: Layer.Layer<CredentialStore, never, QwenAuthConfig> = CredentialStore.layerWithLocks.pipe(
  Layer.provide(NodeFileSystem.layer)
)

/**
 * The credential store inside OpenClaw (the plugin): OpenClaw's copy is `credentials`, the
 * credential OpenClaw handed over (read back with `HostCredential`); only Qwen Code's lock is
 * taken, never OpenClaw's.
 *
 * @since 0.1.0
 * @category layers
 */
export const hostStore = (
  credentials: Credentials | undefined
): Layer.Layer<CredentialStore | HostCredential, never, QwenAuthConfig> =>
  CredentialStore.layerHost.pipe(Layer.provideMerge(HostCredential.layer(credentials)), Layer.provide(NodeFileSystem.layer))

/**
 * The HTTP client every OAuth request and API call goes through (undici; proxy variables
 * honoured, loopback never proxied, redirects not followed).
 *
 * @since 0.1.0
 * @category layers
 */
export const httpClient: Layer.Layer<HttpClient.HttpClient> = HttpClientLayer.layer

/**
 * The token actor over a store, with the given HTTP client.
 *
 * @since 0.1.0
 * @category layers
 */
export const tokens = (
  options: TokenManagerOptions = {},
  client: Layer.Layer<HttpClient.HttpClient> = httpClient
): Layer.Layer<TokenManager, never, CredentialStore | QwenAuthConfig> =>
  TokenManager.layerWith(options).pipe(Layer.provide(client))

/**
 * Provides `TokenManager` and `QwenHttpClient` over the real files, given an HTTP client layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithHttpClient = (
  options: QwenAuthOptions,
  client: Layer.Layer<HttpClient.HttpClient>
): Layer.Layer<TokenManager | QwenHttpClient | QwenAuthConfig> => {
  const { baseUrl, ...overrides } = options
  const config = QwenAuthConfig.layer(overrides)
  const tokenLayer = tokens({ baseUrl }, client).pipe(Layer.provide(store), Layer.provideMerge(config))
  const api = QwenHttpClient.layer.pipe(Layer.provide([tokenLayer, client]))
  return Layer.mergeAll(tokenLayer, api)
}

/**
 * The programmatic entry point: `TokenManager` (token, refresh, state stream) and
 * `QwenHttpClient` (an `HttpClient` for the Qwen API) over the credentials shared with OpenClaw
 * and Qwen Code. Log in once with `qwen-auth login`.
 *
 * **When to use**
 *
 * An Effect program that calls the Qwen API with the user's Qwen OAuth login.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HttpClientRequest } from "effect/http"
 * import { QwenAuth, QwenHttpClient } from "qwen-portal-auth"
 *
 * const program = Effect.gen(function*() {
 *   const client = yield* QwenHttpClient
 *   const response = yield* client.execute(HttpClientRequest.post("/chat/completions").pipe(
 *     HttpClientRequest.bodyJsonUnsafe({ model: "coder-model", messages: [{ role: "user", content: "hi" }] })
 *   ))
 *   return yield* response.json
 * })
 *
 * Effect.runPromise(program.pipe(Effect.provide(QwenAuth.layer())))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: QwenAuthOptions = {}): Layer.Layer<TokenManager | QwenHttpClient | QwenAuthConfig> =>
  layerWithHttpClient(options, HttpClientLayer.layer)
