/**
 * Builds a TokenManager over an in-memory store and a scripted HttpClient, on the TestClock.
 */
import { Context, Effect, Layer, Scope } from "effect"
import type { HttpClient } from "effect/http"
import { QwenAuthConfig, type Settings } from "../../../src/Config.ts"
import type { CredentialStore } from "../../../src/store/CredentialStore.ts"
import { TokenManager, type TokenManagerOptions } from "../../../src/token/TokenManager.ts"
import { type Handler, reply, type Reply, testHttpClient, testSettings } from "../../support/testHttpClient.ts"
import { makeMemoryStore, type MemoryStore, type MemoryStoreInit } from "./MemoryStore.ts"

export const HOUR_MS = 3_600_000
/** The token lifetime Qwen issues (about 6 h). */
export const LIFETIME_S = 21_600
export const LIFETIME_MS = LIFETIME_S * 1000
export const MARGIN_MS = 300_000

/** Test settings: no jitter unless asked, the documented backoff bounds. */
export const settingsFor = (overrides: Partial<Settings> = {}) => testSettings({ jitter: 0, ...overrides })

export const TOKEN_URL = "http://127.0.0.1:9/api/v1/oauth2/token"

/** A 200 token response. */
export const tokens = (access: string, refresh?: string, expiresIn = LIFETIME_S): Reply =>
  reply.json(200, {
    access_token: access,
    token_type: "Bearer",
    expires_in: expiresIn,
    resource_url: "portal.qwen.ai",
    ...(refresh !== undefined ? { refresh_token: refresh } : {})
  })

export interface Harness {
  readonly tm: TokenManager["Service"]
  readonly store: MemoryStore
  readonly http: ReturnType<typeof testHttpClient>
  /** Refresh POSTs so far. */
  readonly posts: () => ReadonlyArray<{ readonly atMs: number; readonly refreshToken: string | undefined }>
  readonly layer: Layer.Layer<TokenManager | CredentialStore | HttpClient.HttpClient | QwenAuthConfig>
}

export interface HarnessOptions extends TokenManagerOptions {
  readonly settings?: Partial<Settings>
  readonly store?: MemoryStoreInit
  readonly handler: Handler
  /** Build in this scope instead of the test's (to close it in the test). */
  readonly scope?: Scope.Scope
}

/** Builds everything; the TokenManager lives in the test's scope (or `options.scope`). */
export const harness = (options: HarnessOptions) =>
  Effect.gen(function*() {
    const store = yield* makeMemoryStore(options.store)
    const http = testHttpClient(options.handler)
    const deps = Layer.mergeAll(store.layer, http.layer, QwenAuthConfig.layerFrom(settingsFor(options.settings)))
    const layer = TokenManager.layerWith({ baseUrl: options.baseUrl }).pipe(Layer.provideMerge(deps))
    const scope = options.scope ?? (yield* Effect.scope)
    const context = yield* Layer.buildWithScope(layer, scope)
    const tm = Context.get(context, TokenManager)
    const posts = () =>
      http.requests.filter((r) => r.url === TOKEN_URL).map((r) => ({ atMs: r.atMs, refreshToken: r.form.refresh_token }))
    return { tm, store, http, posts, layer } satisfies Harness
  })
