import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Exit, Fiber, Redacted } from "effect"
import * as CliError from "effect/cli/CliError"
import { TestClock } from "effect/testing"
import { backoffSeconds, pollForTokens, type PollOptions, type PollProgress } from "../../src/login/Poller.ts"
import type { DeviceAuthorization } from "../../src/oauth/DeviceAuthorization.ts"
import type { OAuthError } from "../../src/oauth/OAuthError.ts"
import { pkceFromVerifier } from "../../src/oauth/Pkce.ts"
import type { TokenResponse } from "../../src/oauth/TokenEndpoint.ts"
import { type Reply, reply, sequence, testHttpClient, testSettings } from "../support/testHttpClient.ts"

const settings = testSettings()
const pkce = pkceFromVerifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
const ACCESS = "AT-poller-secret"

const device = (overrides: Partial<DeviceAuthorization> = {}): DeviceAuthorization => ({
  deviceCode: Redacted.make("DC-poller-secret"),
  userCode: "ABCD-EFGH",
  verificationUri: "http://127.0.0.1:9/authorize",
  verificationUriComplete: undefined,
  expiresInSeconds: 600,
  intervalSeconds: 5,
  ...overrides
})

const pending = reply.json(400, { error: "authorization_pending" })
const slowDown = reply.json(429, { error: "slow_down" })
const tokens = reply.json(200, { access_token: ACCESS, refresh_token: "RT", token_type: "Bearer", expires_in: 21600 })

interface Run {
  readonly exit: Exit.Exit<TokenResponse, OAuthError>
  /** Seconds (TestClock) from start at which the poller finished. */
  readonly endedAt: number
  /** Seconds from start of each request. */
  readonly pollTimes: ReadonlyArray<number>
  readonly progress: ReadonlyArray<PollProgress>
}

/** Runs the poller against scripted replies, letting TestClock run far ahead. */
const run = (replies: ReadonlyArray<Reply>, dev = device(), options: PollOptions = {}) =>
  Effect.gen(function*() {
    const http = testHttpClient(sequence(...replies))
    const progress: Array<PollProgress> = []
    const start = yield* Clock.currentTimeMillis
    const fiber = yield* pollForTokens(settings, dev, pkce, {
      ...options,
      onProgress: (p) => Effect.sync(() => void progress.push(p))
    }).pipe(
      Effect.exit,
      Effect.flatMap((exit) => Effect.map(Clock.currentTimeMillis, (t) => ({ exit, t }))),
      Effect.provide(http.layer),
      Effect.forkChild
    )
    yield* TestClock.adjust("2 hours")
    const { exit, t } = yield* Fiber.join(fiber)
    return {
      exit,
      endedAt: (t - start) / 1000,
      pollTimes: http.times().map((ms) => (ms - start) / 1000),
      progress
    } satisfies Run
  })

const errorOf = (exit: Exit.Exit<unknown, OAuthError>): OAuthError => {
  if (Exit.isFailure(exit)) {
    const r = exit.cause.reasons.find((x) => x._tag === "Fail")
    if (r && r._tag === "Fail") return r.error
  }
  throw new Error(`expected a failure, got ${String(exit)}`)
}

const succeeded = (r: Run) => {
  assert.isTrue(Exit.isSuccess(r.exit), String(r.exit))
  if (Exit.isSuccess(r.exit)) assert.strictEqual(Redacted.value(r.exit.value.accessToken), ACCESS)
}

describe("pollForTokens: pacing", () => {
  it.effect("waits one interval before the first poll, then polls every interval while pending", () =>
    Effect.gen(function*() {
      const r = yield* run([pending, pending, tokens])
      succeeded(r)
      assert.deepStrictEqual(r.pollTimes, [5, 10, 15])
      assert.strictEqual(r.endedAt, 15)
    }))

  it.effect("uses the server's interval", () =>
    Effect.gen(function*() {
      const r = yield* run([pending, tokens], device({ intervalSeconds: 2 }))
      succeeded(r)
      assert.deepStrictEqual(r.pollTimes, [2, 4])
    }))

  it.effect("no interval from the server means 5 s", () =>
    Effect.gen(function*() {
      const r = yield* run([pending, tokens], device({ intervalSeconds: undefined }))
      assert.deepStrictEqual(r.pollTimes, [5, 10])
    }))

  it.effect("slow_down adds 5 s for this and every later poll", () =>
    Effect.gen(function*() {
      const r = yield* run([pending, slowDown, pending, slowDown, pending, tokens])
      succeeded(r)
      assert.deepStrictEqual(r.pollTimes, [5, 10, 20, 30, 45, 60])
    }))

  it.effect("{\"status\":\"pending\"} on 200 counts as pending", () =>
    Effect.gen(function*() {
      const r = yield* run([reply.json(200, { status: "pending" }), tokens])
      succeeded(r)
      assert.deepStrictEqual(r.pollTimes, [5, 10])
    }))

  it.effect("reports progress before every wait, for a countdown", () =>
    Effect.gen(function*() {
      const r = yield* run([pending, slowDown, tokens], device({ expiresInSeconds: 300 }))
      assert.deepStrictEqual(
        r.progress.map((p) => [p.last, p.polls, p.intervalSeconds, p.nowMs, p.nextPollAtMs, p.deadlineAtMs]),
        [["start", 0, 5, 0, 5000, 300_000], ["pending", 1, 5, 5000, 10_000, 300_000], [
          "slow_down",
          2,
          10,
          10_000,
          20_000,
          300_000
        ]]
      )
    }))
})

describe("pollForTokens: deadline", () => {
  it.effect("expires_in is a hard deadline: no poll at or after it, the error comes at the deadline", () =>
    Effect.gen(function*() {
      const r = yield* run([pending], device({ expiresInSeconds: 12 }))
      assert.deepStrictEqual(r.pollTimes, [5, 10])
      assert.strictEqual(r.endedAt, 12)
      const e = errorOf(r.exit)
      assert.deepInclude(e, { _tag: "ExpiredToken", reason: "deadline" })
      assert.strictEqual(
        (e as any)[CliError.userMessage],
        "The device code expired before it was approved.\nRun `qwen-auth login` again."
      )
    }))

  it.effect("--timeout below expires_in ends polling with reason timeout", () =>
    Effect.gen(function*() {
      const r = yield* run([pending], device({ expiresInSeconds: 600 }), { timeoutSeconds: 7 })
      assert.deepStrictEqual(r.pollTimes, [5])
      assert.strictEqual(r.endedAt, 7)
      assert.deepInclude(errorOf(r.exit), { _tag: "ExpiredToken", reason: "timeout" })
    }))

  it.effect("the deadline counts from when the code was issued", () =>
    Effect.gen(function*() {
      const r = yield* run([pending], device({ expiresInSeconds: 12 }), { issuedAtMs: -4000 })
      assert.deepStrictEqual(r.pollTimes, [5])
      assert.strictEqual(r.endedAt, 8)
    }))

  it.effect("a backoff wait never runs past the deadline", () =>
    Effect.gen(function*() {
      const r = yield* run([reply.text(503, "busy")], device({ expiresInSeconds: 30 }))
      // faults at 5 (wait 10) and 15 (wait 20 → 35 > 30): stop at 30
      assert.deepStrictEqual(r.pollTimes, [5, 15])
      assert.strictEqual(r.endedAt, 30)
      assert.deepInclude(errorOf(r.exit), { _tag: "ExpiredToken", reason: "deadline" })
    }))

  it.effect("a poll still unanswered at the deadline is abandoned at the deadline", () =>
    Effect.gen(function*() {
      const r = yield* run([reply.hang], device({ expiresInSeconds: 20 }))
      assert.deepStrictEqual(r.pollTimes, [5])
      assert.strictEqual(r.endedAt, 20)
      assert.deepInclude(errorOf(r.exit), { _tag: "ExpiredToken", reason: "deadline" })
    }))
})

describe("pollForTokens: stopping answers", () => {
  it.effect("access_denied stops at once (exit 4)", () =>
    Effect.gen(function*() {
      const r = yield* run([pending, reply.json(400, { error: "access_denied" }), tokens])
      assert.deepStrictEqual(r.pollTimes, [5, 10])
      assert.strictEqual(r.endedAt, 10)
      const e = errorOf(r.exit)
      assert.strictEqual(e._tag, "AccessDenied")
      assert.strictEqual((e as any)[CliError.userMessage], "Access was denied in the browser.\nRun `qwen-auth login` to try again.")
    }))

  it.effect("expired_token from the server stops at once", () =>
    Effect.gen(function*() {
      const r = yield* run([reply.json(400, { error: "expired_token" }), tokens])
      assert.deepStrictEqual(r.pollTimes, [5])
      assert.deepInclude(errorOf(r.exit), { _tag: "ExpiredToken", reason: "server" })
    }))

  it.effect("a bare 429 (no slow_down) backs off like slow_down: +5 s on the interval", () =>
    Effect.gen(function*() {
      const r = yield* run([reply.json(429, { message: "Too many requests" }), reply.text(429, "<html>Too Many Requests</html>"), pending, tokens])
      succeeded(r)
      assert.deepStrictEqual(r.pollTimes, [5, 15, 30, 45])
      assert.deepStrictEqual(r.progress.map((p) => p.last), ["start", "slow_down", "slow_down", "pending"])
    }))

  it.effect("a bare 429 honours a sane Retry-After (seconds or HTTP date) for the next wait, capped at 60 s", () =>
    Effect.gen(function*() {
      const seconds = yield* run([reply.json(429, {}, { "retry-after": "30" }), tokens])
      succeeded(seconds)
      assert.deepStrictEqual(seconds.pollTimes, [5, 35])
      const capped = yield* run([reply.json(429, { message: "Too many requests" }, { "retry-after": "120" }), pending, tokens])
      succeeded(capped)
      // 60 s once, then the slowed interval (10 s) again.
      assert.deepStrictEqual(capped.pollTimes, [5, 65, 75])
      const absurd = yield* run([reply.json(429, {}, { "retry-after": "999999999999" }), tokens])
      succeeded(absurd)
      assert.deepStrictEqual(absurd.pollTimes, [5, 15])
      const now = yield* Clock.currentTimeMillis
      const date = new Date(Math.ceil((now + 5_000 + 40_000) / 1000) * 1000).toUTCString()
      const dated = yield* run([reply.json(429, {}, { "retry-after": date }), tokens])
      succeeded(dated)
      assert.isAtLeast(dated.pollTimes[1]! - 5, 39)
      assert.isAtMost(dated.pollTimes[1]! - 5, 41)
    }))

  it.effect("a 429 echoing the device code and verifier neither ends the login nor keeps them", () =>
    Effect.gen(function*() {
      const echo = `device_code=DC-poller-secret&code_verifier=${Redacted.value(pkce.verifier)}`
      const r = yield* run([reply.json(429, { message: echo }), reply.json(400, { error: "invalid_request", error_description: echo })])
      const e = errorOf(r.exit)
      assert.deepInclude(e, { _tag: "ServerError", error: "invalid_request" })
      const text = `${String(e)} ${e.message} ${(e as any)[CliError.userMessage]} ${JSON.stringify(e)}`
      assert.notInclude(text, "DC-poller-secret")
      assert.notInclude(text, Redacted.value(pkce.verifier))
      assert.include(text, "[redacted]")
    }))

  it.effect("a quota 429 stops with QuotaExceeded", () =>
    Effect.gen(function*() {
      const r = yield* run([reply.json(429, { error: { code: "insufficient_quota", message: "Free allocated quota exceeded." } })])
      assert.deepStrictEqual(r.pollTimes, [5])
      assert.strictEqual(errorOf(r.exit)._tag, "QuotaExceeded")
    }))

  it.effect("invalid_client stops, naming the client id", () =>
    Effect.gen(function*() {
      const r = yield* run([reply.json(400, { error: "invalid_client", error_description: "unknown client" })])
      const e = errorOf(r.exit)
      assert.deepInclude(e, { _tag: "InvalidClient", clientId: settings.clientId, description: "unknown client" })
    }))

  it.effect("a malformed 200 (no access_token) stops with MalformedResponse naming the field", () =>
    Effect.gen(function*() {
      const r = yield* run([reply.json(200, { token_type: "Bearer", expires_in: 3600 }), tokens])
      assert.deepStrictEqual(r.pollTimes, [5])
      assert.deepInclude(errorOf(r.exit), { _tag: "MalformedResponse", endpoint: "token", field: "access_token", status: 200 })
    }))

  it.effect("a 200 with a missing expires_in stops with MalformedResponse{expires_in}", () =>
    Effect.gen(function*() {
      const r = yield* run([reply.json(200, { access_token: ACCESS, token_type: "Bearer" })])
      const e = errorOf(r.exit)
      assert.deepInclude(e, { _tag: "MalformedResponse", field: "expires_in" })
      assert.notInclude(String(e) + e.message + (e as any)[CliError.userMessage], ACCESS)
    }))
})

describe("pollForTokens: transient faults", () => {
  it("backoff is max(interval, min(interval × 2^k, 60))", () => {
    assert.deepStrictEqual([0, 1, 2, 3, 4, 5].map((k) => backoffSeconds(5, k)), [5, 10, 20, 40, 60, 60])
    assert.deepStrictEqual([1, 2].map((k) => backoffSeconds(90, k)), [90, 90])
  })

  it.effect("refused, 5xx and a non-JSON 200 back off doubling to 60 s; an answer resets the count", () =>
    Effect.gen(function*() {
      const r = yield* run([
        reply.refused, // t=5, k=1 → wait 10
        reply.text(503, "<html>busy</html>"), // t=15, k=2 → 20
        reply.text(200, "<html>proxy</html>"), // t=35, k=3 → 40
        reply.reset, // t=75, k=4 → 60
        reply.refused, // t=135, k=5 → 60
        pending, // t=195, reset → 5
        reply.refused, // t=200, k=1 → 10
        tokens // t=210
      ])
      succeeded(r)
      assert.deepStrictEqual(r.pollTimes, [5, 15, 35, 75, 135, 195, 200, 210])
      assert.deepStrictEqual(r.progress.map((p) => p.last), [
        "start",
        "transient",
        "transient",
        "transient",
        "transient",
        "transient",
        "pending",
        "transient"
      ])
      assert.strictEqual(r.progress[1]?.fault?._tag, "NetworkError")
    }))

  it.effect("a request timeout is a transient fault measured on the Clock", () =>
    Effect.gen(function*() {
      const r = yield* run([reply.hang, tokens], device(), {})
      // poll at 5 hangs until the 30 s request timeout (t=35), then waits 10 s
      assert.deepStrictEqual(r.pollTimes, [5, 45])
      succeeded(r)
    }))
})

describe("pollForTokens: interruption", () => {
  it.effect("stops at once: no further request after interruption", () =>
    Effect.gen(function*() {
      const http = testHttpClient(sequence(pending))
      const fiber = yield* pollForTokens(settings, device(), pkce).pipe(Effect.provide(http.layer), Effect.forkChild)
      yield* TestClock.adjust("12 seconds")
      assert.strictEqual(http.requests.length, 2)
      yield* Fiber.interrupt(fiber)
      yield* TestClock.adjust("10 minutes")
      assert.strictEqual(http.requests.length, 2)
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.isFailure(exit) && Exit.hasInterrupts(exit))
    }))

  it.effect("interrupting during a hanging request ends it too", () =>
    Effect.gen(function*() {
      const http = testHttpClient(sequence(reply.hang))
      const fiber = yield* pollForTokens(settings, device(), pkce).pipe(Effect.provide(http.layer), Effect.forkChild)
      yield* TestClock.adjust("6 seconds")
      yield* Fiber.interrupt(fiber)
      yield* TestClock.adjust("10 minutes")
      assert.strictEqual(http.requests.length, 1)
    }))
})
