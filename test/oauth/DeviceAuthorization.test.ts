import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Redacted, Runtime } from "effect"
import * as CliError from "effect/cli/CliError"
import { TestClock } from "effect/testing"
import { ExitCode } from "../../src/domain/Errors.ts"
import { requestDeviceAuthorization, startDeviceAuthorization } from "../../src/oauth/DeviceAuthorization.ts"
import type { OAuthError } from "../../src/oauth/OAuthError.ts"
import { pkceFromVerifier } from "../../src/oauth/Pkce.ts"
import { type Reply, reply, sequence, testHttpClient, testSettings } from "../support/testHttpClient.ts"

const settings = testSettings()
const RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
const DEVICE_CODE = "DC-secret-device-code-xyz"

const body = (extra: Record<string, unknown> = {}) => ({
  device_code: DEVICE_CODE,
  user_code: "ABCD-1234",
  verification_uri: "https://chat.qwen.ai/authorize",
  verification_uri_complete: "https://chat.qwen.ai/authorize?user_code=ABCD-1234&client=qwen-code",
  expires_in: 600,
  ...extra
})

const request = (r: Reply) => {
  const http = testHttpClient(sequence(r))
  return requestDeviceAuthorization(settings, pkceFromVerifier(RFC_VERIFIER)).pipe(Effect.provide(http.layer), Effect.exit)
}

const errorOf = (exit: Exit.Exit<unknown, OAuthError>): OAuthError => {
  if (Exit.isFailure(exit)) {
    const r = exit.cause.reasons.find((x) => x._tag === "Fail")
    if (r && r._tag === "Fail") return r.error
  }
  throw new Error(`expected a failure, got ${String(exit)}`)
}

describe("device authorization request", () => {
  it.effect("POSTs client id, scope and the S256 challenge with an x-request-id uuid", () =>
    Effect.gen(function*() {
      const http = testHttpClient(sequence(reply.json(200, body())))
      const { device, pkce } = yield* startDeviceAuthorization(settings, { verifier: RFC_VERIFIER }).pipe(
        Effect.provide(http.layer)
      )
      const req = http.requests[0]
      assert.strictEqual(req?.url, "http://127.0.0.1:9/api/v1/oauth2/device/code")
      assert.deepStrictEqual(req?.form, {
        client_id: settings.clientId,
        scope: "openid profile email model.completion",
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        code_challenge_method: "S256"
      })
      assert.strictEqual(req?.contentType, "application/x-www-form-urlencoded")
      assert.strictEqual(req?.headers["accept"], "application/json")
      assert.strictEqual(req?.headers["user-agent"], "qwen-auth/test")
      assert.match(req?.headers["x-request-id"] ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      assert.strictEqual(Redacted.value(pkce.verifier), RFC_VERIFIER)
      assert.strictEqual(Redacted.value(device.deviceCode), DEVICE_CODE)
      assert.notInclude(String(device.deviceCode), DEVICE_CODE)
    }))

  it.effect("without an injected verifier a fresh random one is made", () =>
    Effect.gen(function*() {
      const http = testHttpClient(sequence(reply.json(200, body())))
      const { pkce } = yield* startDeviceAuthorization(settings).pipe(Effect.provide(http.layer))
      assert.match(Redacted.value(pkce.verifier), /^[A-Za-z0-9_-]{43}$/)
      assert.strictEqual(http.requests[0]?.form["code_challenge"], pkce.challenge)
    }))

  it.effect("refuses plain http to a non-loopback OAuth server before sending", () =>
    Effect.gen(function*() {
      const http = testHttpClient(sequence(reply.json(200, body())))
      const e = yield* requestDeviceAuthorization(
        testSettings({ oauthBaseUrl: "http://chat.qwen.ai" }),
        pkceFromVerifier(RFC_VERIFIER)
      ).pipe(Effect.provide(http.layer), Effect.flip)
      assert.strictEqual(e._tag, "UntrustedEndpoint")
      assert.strictEqual(http.requests.length, 0)
    }))
})

describe("device authorization response", () => {
  it.effect("decodes leniently: numeric strings, interval optional, unknown keys ignored", () =>
    Effect.gen(function*() {
      const exit = yield* request(reply.json(200, body({ expires_in: "900", interval: "7", extra: true })))
      assert.isTrue(Exit.isSuccess(exit))
      if (!Exit.isSuccess(exit)) return
      assert.deepInclude(exit.value, {
        userCode: "ABCD-1234",
        verificationUri: "https://chat.qwen.ai/authorize",
        verificationUriComplete: "https://chat.qwen.ai/authorize?user_code=ABCD-1234&client=qwen-code",
        expiresInSeconds: 900,
        intervalSeconds: 7
      })
      const noInterval = yield* request(reply.json(200, body({ verification_uri_complete: undefined })))
      assert.isTrue(Exit.isSuccess(noInterval))
      if (Exit.isSuccess(noInterval)) {
        assert.isUndefined(noInterval.value.intervalSeconds)
        assert.isUndefined(noInterval.value.verificationUriComplete)
      }
      const zero = yield* request(reply.json(200, body({ interval: 0 })))
      assert.isTrue(Exit.isSuccess(zero) && zero.value.intervalSeconds === undefined)
    }))

  it.effect("each required field missing is a MalformedResponse naming it", () =>
    Effect.gen(function*() {
      for (const field of ["device_code", "user_code", "verification_uri", "expires_in"]) {
        const e = errorOf(yield* request(reply.json(200, body({ [field]: undefined }))))
        assert.deepInclude(e, { _tag: "MalformedResponse", endpoint: "device_authorization", field, status: 200 })
        assert.notInclude(String(e) + e.message + (e as any)[CliError.userMessage], DEVICE_CODE)
      }
    }))

  it.effect("a verification URI that is not https (or http to loopback) is UntrustedEndpoint (never shown or opened)", () =>
    Effect.gen(function*() {
      const file = errorOf(yield* request(reply.json(200, body({ verification_uri_complete: "file:///etc/passwd" }))))
      assert.deepInclude(file, { _tag: "UntrustedEndpoint" })
      const http = errorOf(yield* request(reply.json(200, body({ verification_uri: "http://chat.qwen.ai/authorize" }))))
      assert.deepInclude(http, { _tag: "UntrustedEndpoint", url: "http://chat.qwen.ai" })
      assert.strictEqual((http as any)[Runtime.errorExitCode], ExitCode.error)
      const loopback = yield* request(reply.json(200, body({ verification_uri: "http://127.0.0.1:9/authorize" })))
      assert.isTrue(Exit.isSuccess(loopback))
    }))

  it.effect("a verification URI with userinfo is UntrustedEndpoint, naming the host only", () =>
    Effect.gen(function*() {
      for (
        const [field, value] of [
          ["verification_uri", "https://chat.qwen.ai@evil.example/authorize"],
          ["verification_uri_complete", "https://user:pw@chat.qwen.ai/authorize?user_code=ABCD-1234"],
          ["verification_uri", "https://@chat.qwen.ai/authorize"]
        ] as const
      ) {
        const e = errorOf(yield* request(reply.json(200, body({ [field]: value }))))
        assert.deepInclude(e, { _tag: "UntrustedEndpoint" }, value)
        const text = String(e) + e.message + (e as any)[CliError.userMessage]
        assert.notInclude(text, "pw@")
        assert.include(text, field)
      }
    }))

  it.effect("unsafe characters in a verification URI are percent-encoded: the link shown is the link opened", () =>
    Effect.gen(function*() {
      const exit = yield* request(reply.json(200, body({
        verification_uri: "https://chat.qwen.ai/authorize\u001b]8;;https://evil.example\u0007",
        verification_uri_complete: "https://chat.qwen.ai/a?c=\u202eABCD \u009b2J"
      })))
      assert.isTrue(Exit.isSuccess(exit))
      if (Exit.isSuccess(exit)) {
        assert.strictEqual(exit.value.verificationUri, "https://chat.qwen.ai/authorize%1B]8;;https://evil.example%07")
        assert.strictEqual(exit.value.verificationUriComplete, "https://chat.qwen.ai/a?c=%E2%80%AEABCD%20%C2%9B2J")
      }
    }))

  it.effect("a user_code outside [A-Z0-9-]{4,16} is a MalformedResponse naming the field, not quoting it", () =>
    Effect.gen(function*() {
      for (const code of ["\u001b[2JABCD", "ABCD\nEnter 0000 at evil.example", "abcd-1234", "ABC", "A".repeat(17), "ABCD\u202e"]) {
        const e = errorOf(yield* request(reply.json(200, body({ user_code: code }))))
        assert.deepInclude(e, { _tag: "MalformedResponse", field: "user_code" }, JSON.stringify(code))
        assert.strictEqual((e as any).excerpt, "")
      }
    }))

  it.effect("a non-JSON answer quotes the status and a short scrubbed excerpt", () =>
    Effect.gen(function*() {
      const e = errorOf(yield* request(reply.text(403, `<html><title>Forbidden</title>\n${"x".repeat(300)}</html>`)))
      assert.deepInclude(e, { _tag: "MalformedResponse", field: "body", status: 403 })
      assert.strictEqual(
        (e as any)[CliError.userMessage],
        `Qwen's OAuth server sent an unusable device_authorization response (HTTP 403, body): <html><title>Forbidden</title> ${"x".repeat(49)}….`
      )
    }))

  it.effect("OAuth errors are classified by their error field", () =>
    Effect.gen(function*() {
      const e = errorOf(yield* request(reply.json(400, { error: "invalid_scope", error_description: "bad scope" })))
      assert.deepInclude(e, { _tag: "ServerError", error: "invalid_scope", description: "bad scope", transient: false })
      const c = errorOf(yield* request(reply.json(401, { error: "invalid_client" })))
      assert.deepInclude(c, { _tag: "InvalidClient", endpoint: "device_authorization", clientId: settings.clientId })
      const q = errorOf(yield* request(reply.text(429, "Free allocated quota exceeded.")))
      assert.deepInclude(q, { _tag: "QuotaExceeded", serverMessage: "Free allocated quota exceeded." })
    }))

  it.effect("times out after settings.requestTimeout on the Clock", () =>
    Effect.gen(function*() {
      const fiber = yield* request(reply.hang).pipe(Effect.forkChild)
      yield* TestClock.adjust(29_999)
      assert.isUndefined(fiber.pollUnsafe())
      yield* TestClock.adjust(1)
      const e = errorOf(yield* Fiber.join(fiber))
      assert.deepInclude(e, { _tag: "NetworkError", endpoint: "device_authorization", ambiguous: true })
    }))
})
