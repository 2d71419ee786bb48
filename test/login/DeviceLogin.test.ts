/**
 * The login orchestration, deterministically: TestClock, a scripted HttpClient and an in-memory
 * credential store. The process-level behaviour (files, output, exit codes) is in test/e2e.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Exit, Fiber, Redacted, Ref } from "effect"
import { TestClock } from "effect/testing"
import { Credentials } from "../../src/domain/Credentials.ts"
import { runDeviceLogin } from "../../src/login/DeviceLogin.ts"
import { decideReuse } from "../../src/login/Reuse.ts"
import type { DeviceAuthorization } from "../../src/oauth/DeviceAuthorization.ts"
import type { CredentialStore, Snapshot } from "../../src/store/CredentialStore.ts"
import { type Handler, type RecordedRequest, reply, testHttpClient, testSettings } from "../support/testHttpClient.ts"

const settings = testSettings()
const VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
const DEVICE_CODE = "DC-login-secret"

const deviceReply = (overrides: Record<string, unknown> = {}) =>
  reply.json(200, {
    device_code: DEVICE_CODE,
    user_code: "ABCD-EFGH",
    verification_uri: "http://127.0.0.1:9/authorize",
    verification_uri_complete: "http://127.0.0.1:9/authorize?user_code=ABCD-EFGH&client=qwen-code",
    expires_in: 600,
    interval: 5,
    ...overrides
  })
const pending = reply.json(400, { error: "authorization_pending" })
const tokens = (overrides: Record<string, unknown> = {}) =>
  reply.json(200, {
    access_token: "AT-new",
    refresh_token: "RT-new",
    token_type: "bearer",
    expires_in: 21600,
    resource_url: "portal.qwen.ai",
    ...overrides
  })

const isDeviceRequest = (r: RecordedRequest) => r.url.endsWith("/device/code")

/** Device code first, then the poll replies in order (repeating the last). */
const flow = (...polls: ReadonlyArray<ReturnType<typeof tokens>>): Handler => (r) =>
  isDeviceRequest(r) ? deviceReply() : polls[Math.min(r.index - 1, polls.length - 1)] ?? reply.hang

describe("runDeviceLogin", () => {
  it.effect("shows the device code before polling, then returns credentials, lifetime and base URL", () =>
    Effect.gen(function*() {
      const http = testHttpClient(flow(pending, tokens()))
      const shown: Array<{ device: DeviceAuthorization; requests: number; atMs: number }> = []
      yield* TestClock.adjust("1 second")
      const fiber = yield* runDeviceLogin(settings, {
        verifier: VERIFIER,
        onDevice: (device) =>
          Effect.map(Clock.currentTimeMillis, (atMs) => void shown.push({ device, requests: http.requests.length, atMs }))
      }).pipe(Effect.provide(http.layer), Effect.forkChild)
      yield* TestClock.adjust("1 minute")
      const result = yield* Fiber.join(fiber)

      assert.strictEqual(shown.length, 1)
      assert.strictEqual(shown[0]!.device.userCode, "ABCD-EFGH")
      assert.strictEqual(shown[0]!.requests, 1, "only the device request happened before the code was shown")
      assert.deepStrictEqual(http.times(), [1000, 6000, 11000])
      assert.strictEqual(http.requests[1]!.form["code_verifier"], VERIFIER)

      assert.strictEqual(Redacted.value(result.credentials.accessToken), "AT-new")
      assert.strictEqual(Redacted.value(result.credentials.refreshToken!), "RT-new")
      assert.strictEqual(result.credentials.tokenType, "Bearer")
      assert.strictEqual(result.credentials.expiresAt, 11_000 + 21_600_000)
      assert.strictEqual(result.credentials.lifetimeMs, 21_600_000)
      assert.strictEqual(result.baseUrl, "https://portal.qwen.ai/v1")
    }))

  it.effect("no resource_url means the default API base", () =>
    Effect.gen(function*() {
      const http = testHttpClient(flow(tokens({ resource_url: undefined })))
      const fiber = yield* runDeviceLogin(settings, { verifier: VERIFIER }).pipe(Effect.provide(http.layer), Effect.forkChild)
      yield* TestClock.adjust("1 minute")
      const result = yield* Fiber.join(fiber)
      assert.strictEqual(result.baseUrl, "https://portal.qwen.ai/v1")
      assert.isUndefined(result.credentials.resourceUrl)
    }))

  it.effect("a resource_url on a foreign host fails with UntrustedEndpoint", () =>
    Effect.gen(function*() {
      const http = testHttpClient(flow(tokens({ resource_url: "evil.example.com" })))
      const fiber = yield* runDeviceLogin(settings, { verifier: VERIFIER }).pipe(
        Effect.provide(http.layer),
        Effect.flip,
        Effect.forkChild
      )
      yield* TestClock.adjust("1 minute")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "UntrustedEndpoint")
      assert.notInclude(error.message, "AT-new")
    }))

  it.effect("--timeout counts from the device request and ends with ExpiredToken(timeout)", () =>
    Effect.gen(function*() {
      const http = testHttpClient(flow(pending))
      const fiber = yield* runDeviceLogin(settings, { verifier: VERIFIER, timeoutSeconds: 12 }).pipe(
        Effect.provide(http.layer),
        Effect.flip,
        Effect.forkChild
      )
      yield* TestClock.adjust("1 hour")
      const error = yield* Fiber.join(fiber)
      assert.deepInclude(error, { _tag: "ExpiredToken", reason: "timeout" })
      assert.deepStrictEqual(http.times(), [0, 5000, 10000])
    }))

  it.effect("access_denied ends the login with AccessDenied", () =>
    Effect.gen(function*() {
      const http = testHttpClient(flow(pending, reply.json(400, { error: "access_denied" })))
      const fiber = yield* runDeviceLogin(settings, { verifier: VERIFIER }).pipe(
        Effect.provide(http.layer),
        Effect.flip,
        Effect.forkChild
      )
      yield* TestClock.adjust("1 hour")
      assert.strictEqual((yield* Fiber.join(fiber))._tag, "AccessDenied")
      assert.strictEqual(http.requests.length, 3)
    }))

  it.effect("an interrupt stops polling at once", () =>
    Effect.gen(function*() {
      const http = testHttpClient(flow(pending))
      const fiber = yield* runDeviceLogin(settings, { verifier: VERIFIER }).pipe(Effect.provide(http.layer), Effect.forkChild)
      yield* TestClock.adjust("12 seconds")
      assert.strictEqual(http.requests.length, 3)
      yield* Fiber.interrupt(fiber)
      const exit = yield* Fiber.await(fiber)
      yield* TestClock.adjust("1 hour")
      assert.isTrue(Exit.hasInterrupts(exit))
      assert.strictEqual(http.requests.length, 3)
    }))
})

// -------------------------------------------------------------------------------------------------
// Reuse, over an in-memory store

const creds = (n: string, expiresAt: number, refresh: boolean = true) =>
  new Credentials({
    accessToken: Redacted.make(`AT-${n}`),
    ...(refresh ? { refreshToken: Redacted.make(`RT-${n}`) } : {}),
    tokenType: "Bearer",
    expiresAt
  })

const snapshotOf = (credentials: Credentials | undefined, absentReason?: Snapshot["absentReason"]): Snapshot => ({
  credentials: credentials?.with({ lifetimeMs: 21_600_000 }),
  source: credentials === undefined ? undefined : "qwen-code",
  stale: false,
      behind: [],
  absentReason: credentials === undefined ? absentReason ?? "none" : undefined,
  problems: [],
  unreadable: [],
  files: []
})

/** A store holding one snapshot; `update` applies `next` like the real one. */
const memoryStore = (initial: Snapshot) =>
  Effect.gen(function*() {
    const state = yield* Ref.make(initial)
    const refused: Array<string> = []
    const store: CredentialStore["Service"] = {
      load: Ref.get(state),
      save: (c) => Ref.update(state, (s) => ({ ...s, credentials: c })).pipe(Effect.as([])),
      update: (f) =>
        Effect.gen(function*() {
          const decision = yield* f(yield* Ref.get(state))
          if (decision.next !== undefined) {
            const next = decision.next
            yield* Ref.update(state, (s) => ({ ...s, credentials: next }))
          }
          if (decision.refused !== undefined) {
            refused.push(Redacted.value(decision.refused))
            // Like the real store: a refused chain is no longer a candidate.
            yield* Ref.update(state, (s) => ({ ...s, credentials: undefined, absentReason: "refused" as const }))
          }
          return decision.result
        }),
      markRefused: (token) => Effect.sync(() => void (token !== undefined && refused.push(Redacted.value(token)))),
      logout: () => Effect.succeed({ removed: [], wasLoggedIn: false }),
      fingerprint: Effect.succeed("")
    }
    return { store, state, refused }
  })

const HOUR = 3_600_000

describe("decideReuse", () => {
  it.effect("reuses unexpired credentials without any request", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(10 * HOUR)
      const { store } = yield* memoryStore(snapshotOf(creds("a", 10 * HOUR + 10 * 60_000)))
      const http = testHttpClient(() => reply.hang)
      const d = yield* decideReuse(settings, store).pipe(Effect.provide(http.layer))
      assert.strictEqual(d._tag, "Reuse")
      if (d._tag === "Reuse") {
        assert.strictEqual(Redacted.value(d.credentials.accessToken), "AT-a")
        assert.isFalse(d.refreshed)
      }
      assert.strictEqual(http.requests.length, 0)
    }))

  it.effect("no stored login: a new login, with nothing to explain", () =>
    Effect.gen(function*() {
      const { store } = yield* memoryStore(snapshotOf(undefined, "none"))
      const d = yield* decideReuse(settings, store).pipe(Effect.provide(testHttpClient(() => reply.hang).layer))
      assert.deepStrictEqual(d, { _tag: "NewLogin", reason: undefined })
    }))

  it.effect("refused and logged-out logins are never reused, and the reason is given", () =>
    Effect.gen(function*() {
      const http = testHttpClient(() => reply.hang)
      const refused = yield* memoryStore(snapshotOf(undefined, "refused"))
      assert.deepStrictEqual(yield* decideReuse(settings, refused.store).pipe(Effect.provide(http.layer)), {
        _tag: "NewLogin",
        reason: "Your previous login was refused by Qwen; starting a new device login."
      })
      const out = yield* memoryStore(snapshotOf(undefined, "logged-out"))
      const d = yield* decideReuse(settings, out.store).pipe(Effect.provide(http.layer))
      assert.strictEqual(d._tag, "NewLogin")
      if (d._tag === "NewLogin") assert.include(d.reason, "logged out")
      assert.strictEqual(http.requests.length, 0)
    }))

  it.effect("expired but refreshable: refreshes once, persists the rotated token, reuses it", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(10 * HOUR)
      const { store, state } = yield* memoryStore(snapshotOf(creds("old", 9 * HOUR)))
      const http = testHttpClient(() => tokens({ access_token: "AT-rotated", refresh_token: "RT-rotated" }))
      const d = yield* decideReuse(settings, store).pipe(Effect.provide(http.layer))
      assert.strictEqual(http.requests.length, 1)
      assert.strictEqual(http.requests[0]!.form["grant_type"], "refresh_token")
      assert.strictEqual(http.requests[0]!.form["refresh_token"], "RT-old")
      assert.strictEqual(d._tag, "Reuse")
      if (d._tag === "Reuse") {
        assert.isTrue(d.refreshed)
        assert.strictEqual(Redacted.value(d.credentials.accessToken), "AT-rotated")
        assert.strictEqual(d.credentials.lifetimeMs, 21_600_000)
      }
      const stored = (yield* Ref.get(state)).credentials!
      assert.strictEqual(Redacted.value(stored.refreshToken!), "RT-rotated")
    }))

  it.effect("a refused refresh token is recorded and leads to a new login that says why", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(10 * HOUR)
      const { store, refused } = yield* memoryStore(snapshotOf(creds("dead", 9 * HOUR)))
      const http = testHttpClient(() => reply.json(400, { error: "invalid_grant" }))
      const d = yield* decideReuse(settings, store).pipe(Effect.provide(http.layer))
      assert.strictEqual(http.requests.length, 1, "refreshed once, not retried")
      assert.deepStrictEqual(d, { _tag: "NewLogin", reason: "Qwen refused to refresh your previous login; starting a new device login." })
      assert.deepStrictEqual(refused, ["RT-dead"])
    }))

  it.effect("a failing refresh server leads to a new login (one attempt), not a failure", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(10 * HOUR)
      const { store, refused } = yield* memoryStore(snapshotOf(creds("a", 9 * HOUR)))
      const http = testHttpClient(() => reply.json(503, { error: "unavailable" }))
      const d = yield* decideReuse(settings, store).pipe(Effect.provide(http.layer))
      assert.strictEqual(http.requests.length, 1)
      assert.strictEqual(d._tag, "NewLogin")
      if (d._tag === "NewLogin") assert.match(d.reason ?? "", /^Could not refresh your previous login \(.*503.*\); starting a new device login\.$/)
      assert.deepStrictEqual(refused, [])
    }))

  it.effect("expired without a refresh token: a new login", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(10 * HOUR)
      const { store } = yield* memoryStore(snapshotOf(creds("a", 9 * HOUR, false)))
      const http = testHttpClient(() => reply.hang)
      const d = yield* decideReuse(settings, store).pipe(Effect.provide(http.layer))
      assert.deepStrictEqual(d, {
        _tag: "NewLogin",
        reason: "Your previous login has expired and cannot be refreshed; starting a new device login."
      })
      assert.strictEqual(http.requests.length, 0)
    }))

  it.effect("a token in its last 30 s is refreshed rather than reused", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(10 * HOUR)
      const { store } = yield* memoryStore(snapshotOf(creds("a", 10 * HOUR + 20_000)))
      const http = testHttpClient(() => tokens({ access_token: "AT-b", refresh_token: "RT-b" }))
      const d = yield* decideReuse(settings, store).pipe(Effect.provide(http.layer))
      assert.strictEqual(http.requests.length, 1)
      assert.isTrue(d._tag === "Reuse" && d.refreshed)
    }))
})
