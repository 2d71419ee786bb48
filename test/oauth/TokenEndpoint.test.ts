import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Redacted, Runtime } from "effect"
import * as CliError from "effect/cli/CliError"
import { TestClock } from "effect/testing"
import { ExitCode } from "../../src/domain/Errors.ts"
import { isTransient, type OAuthError } from "../../src/oauth/OAuthError.ts"
import {
  MAX_EXPIRES_IN_SECONDS,
  pollToken,
  processRefreshResponse,
  refresh,
  type RefreshAnswer,
  refreshRequest,
  toCredentials,
  tokenPollRequest
} from "../../src/oauth/TokenEndpoint.ts"
import { reply, sequence, testHttpClient, testSettings } from "../support/testHttpClient.ts"

const settings = testSettings()
const ACCESS = "AT-secret-access-1234567890"
const REFRESH = "RT-secret-refresh-0987654321"
const DEVICE = "DC-secret-device-code"
const VERIFIER = "verifier-secret-abcdefghijklmnopqrstuvwxyz0123"

const tokens = (extra: Record<string, unknown> = {}) => ({
  access_token: ACCESS,
  refresh_token: "RT-new-rotated",
  token_type: "bearer",
  expires_in: 21600,
  resource_url: "portal.qwen.ai",
  ...extra
})

const runRefresh = (r: ReturnType<typeof reply.json>) => {
  const http = testHttpClient(sequence(r))
  return refresh(settings, Redacted.make(REFRESH)).pipe(Effect.provide(http.layer), Effect.exit)
}

/** The `RotatedOnly` answer of a successful exit; throws for anything else. */
const rotatedOnly = (exit: Exit.Exit<RefreshAnswer, OAuthError>) => {
  if (Exit.isSuccess(exit) && exit.value._tag === "RotatedOnly") return exit.value
  throw new Error(`expected RotatedOnly, got ${String(exit)}`)
}

/** The `Tokens` answer of a successful exit; throws for anything else. */
const tokensOf = (exit: Exit.Exit<RefreshAnswer, OAuthError>) => {
  if (Exit.isSuccess(exit) && exit.value._tag === "Tokens") return exit.value.tokens
  throw new Error(`expected Tokens, got ${String(exit)}`)
}

const failure = <A>(exit: Exit.Exit<A, OAuthError>): OAuthError => {
  if (Exit.isFailure(exit)) {
    const e = exit.cause.reasons.find((r) => r._tag === "Fail")
    if (e && e._tag === "Fail") return e.error
  }
  throw new Error(`expected a failure, got ${String(exit)}`)
}

/** No secret in any face of an error. */
const assertNoSecrets = (e: OAuthError) => {
  const faces = [String(e), e.message, (e as any)[CliError.userMessage] ?? "", JSON.stringify(e)]
  for (const face of faces) {
    for (const secret of [ACCESS, REFRESH, DEVICE, VERIFIER, "RT-new-rotated"]) {
      assert.notInclude(face, secret)
    }
  }
}

describe("refresh request", () => {
  it.effect("POSTs the refresh grant as a form with the client id, Accept and User-Agent", () =>
    Effect.gen(function*() {
      const http = testHttpClient(sequence(reply.json(200, tokens())))
      yield* refresh(settings, Redacted.make(REFRESH)).pipe(Effect.provide(http.layer))
      const [req] = http.requests
      assert.strictEqual(req?.method, "POST")
      assert.strictEqual(req?.url, "http://127.0.0.1:9/api/v1/oauth2/token")
      assert.deepStrictEqual(req?.form, { grant_type: "refresh_token", refresh_token: REFRESH, client_id: settings.clientId })
      assert.strictEqual(req?.contentType, "application/x-www-form-urlencoded")
      assert.strictEqual(req?.headers["accept"], "application/json")
      assert.strictEqual(req?.headers["user-agent"], "qwen-auth/test")
      assert.isUndefined(req?.headers["x-request-id"])
    }))

  it("keeps the refresh token out of the request's printed form", () => {
    const printed = JSON.stringify(refreshRequest(settings, Redacted.make(REFRESH))) +
      String(tokenPollRequest(settings, Redacted.make(DEVICE), Redacted.make(VERIFIER)))
    assert.notInclude(printed, REFRESH)
    assert.notInclude(printed, DEVICE)
    assert.notInclude(printed, VERIFIER)
  })
})

describe("refresh response", () => {
  it.effect("200 decodes leniently: numeric-string expires_in, bearer in any case, unknown keys ignored", () =>
    Effect.gen(function*() {
      const exit = yield* runRefresh(reply.json(200, tokens({ expires_in: "3600", token_type: "BEARER", extra: 1 })))
      assert.isTrue(Exit.isSuccess(exit))
      if (!Exit.isSuccess(exit)) return
      const t = tokensOf(exit)
      assert.strictEqual(Redacted.value(t.accessToken), ACCESS)
      assert.strictEqual(t.expiresInSeconds, 3600)
      assert.strictEqual(t.tokenType, "Bearer")
      assert.strictEqual(t.resourceUrl, "portal.qwen.ai")
      assert.notInclude(String(t.accessToken), ACCESS)
    }))

  it.effect("missing token_type defaults to Bearer; empty refresh_token counts as absent", () =>
    Effect.gen(function*() {
      const body = tokens({ refresh_token: "" })
      delete (body as any).token_type
      const exit = yield* runRefresh(reply.json(200, body))
      assert.isTrue(Exit.isSuccess(exit))
      if (!Exit.isSuccess(exit)) return
      assert.strictEqual(tokensOf(exit).tokenType, "Bearer")
      assert.isUndefined(tokensOf(exit).refreshToken)
    }))

  it.effect("missing access_token, bad expires_in: MalformedResponse naming endpoint and field", () =>
    Effect.gen(function*() {
      const noAccess = tokens()
      delete (noAccess as any).access_token
      const cases: Array<[Record<string, unknown>, string]> = [
        [noAccess, "access_token"],
        [tokens({ expires_in: undefined }), "expires_in"],
        [tokens({ expires_in: 0 }), "expires_in"],
        [tokens({ expires_in: -5 }), "expires_in"],
        [tokens({ expires_in: "soon" }), "expires_in"],
        [tokens({ expires_in: "Infinity" }), "expires_in"],
        [tokens({ expires_in: MAX_EXPIRES_IN_SECONDS + 1 }), "expires_in"],
        [tokens({ scope: 42 }), "scope"]
      ]
      for (const [withRotated, field] of cases) {
        // Without a usable refresh_token the whole answer is malformed...
        const { refresh_token: _, ...body } = withRotated
        const e = failure(yield* runRefresh(reply.json(200, body)))
        assert.strictEqual(e._tag, "MalformedResponse")
        if (e._tag !== "MalformedResponse") continue
        assert.strictEqual(e.endpoint, "refresh")
        assert.strictEqual(e.field, field)
        assertNoSecrets(e)
        // ...with one, the rotated token is kept and the same problem is reported beside it.
        const rotated = rotatedOnly(yield* runRefresh(reply.json(200, withRotated)))
        assert.strictEqual(Redacted.value(rotated.refreshToken), "RT-new-rotated")
        assert.deepInclude(rotated.problem, { _tag: "MalformedResponse", endpoint: "refresh", field, status: 200 })
        assertNoSecrets(rotated.problem)
      }
    }))

  it.effect("invalid_grant is InvalidGrant{refresh} with a 'log in again' message (exit 4)", () =>
    Effect.gen(function*() {
      const e = failure(
        yield* runRefresh(reply.json(400, { error: "invalid_grant", error_description: "Refresh token expired" }))
      )
      assert.strictEqual(e._tag, "InvalidGrant")
      if (e._tag !== "InvalidGrant") return
      assert.strictEqual(e.endpoint, "refresh")
      assert.strictEqual(e.description, "Refresh token expired")
      assert.include(e[CliError.userMessage], "qwen-auth login")
      assert.strictEqual(e[Runtime.errorExitCode], ExitCode.loginRequired)
      assert.isFalse(isTransient(e))
    }))

  it.effect("invalid_client / unauthorized_client name the client id (400 or 401)", () =>
    Effect.gen(function*() {
      for (const [status, error] of [[400, "invalid_client"], [401, "unauthorized_client"]] as const) {
        const e = failure(yield* runRefresh(reply.json(status, { error })))
        assert.strictEqual(e._tag, "InvalidClient")
        if (e._tag !== "InvalidClient") continue
        assert.strictEqual(e.error, error)
        assert.include(e[CliError.userMessage], settings.clientId)
      }
    }))

  it.effect("other OAuth errors are permanent ServerErrors with the server's words", () =>
    Effect.gen(function*() {
      const e = failure(yield* runRefresh(reply.json(400, { error: "invalid_request", error_description: "bad" })))
      assert.strictEqual(e._tag, "ServerError")
      if (e._tag !== "ServerError") return
      assert.deepStrictEqual([e.status, e.error, e.description, e.transient], [400, "invalid_request", "bad", false])
      assert.strictEqual(e.message, "refresh answered HTTP 400 invalid_request: bad")
    }))

  it.effect("5xx, a bare 401, and a non-JSON 200 are transient", () =>
    Effect.gen(function*() {
      const e5 = failure(yield* runRefresh(reply.text(502, "<html>Bad gateway</html>")))
      assert.deepInclude(e5, { _tag: "ServerError", status: 502, transient: true })
      const e401 = failure(yield* runRefresh(reply.text(401, "")))
      assert.deepInclude(e401, { _tag: "ServerError", status: 401, transient: true })
      const proxy = failure(yield* runRefresh(reply.text(200, "<html>\n\tcaptive\u0007 portal login page</html>")))
      assert.deepInclude(proxy, { _tag: "MalformedResponse", field: "body", status: 200 })
      // Whitespace runs become one space; a control character is shown escaped, never raw.
      if (proxy._tag === "MalformedResponse") assert.strictEqual(proxy.excerpt, "<html> captive\\u0007 portal login page</html>")
      for (const e of [e5, e401, proxy]) assert.isTrue(isTransient(e))
    }))

  it.effect("a long non-JSON body is cut to a short excerpt", () =>
    Effect.gen(function*() {
      const e = failure(yield* runRefresh(reply.text(400, "x".repeat(5000))))
      assert.strictEqual(e._tag, "MalformedResponse")
      if (e._tag === "MalformedResponse") assert.isAtMost(e.excerpt.length, 81)
    }))

  it.effect("429: quota errors (both shapes) are QuotaExceeded; others RateLimited with Retry-After", () =>
    Effect.gen(function*() {
      const q1 = failure(yield* runRefresh(reply.json(429, { error: "insufficient_quota", error_description: "Free allocated quota exceeded." })))
      assert.deepInclude(q1, { _tag: "QuotaExceeded", endpoint: "refresh", serverMessage: "Free allocated quota exceeded." })
      const q2 = failure(
        yield* runRefresh(reply.json(429, { error: { code: "insufficient_quota", message: "Free allocated quota exceeded." } }))
      )
      assert.deepInclude(q2, { _tag: "QuotaExceeded", serverMessage: "Free allocated quota exceeded." })
      const rl = failure(
        yield* runRefresh(reply.json(429, { error: "rate_limited", message: "Too many requests" }, { "retry-after": "17" }))
      )
      assert.deepInclude(rl, { _tag: "RateLimited", retryAfterSeconds: 17, serverMessage: "Too many requests" })
      if (rl._tag === "RateLimited") {
        assert.strictEqual(rl[CliError.userMessage], "Qwen is rate-limiting requests: Too many requests.\nTry again in 17 s.")
        assert.strictEqual(rl[Runtime.errorExitCode], ExitCode.error)
      }
    }))

  it.effect("Retry-After as an HTTP date is measured on the Clock", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2026-11-25T20:00:00Z"))
      const e = failure(yield* runRefresh(reply.json(429, {}, { "retry-after": "Wed, 25 Nov 2026 20:01:30 GMT" })))
      assert.deepInclude(e, { _tag: "RateLimited", retryAfterSeconds: 90 })
    }))

  it.effect("connection refused is an unambiguous NetworkError; reset and timeout are ambiguous", () =>
    Effect.gen(function*() {
      const refused = failure(yield* runRefresh(reply.refused))
      assert.deepInclude(refused, { _tag: "NetworkError", endpoint: "refresh", ambiguous: false })
      assert.include(refused.message, "connection refused")
      const reset = failure(yield* runRefresh(reply.reset))
      assert.deepInclude(reset, { _tag: "NetworkError", ambiguous: true })

      const http = testHttpClient(sequence(reply.hang))
      const fiber = yield* refresh(settings, Redacted.make(REFRESH)).pipe(Effect.provide(http.layer), Effect.exit, Effect.forkChild)
      yield* TestClock.adjust(settings.refreshTimeout)
      const timedOut = failure(yield* Fiber.join(fiber))
      assert.deepInclude(timedOut, { _tag: "NetworkError", ambiguous: true, detail: "no answer within 10 s" })
    }))

  it.effect("plain http to a non-loopback OAuth host is refused before any request", () =>
    Effect.gen(function*() {
      const http = testHttpClient(sequence(reply.json(200, tokens())))
      const exit = yield* refresh(testSettings({ oauthBaseUrl: "http://chat.qwen.ai" }), Redacted.make(REFRESH)).pipe(
        Effect.provide(http.layer),
        Effect.exit
      )
      assert.deepInclude(failure(exit), { _tag: "UntrustedEndpoint" })
      assert.strictEqual(http.requests.length, 0)
    }))

  it.effect("error faces never contain tokens", () =>
    Effect.gen(function*() {
      for (
        const r of [
          reply.json(200, { refresh_token: REFRESH, expires_in: 1 }),
          reply.json(200, tokens({ expires_in: -1, access_token: ACCESS })),
          reply.json(200, { access_token: ACCESS, expires_in: -1 }),
          reply.json(400, { error: "invalid_grant" }),
          reply.text(200, "not json"),
          reply.refused
        ]
      ) {
        const exit = yield* runRefresh(r)
        // A rotated refresh token turns the first two into RotatedOnly: its problem is checked instead.
        if (Exit.isSuccess(exit)) assertNoSecrets(rotatedOnly(exit).problem)
        else assertNoSecrets(failure(exit))
      }
    }))
})

describe("refresh response: a rotated refresh token beside an unusable body (RFC 6749 §6)", () => {
  const printed = (answer: RefreshAnswer) =>
    `${String(answer)} ${JSON.stringify(answer)} ${answer._tag === "RotatedOnly" ? String(answer.refreshToken) : ""}`

  it.effect("missing access_token with a valid refresh_token: RotatedOnly naming access_token", () =>
    Effect.gen(function*() {
      const rotated = rotatedOnly(yield* runRefresh(reply.json(200, { refresh_token: REFRESH, expires_in: 3600 })))
      assert.strictEqual(Redacted.value(rotated.refreshToken), REFRESH)
      assert.deepInclude(rotated.problem, { _tag: "MalformedResponse", endpoint: "refresh", field: "access_token", status: 200 })
      assert.strictEqual(rotated.problem.excerpt, "")
      assert.notInclude(printed(rotated), REFRESH)
      assertNoSecrets(rotated.problem)
    }))

  it.effect("expires_in \"abc\": RotatedOnly naming expires_in; the access token is not kept", () =>
    Effect.gen(function*() {
      const rotated = rotatedOnly(yield* runRefresh(reply.json(200, tokens({ expires_in: "abc", refresh_token: REFRESH }))))
      assert.strictEqual(Redacted.value(rotated.refreshToken), REFRESH)
      assert.deepInclude(rotated.problem, { _tag: "MalformedResponse", endpoint: "refresh", field: "expires_in" })
      assert.deepStrictEqual(Object.keys(rotated).sort(), ["_tag", "problem", "refreshToken"])
      for (const secret of [ACCESS, REFRESH]) assert.notInclude(printed(rotated), secret)
      assertNoSecrets(rotated.problem)
    }))

  it.effect("expires_in above one year (1e13 would make an invalid Date later): RotatedOnly naming expires_in", () =>
    Effect.gen(function*() {
      assert.strictEqual(MAX_EXPIRES_IN_SECONDS, 31_536_000)
      for (const expires_in of [1e13, "1e13", MAX_EXPIRES_IN_SECONDS + 1, Number.MAX_VALUE]) {
        const rotated = rotatedOnly(yield* runRefresh(reply.json(200, tokens({ expires_in, refresh_token: REFRESH }))))
        assert.strictEqual(rotated.problem.field, "expires_in", String(expires_in))
        assertNoSecrets(rotated.problem)
      }
      // The bound itself is a lifetime, and its expiry a valid date.
      const t = tokensOf(yield* runRefresh(reply.json(200, tokens({ expires_in: MAX_EXPIRES_IN_SECONDS }))))
      assert.strictEqual(t.expiresInSeconds, MAX_EXPIRES_IN_SECONDS)
      const expiresAt = toCredentials(t, Date.parse("2026-01-01T00:00:00Z")).expiresAt
      assert.strictEqual(new Date(expiresAt).toISOString(), "2027-01-01T00:00:00.000Z")
    }))

  it.effect("no usable refresh_token and a bad access_token: MalformedResponse as before", () =>
    Effect.gen(function*() {
      const bodies: Array<Record<string, unknown>> = [
        { access_token: "", expires_in: 3600 },
        { access_token: 42, expires_in: 3600 },
        { access_token: "", expires_in: 3600, refresh_token: "" },
        { access_token: "", expires_in: 3600, refresh_token: null },
        { expires_in: 3600, refresh_token: 42 }
      ]
      for (const body of bodies) {
        const e = failure(yield* runRefresh(reply.json(200, body)))
        assert.deepInclude(e, { _tag: "MalformedResponse", endpoint: "refresh", status: 200 }, JSON.stringify(body))
        if (e._tag === "MalformedResponse") assert.include(["access_token", "refresh_token"], e.field)
        assertNoSecrets(e)
      }
      const e = failure(yield* runRefresh(reply.json(200, { access_token: 42, expires_in: 3600 })))
      assert.deepInclude(e, { _tag: "MalformedResponse", field: "access_token" })
      // A JSON array is no token response, whatever it holds.
      const array = failure(yield* runRefresh(reply.json(200, [{ refresh_token: REFRESH }])))
      assert.deepInclude(array, { _tag: "MalformedResponse", field: "body", excerpt: "not a JSON object" })
    }))

  it.effect("error answers are classified as before, even when they carry a refresh_token", () =>
    Effect.gen(function*() {
      const grant = failure(yield* runRefresh(reply.json(400, { error: "invalid_grant", refresh_token: REFRESH })))
      assert.deepInclude(grant, { _tag: "InvalidGrant", endpoint: "refresh" })
      const server = failure(yield* runRefresh(reply.json(503, { refresh_token: REFRESH })))
      assert.deepInclude(server, { _tag: "ServerError", status: 503, transient: true })
      const error200 = failure(yield* runRefresh(reply.json(200, { error: "invalid_grant", refresh_token: REFRESH })))
      assert.deepInclude(error200, { _tag: "InvalidGrant", endpoint: "refresh" })
      for (const e of [grant, server, error200]) assertNoSecrets(e)
    }))

  it("processRefreshResponse is pure: the same answer read without a request", () => {
    const answer = {
      endpoint: "refresh" as const,
      status: 200,
      headers: {},
      text: "(unused for JSON answers)",
      json: { refresh_token: REFRESH, access_token: ACCESS, expires_in: 1e13 }
    }
    const exit = Effect.runSyncExit(processRefreshResponse(settings, answer))
    const rotated = rotatedOnly(exit)
    assert.strictEqual(rotated.problem.field, "expires_in")
    assert.strictEqual(Redacted.value(rotated.refreshToken), REFRESH)
  })
})

describe("token poll", () => {
  const poll = (...replies: Array<ReturnType<typeof reply.json>>) => {
    const http = testHttpClient(sequence(...replies))
    return pollToken(settings, Redacted.make(DEVICE), Redacted.make(VERIFIER)).pipe(Effect.provide(http.layer), Effect.exit)
  }

  it.effect("sends the device grant with device_code and code_verifier", () =>
    Effect.gen(function*() {
      const http = testHttpClient(sequence(reply.json(400, { error: "authorization_pending" })))
      yield* pollToken(settings, Redacted.make(DEVICE), Redacted.make(VERIFIER)).pipe(Effect.provide(http.layer))
      assert.deepStrictEqual(http.requests[0]?.form, {
        grant_type: "urn:ietf:params:oauth:grant-type:device_code",
        client_id: settings.clientId,
        device_code: DEVICE,
        code_verifier: VERIFIER
      })
    }))

  it.effect("classifies by error first: pending (400), slow_down (429), {status:pending} on 200", () =>
    Effect.gen(function*() {
      const pending = yield* poll(reply.json(400, { error: "authorization_pending" }))
      assert.deepStrictEqual(pending, Exit.succeed({ _tag: "Pending" }))
      const slow = yield* poll(reply.json(429, { error: "slow_down" }))
      assert.deepStrictEqual(slow, Exit.succeed({ _tag: "SlowDown" }))
      const status = yield* poll(reply.json(200, { status: "pending" }))
      assert.deepStrictEqual(status, Exit.succeed({ _tag: "Pending" }))
      const ok = yield* poll(reply.json(200, tokens()))
      assert.isTrue(Exit.isSuccess(ok) && ok.value._tag === "Tokens")
    }))

  it.effect("expires_in above one year fails the poll as MalformedResponse{token, expires_in}", () =>
    Effect.gen(function*() {
      for (const expires_in of [1e13, MAX_EXPIRES_IN_SECONDS + 1]) {
        const e = failure(yield* poll(reply.json(200, tokens({ expires_in }))))
        assert.deepInclude(e, { _tag: "MalformedResponse", endpoint: "token", field: "expires_in", status: 200 })
        assertNoSecrets(e)
      }
      const ok = yield* poll(reply.json(200, tokens({ expires_in: MAX_EXPIRES_IN_SECONDS })))
      assert.isTrue(Exit.isSuccess(ok) && ok.value._tag === "Tokens")
    }))

  it.effect("access_denied and expired_token are distinct typed errors", () =>
    Effect.gen(function*() {
      const denied = failure(yield* poll(reply.json(400, { error: "access_denied" })))
      assert.strictEqual(denied._tag, "AccessDenied")
      const expired = failure(yield* poll(reply.json(400, { error: "expired_token" })))
      assert.deepInclude(expired, { _tag: "ExpiredToken", reason: "server" })
      const grant = failure(yield* poll(reply.json(400, { error: "invalid_grant" })))
      assert.deepInclude(grant, { _tag: "InvalidGrant", endpoint: "token" })
    }))

  it("toCredentials keeps the old refresh token and resource_url when none is sent", () => {
    const prev = toCredentials(
      {
        accessToken: Redacted.make("a"),
        refreshToken: Redacted.make("r1"),
        idToken: undefined,
        tokenType: "Bearer",
        expiresInSeconds: 10,
        scope: undefined,
        resourceUrl: "portal.qwen.ai"
      },
      0
    )
    const next = toCredentials(
      {
        accessToken: Redacted.make("b"),
        refreshToken: undefined,
        idToken: undefined,
        tokenType: "Bearer",
        expiresInSeconds: 60,
        scope: undefined,
        resourceUrl: undefined
      },
      1000,
      prev
    )
    assert.strictEqual(next.expiresAt, 61_000)
    assert.strictEqual(next.refreshToken && Redacted.value(next.refreshToken), "r1")
    assert.strictEqual(next.resourceUrl, "portal.qwen.ai")
  })
})
