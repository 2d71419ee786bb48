import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import * as CliError from "effect/cli/CliError"
import { HttpClientRequest } from "effect/http"
import { TestClock } from "effect/testing"
import { QwenHttpClient } from "../../src/token/QwenHttpClient.ts"
import { type Handler, reply } from "../support/testHttpClient.ts"
import { harness, LIFETIME_MS, LIFETIME_S, TOKEN_URL, tokens } from "./support/harness.ts"
import { creds } from "./support/MemoryStore.ts"

const API = "https://portal.qwen.ai/v1/chat/completions"
const fresh = { credentials: creds("A1", "R1", LIFETIME_MS), issuedLifetimeSeconds: LIFETIME_S }

/** A TokenManager harness plus a QwenHttpClient; `api` answers API calls, refreshes get A2/R2. */
const setup = (api: Handler, baseUrl?: string) =>
  Effect.gen(function*() {
    const h = yield* harness({
      store: fresh,
      ...(baseUrl !== undefined ? { baseUrl } : {}),
      handler: (request) => (request.url === TOKEN_URL ? tokens("A2", "R2") : api(request))
    })
    const context = yield* Layer.build(QwenHttpClient.layer.pipe(Layer.provide(h.layer)))
    const client = Context.get(context, QwenHttpClient)
    const apiCalls = () => h.http.requests.filter((r) => r.url !== TOKEN_URL)
    return { ...h, client, apiCalls }
  })

const chat = HttpClientRequest.post("/chat/completions").pipe(
  HttpClientRequest.bodyJsonUnsafe({ model: "coder-model", messages: [] })
)

describe("QwenHttpClient", () => {
  it.effect("prefixes the API base URL and sends the bearer token and the DashScope auth type", () =>
    Effect.gen(function*() {
      const s = yield* setup(() => reply.json(200, { ok: true }))
      const response = yield* s.client.execute(chat)
      assert.strictEqual(response.status, 200)
      const [call] = s.apiCalls()
      assert.strictEqual(call!.url, API)
      assert.strictEqual(call!.headers.authorization, "Bearer A1")
      assert.strictEqual(call!.headers["x-dashscope-authtype"], "qwen-oauth")
      assert.strictEqual(s.posts().length, 0)
    }))

  it.effect("an explicit base URL wins over the resource_url", () =>
    Effect.gen(function*() {
      const s = yield* setup(() => reply.json(200, {}), "http://127.0.0.1:8080/v1")
      yield* s.client.execute(chat)
      assert.strictEqual(s.apiCalls()[0]!.url, "http://127.0.0.1:8080/v1/chat/completions")
    }))

  it.effect("on 401 refreshes once, naming the failed token, and retries once with the new token", () =>
    Effect.gen(function*() {
      const s = yield* setup((r) => (r.headers.authorization === "Bearer A1" ? reply.json(401, {}) : reply.json(200, {})))
      const response = yield* s.client.execute(chat)
      assert.strictEqual(response.status, 200)
      assert.deepStrictEqual(s.apiCalls().map((c) => c.headers.authorization), ["Bearer A1", "Bearer A2"])
      assert.deepStrictEqual(s.posts().map((p) => p.refreshToken), ["R1"])
      assert.strictEqual(Redacted.value(s.store.stored()!.refreshToken!), "R2")
    }))

  it.effect("a second 401/403 to the token just issued is ServiceRejectsTokens: no loop, the refresh kept", () =>
    Effect.gen(function*() {
      const s = yield* setup(() => reply.json(403, { error: "forbidden" }))
      const error = yield* Effect.flip(s.client.execute(chat))
      assert.strictEqual(error._tag, "ServiceRejectsTokens")
      if (error._tag !== "ServiceRejectsTokens") return
      assert.strictEqual(error.status, 403)
      assert.strictEqual(error.tokenAgeSeconds, 0)
      assert.strictEqual(s.apiCalls().length, 2)
      assert.strictEqual(s.posts().length, 1)
      assert.strictEqual(Redacted.value(s.store.stored()!.refreshToken!), "R2")
    }))

  it.effect("the discontinued service's answer: the cause, the server's words, the dates, never the token it echoes", () =>
    Effect.gen(function*() {
      const access = "ACCESS-issued-by-refresh-0123456789"
      const h = yield* harness({
        store: fresh,
        handler: (r) =>
          r.url === TOKEN_URL
            ? tokens(access, "REFRESH-issued-by-refresh-0123456789")
            : reply.json(401, { error: { message: `invalid access token or token expired (${r.headers.authorization})`, type: "invalid_request_error" } })
      })
      const context = yield* Layer.build(QwenHttpClient.layer.pipe(Layer.provide(h.layer)))
      const error = yield* Effect.flip(Context.get(context, QwenHttpClient).execute(chat))
      assert.strictEqual(error._tag, "ServiceRejectsTokens")
      const text = `${error.message}\n${CliError.getUserMessage(error)}\n${JSON.stringify(error)}`
      assert.include(text, "invalid access token or token expired")
      assert.include(text, "2026-04-15")
      assert.include(text, "OpenRouter")
      assert.notInclude(text, access)
      assert.notInclude(text, "REFRESH-issued")
    }))

  it.effect("a second 401 to a token issued a minute or more earlier is returned as is (that token may just be revoked)", () =>
    Effect.gen(function*() {
      const s = yield* setup((r) =>
        r.headers.authorization === "Bearer A2"
          // The retry's answer arrives 61 s after the refresh issued A2.
          ? Effect.as(TestClock.adjust("61 seconds"), reply.json(401, {}))
          : reply.json(401, {})
      )
      const response = yield* s.client.execute(chat)
      assert.strictEqual(response.status, 401)
      assert.strictEqual(s.apiCalls().length, 2)
      assert.strictEqual(s.posts().length, 1)
    }))

  it.effect("many concurrent 401s cause one refresh", () =>
    Effect.gen(function*() {
      const s = yield* setup((r) => (r.headers.authorization === "Bearer A1" ? reply.json(401, {}) : reply.json(200, {})))
      const responses = yield* Effect.forEach(Array.from({ length: 25 }), () => s.client.execute(chat), {
        concurrency: "unbounded"
      })
      assert.isTrue(responses.every((r) => r.status === 200))
      assert.strictEqual(s.posts().length, 1)
    }))

  it.effect("a quota error surfaces as QuotaExceeded, without refresh or retry", () =>
    Effect.gen(function*() {
      const s = yield* setup(() =>
        reply.json(429, { error: { code: "insufficient_quota", message: "Free allocated quota exceeded." } })
      )
      const error = yield* Effect.flip(s.client.execute(chat))
      assert.strictEqual(error._tag, "QuotaExceeded")
      assert.strictEqual(s.apiCalls().length, 1)
      assert.strictEqual(s.posts().length, 0)
    }))

  it.effect("a 403 that says the quota is exceeded is QuotaExceeded, not a refresh", () =>
    Effect.gen(function*() {
      const s = yield* setup(() => reply.json(403, { error: { message: "Free allocated quota exceeded." } }))
      const error = yield* Effect.flip(s.client.execute(chat))
      assert.strictEqual(error._tag, "QuotaExceeded")
      assert.strictEqual(s.posts().length, 0)
    }))

  it.effect("a plain 429 is RateLimited with Retry-After, not retried", () =>
    Effect.gen(function*() {
      const s = yield* setup(() => reply.json(429, { error: "rate_limited" }, { "retry-after": "7" }))
      const error = yield* Effect.flip(s.client.execute(chat))
      assert.strictEqual(error._tag, "RateLimited")
      if (error._tag === "RateLimited") assert.strictEqual(error.retryAfterSeconds, 7)
      assert.strictEqual(s.apiCalls().length, 1)
    }))

  it.effect("refuses to send the token to a URL outside the API base", () =>
    Effect.gen(function*() {
      const s = yield* setup(() => reply.json(200, {}))
      const error = yield* Effect.flip(s.client.get("https://evil.example/v1/chat"))
      assert.strictEqual(error._tag, "UntrustedEndpoint")
      assert.strictEqual(s.apiCalls().length, 0)
    }))
})
