/**
 * The embeddable Layer: configuration, the shared credential store, the token actor and the Qwen
 * API client, ready to provide to an Effect program.
 *
 * @since 0.1.0
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Layer } from "effect"
import type { HttpClient } from "effect/http"
import { QwenAuthConfig, type Settings } from "./Config.ts"
import * as HttpClientLayer from "./internal/HttpClientLayer.ts"
import { CredentialStore } from "./store/CredentialStore.ts"
import { QwenHttpClient } from "./token/QwenHttpClient.ts"
import { TokenManager } from "./token/TokenManager.ts"

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
 * Provides `TokenManager` and `QwenHttpClient` over the real files and network (undici, proxy
 * variables honoured), given an HTTP client layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithHttpClient = (
  options: QwenAuthOptions,
  httpClient: Layer.Layer<HttpClient.HttpClient>
): Layer.Layer<TokenManager | QwenHttpClient | QwenAuthConfig> => {
  const { baseUrl, ...overrides } = options
  const config = QwenAuthConfig.layer(overrides)
  const store = CredentialStore.layerWithLocks.pipe(Layer.provide([config, NodeFileSystem.layer]))
  const tokens = TokenManager.layerWith({ baseUrl }).pipe(Layer.provide([store, config, httpClient]))
  const client = QwenHttpClient.layer.pipe(Layer.provide([tokens, config, httpClient]))
  return Layer.mergeAll(tokens, client, config)
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
