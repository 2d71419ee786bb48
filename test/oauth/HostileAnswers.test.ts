/**
 * Hostile answers at the protocol edge (issue 13): a server echoing the secrets the request carried
 * in every field, error codes outside RFC 6749's charset, unbounded text, tokens and token types
 * outside RFC 6750 / RFC 7230, and URLs carrying escapes or userinfo. Every face of every error
 * (message, user message, JSON, String) is scanned.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Redacted } from "effect"
import * as CliError from "effect/cli/CliError"
import { hasUnsafeChars, MAX_SERVER_TEXT } from "../../src/domain/Sanitize.ts"
import type { OAuthError } from "../../src/oauth/OAuthError.ts"
import { pkceFromVerifier } from "../../src/oauth/Pkce.ts"
import { pollToken, refresh, type RefreshAnswer } from "../../src/oauth/TokenEndpoint.ts"
import { checkResourceUrl } from "../../src/oauth/Trust.ts"
import { type Reply, reply, sequence, testHttpClient, testSettings } from "../support/testHttpClient.ts"

const settings = testSettings()
const REFRESH = "RT-hostile/refresh+token_0123456789abcdef"
const OLD_ACCESS = "AT-hostile-old-access-0123456789abcdef"
const DEVICE = "DC-hostile-device-code-0123456789abcdef"
const VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
const SECRETS = [REFRESH, OLD_ACCESS, DEVICE, VERIFIER]
const ESCAPES = "\u001b[2J\u001b]0;pwned\u0007\u009b31m\u202eevil\u2066"

/** Every way a server may echo what it was sent: raw, as the form body, percent-encoded. */
const echo = `got ${SECRETS.join(" ")} form=${new URLSearchParams({ refresh_token: REFRESH, device_code: DEVICE, code_verifier: VERIFIER })} ${
  encodeURIComponent(REFRESH)
} ${ESCAPES}`

const failure = <A>(exit: Exit.Exit<A, OAuthError>): OAuthError => {
  if (Exit.isFailure(exit)) {
    const e = exit.cause.reasons.find((r) => r._tag === "Fail")
    if (e && e._tag === "Fail") return e.error
  }
  throw new Error(`expected a failure, got ${String(exit)}`)
}

const faces = (e: OAuthError) => [String(e), e.message, (e as any)[CliError.userMessage] ?? "", JSON.stringify(e)]

/** The secrets each request carries (a refresh also knows the access token it replaces). */
const REFRESH_SECRETS = [REFRESH, OLD_ACCESS]
const POLL_SECRETS = [DEVICE, VERIFIER]

/** No secret, no unsafe character, no server text past 200 characters in any face of `e`. */
const assertClean = (e: OAuthError, what: string, secrets: ReadonlyArray<string> = SECRETS) => {
  for (const face of faces(e)) {
    for (const s of secrets) {
      assert.notInclude(face, s, what)
      assert.notInclude(face, s.slice(0, 16), what)
      assert.notInclude(face, encodeURIComponent(s), what)
    }
    assert.isFalse(hasUnsafeChars(face.replace(/\n/g, " ")), `${what}: ${JSON.stringify(face)}`)
  }
  for (const value of Object.values(e)) {
    if (typeof value === "string") assert.isAtMost(value.length, MAX_SERVER_TEXT + 1, `${what}: a field longer than 200`)
  }
}

const runRefresh = (r: Reply) =>
  refresh(settings, Redacted.make(REFRESH), [Redacted.make(OLD_ACCESS)]).pipe(
    Effect.provide(testHttpClient(sequence(r)).layer),
    Effect.exit
  )

const runPoll = (r: Reply) =>
  pollToken(settings, Redacted.make(DEVICE), pkceFromVerifier(VERIFIER).verifier).pipe(
    Effect.provide(testHttpClient(sequence(r)).layer),
    Effect.exit
  )

/** Answers echoing the secrets in every field a server controls. */
const echoing: ReadonlyArray<[string, Reply]> = [
  ["error", reply.json(400, { error: `invalid_request ${REFRESH} ${DEVICE} ${VERIFIER}` })],
  ["error_description", reply.json(400, { error: "invalid_request", error_description: echo })],
  ["invalid_grant description", reply.json(400, { error: "invalid_grant", error_description: echo })],
  ["invalid_client description", reply.json(401, { error: "invalid_client", error_description: echo })],
  ["access_denied description", reply.json(400, { error: "access_denied", error_description: echo })],
  ["nested error", reply.json(400, { error: { code: `bad ${REFRESH}`, message: echo } })],
  ["429 message", reply.json(429, { message: echo }, { "retry-after": "7" })],
  ["429 error", reply.json(429, { error: `rate ${REFRESH}`, error_description: echo })],
  ["quota message", reply.json(429, { error: "insufficient_quota", error_description: `quota exceeded ${echo}` })],
  ["HTML 403", reply.text(403, `<html><body><pre>${echo}</pre></body></html>`)],
  ["HTML 502", reply.text(502, `<html>${echo}</html>`)],
  ["text 200", reply.text(200, `ok ${echo}`)],
  ["JSON 5xx", reply.json(503, { error: "temporarily_unavailable", error_description: echo })],
  ["bare message 400", reply.json(400, { message: echo })]
]

describe("a server echoing secrets", () => {
  for (const [what, r] of echoing) {
    it.effect(`refresh: ${what} is redacted by value and escaped`, () =>
      Effect.gen(function*() {
        assertClean(failure(yield* runRefresh(r)), what, REFRESH_SECRETS)
      }))
  }

  for (const [what, r] of echoing) {
    it.effect(`device poll: ${what} is redacted by value and escaped (or a retry signal)`, () =>
      Effect.gen(function*() {
        const exit = yield* runPoll(r)
        if (Exit.isSuccess(exit)) assert.strictEqual(exit.value._tag, "SlowDown", what)
        else assertClean(failure(exit), what, POLL_SECRETS)
      }))
  }
})

describe("RFC 6749 error codes", () => {
  it.effect("an error outside the charset is never quoted: MalformedResponse{error} (or transient on 5xx)", () =>
    Effect.gen(function*() {
      for (const code of ["\u001b[2Jinvalid", "in\"valid", "in\\valid", "invalid\u202e", "ungültig", "line\nbreak"]) {
        const e = failure(yield* runRefresh(reply.json(400, { error: code })))
        assert.deepInclude(e, { _tag: "MalformedResponse", field: "error", status: 400, excerpt: "" }, JSON.stringify(code))
        assertClean(e, code)
        const e5 = failure(yield* runRefresh(reply.json(500, { error: code })))
        assert.deepInclude(e5, { _tag: "ServerError", status: 500, transient: true })
        assert.isUndefined((e5 as any).error)
      }
    }))

  it.effect("a 5,000-character error and description are cut to 200 characters", () =>
    Effect.gen(function*() {
      const e = failure(yield* runRefresh(reply.json(400, { error: "x".repeat(5000), error_description: "y".repeat(5000) })))
      assert.strictEqual(e._tag, "ServerError")
      assertClean(e, "long")
    }))
})

describe("tokens and token types at the edge", () => {
  const ok = { access_token: "AT-new", refresh_token: "RT-new", token_type: "Bearer", expires_in: 3600 }
  const answer = (body: Record<string, unknown>) => runRefresh(reply.json(200, { ...ok, ...body }))
  const rotatedOnly = (exit: Exit.Exit<RefreshAnswer, OAuthError>) =>
    Exit.isSuccess(exit) && exit.value._tag === "RotatedOnly" ? exit.value : undefined

  it.effect("an access token outside RFC 6750's b64token: the field is named, the value never; a good rotated refresh token is kept", () =>
    Effect.gen(function*() {
      for (const bad of ["AT\u001b[2J", "AT\nX-Evil: 1", "AT with spaces", "AT\u202e", "=AT", "A\u0000T"]) {
        const exit = yield* answer({ access_token: bad })
        const rotated = rotatedOnly(exit)
        assert.isDefined(rotated, JSON.stringify(bad))
        assert.deepInclude(rotated!.problem, { _tag: "MalformedResponse", field: "access_token", excerpt: "" })
        assert.strictEqual(Redacted.value(rotated!.refreshToken), "RT-new")
        assert.notInclude(faces(rotated!.problem).join(" "), bad)
      }
    }))

  it.effect("a refresh token outside the charset is a MalformedResponse naming refresh_token", () =>
    Effect.gen(function*() {
      const e = failure(yield* answer({ refresh_token: "RT\r\nSet-Cookie: x" }))
      assert.deepInclude(e, { _tag: "MalformedResponse", field: "refresh_token", excerpt: "" })
      assert.notInclude(faces(e).join(" "), "Set-Cookie")
    }))

  it.effect("a token_type with CR/LF or spaces is a MalformedResponse naming token_type", () =>
    Effect.gen(function*() {
      for (const bad of ["Bearer\r\nX-Evil: 1", "Bearer extra", "\u001b[2J"]) {
        const exit = yield* answer({ token_type: bad })
        const problem = rotatedOnly(exit)?.problem
        assert.deepInclude(problem, { _tag: "MalformedResponse", field: "token_type" }, JSON.stringify(bad))
      }
    }))

  it.effect("unsafe characters in resource_url are percent-encoded when decoded", () =>
    Effect.gen(function*() {
      const exit = yield* answer({ resource_url: "http://127.0.0.1:9/v1\u001b]0;pwned\u0007\u202e" })
      assert.isTrue(Exit.isSuccess(exit) && exit.value._tag === "Tokens")
      if (Exit.isSuccess(exit) && exit.value._tag === "Tokens") {
        assert.strictEqual(exit.value.tokens.resourceUrl, "http://127.0.0.1:9/v1%1B]0;pwned%07%E2%80%AE")
      }
    }))
})

describe("resource_url with userinfo", () => {
  it.effect("is refused like a foreign host, naming no credentials", () =>
    Effect.gen(function*() {
      for (const value of ["https://user:pw@portal.qwen.ai", "https://portal.qwen.ai@evil.example/v1", "user:pw@portal.qwen.ai"]) {
        const e = failure(yield* Effect.exit(checkResourceUrl(settings, value)))
        assert.strictEqual(e._tag, "UntrustedEndpoint", value)
        assert.notInclude(faces(e).join(" "), "pw@")
      }
    }))

  it.effect("a host with control characters is not a valid URL, and the error shows it escaped", () =>
    Effect.gen(function*() {
      const e = failure(yield* Effect.exit(checkResourceUrl(settings, "https://por\u001btal.qwen.ai")))
      assert.strictEqual(e._tag, "UntrustedEndpoint")
      assertClean(e, "host")
    }))
})
