import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { challengeOf, generatePkce, isValidVerifier, pkceFromVerifier } from "../../src/oauth/Pkce.ts"

describe("PKCE", () => {
  it("matches RFC 7636 Appendix B", () => {
    const pair = pkceFromVerifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
    assert.strictEqual(pair.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    assert.strictEqual(pair.method, "S256")
    assert.strictEqual(challengeOf("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), pair.challenge)
  })

  it.effect("generates 43-character base64url verifiers that differ, kept Redacted", () =>
    Effect.gen(function*() {
      const a = yield* generatePkce
      const b = yield* generatePkce
      const va = Redacted.value(a.verifier)
      assert.match(va, /^[A-Za-z0-9_-]{43}$/)
      assert.isTrue(isValidVerifier(va))
      assert.match(a.challenge, /^[A-Za-z0-9_-]{43}$/)
      assert.notStrictEqual(va, Redacted.value(b.verifier))
      assert.notInclude(String(a.verifier) + JSON.stringify(a), va)
    }))

  it("rejects verifiers outside RFC 7636 §4.1", () => {
    assert.isFalse(isValidVerifier("short"))
    assert.isFalse(isValidVerifier("a".repeat(129)))
    assert.isFalse(isValidVerifier(`${"a".repeat(42)}+`))
    assert.isTrue(isValidVerifier(`${"a".repeat(40)}-._~`))
  })
})
