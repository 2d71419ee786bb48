/**
 * The `api` check's verdicts for answers the emulator does not play through `GET /models` (quota,
 * throttling, a refused refresh), against the real token actor and `QwenHttpClient` over test
 * layers, time on the TestClock. The end-to-end cases are in test/e2e/doctor.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { checkApi, SWITCH_PROVIDER } from "../../src/doctor/ApiCheck.ts"
import { exitCodeOf, ok, problem, skipped } from "../../src/doctor/Check.ts"
import { QwenHttpClient } from "../../src/token/QwenHttpClient.ts"
import { type Handler, reply } from "../support/testHttpClient.ts"
import { harness, LIFETIME_MS, LIFETIME_S, TOKEN_URL, tokens } from "../token/support/harness.ts"
import { creds } from "../token/support/MemoryStore.ts"

const fresh = { credentials: creds("A1", "R1", LIFETIME_MS), issuedLifetimeSeconds: LIFETIME_S }

const run = (api: Handler, refresh: Handler = () => tokens("A2", "R2")) =>
  Effect.gen(function*() {
    const h = yield* harness({ store: fresh, handler: (r) => (r.url === TOKEN_URL ? refresh(r) : api(r)) })
    const layer = QwenHttpClient.layer.pipe(Layer.provideMerge(h.layer))
    const result = yield* checkApi.pipe(Effect.provide(layer))
    return { result, h }
  })

describe("doctor: the api check", () => {
  it.effect("a model list is ok and names the models", () =>
    Effect.gen(function*() {
      const { result, h } = yield* run(() => reply.json(200, { object: "list", data: [{ id: "coder-model" }, { id: "vision-model" }] }))
      assert.deepStrictEqual(result, ok("api", "GET https://portal.qwen.ai/v1/models answered HTTP 200 (models: coder-model, vision-model)"))
      assert.strictEqual(h.posts().length, 0)
    }))

  it.effect("insufficient_quota is quota-exhausted, with the time the server expects it back", () =>
    Effect.gen(function*() {
      const { result } = yield* run(() =>
        reply.json(429, { error: { code: "insufficient_quota", type: "insufficient_quota", message: "Free allocated quota exceeded." } }, { "retry-after": "3600" })
      )
      assert.strictEqual(result.status, "problem")
      if (result.status !== "problem") return
      assert.strictEqual(result.cause, "quota-exhausted")
      assert.include(result.detail, "Free allocated quota exceeded.")
      assert.include(result.detail, "1970-01-01T01:00:00.000Z")
    }))

  it.effect("a bare 429 is throttled, and no refresh is spent on it", () =>
    Effect.gen(function*() {
      const { result, h } = yield* run(() => reply.json(429, { error: { message: "slow down" } }, { "retry-after": "20" }))
      assert.strictEqual(result.status === "problem" && result.cause, "throttled")
      assert.strictEqual(h.posts().length, 0)
    }))

  it.effect("401 after the one refresh is service-rejects-tokens, naming a provider to switch to", () =>
    Effect.gen(function*() {
      const { result, h } = yield* run(() => reply.json(401, { error: { message: "invalid access token or token expired" } }))
      assert.strictEqual(result.status, "problem")
      if (result.status !== "problem") return
      assert.strictEqual(result.cause, "service-rejects-tokens")
      assert.strictEqual(result.next, SWITCH_PROVIDER)
      assert.include(result.detail, "issued 0 s earlier")
      assert.strictEqual(h.posts().length, 1)
    }))

  it.effect("a refresh refused with invalid_grant is login-required", () =>
    Effect.gen(function*() {
      const { result } = yield* run(() => reply.json(401, {}), () => reply.json(400, { error: "invalid_grant" }))
      assert.strictEqual(result.status === "problem" && result.cause, "login-required")
      assert.strictEqual(result.status === "problem" && result.next, "qwen-auth login")
    }))

  it.effect("a 404 at the API base is endpoint-not-found", () =>
    Effect.gen(function*() {
      const { result } = yield* run(() => reply.text(404, "<html>not here</html>"))
      assert.strictEqual(result.status === "problem" && result.cause, "endpoint-not-found")
    }))
})

describe("doctor: the exit code", () => {
  it("is 0 without problems, 4 when every problem is login-required, else 1", () => {
    assert.strictEqual(exitCodeOf([ok("files", ""), skipped("api", "")]), 0)
    assert.strictEqual(exitCodeOf([problem("files", "login-required", "", "qwen-auth login"), skipped("api", "")]), 4)
    assert.strictEqual(
      exitCodeOf([problem("files", "login-required", "", "x"), problem("api", "login-required", "", "x")]),
      4
    )
    assert.strictEqual(
      exitCodeOf([problem("files", "login-required", "", "x"), problem("oauth-server", "unreachable", "", "x")]),
      1
    )
    assert.strictEqual(exitCodeOf([problem("api", "service-rejects-tokens", "", "x")]), 1)
  })
})
