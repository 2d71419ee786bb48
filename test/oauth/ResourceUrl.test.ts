import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { checkResourceUrl, toBaseUrl } from "../../src/oauth/ResourceUrl.ts"
import { testSettings } from "../support/testHttpClient.ts"

describe("toBaseUrl (protocol.md §5)", () => {
  it("normalizes the documented examples", () => {
    assert.strictEqual(toBaseUrl("portal.qwen.ai"), "https://portal.qwen.ai/v1")
    assert.strictEqual(toBaseUrl("localhost:8080"), "https://localhost:8080/v1")
    assert.strictEqual(toBaseUrl("http://127.0.0.1:9/"), "http://127.0.0.1:9/v1")
  })

  it("empty or missing means the default; trims, strips slashes, keeps an existing /v1", () => {
    assert.strictEqual(toBaseUrl(undefined), "https://portal.qwen.ai/v1")
    assert.strictEqual(toBaseUrl("   "), "https://portal.qwen.ai/v1")
    assert.strictEqual(toBaseUrl("  https://portal.qwen.ai/v1///  "), "https://portal.qwen.ai/v1")
    assert.strictEqual(toBaseUrl("https://dashscope.aliyuncs.com/compatible-mode"), "https://dashscope.aliyuncs.com/compatible-mode/v1")
  })
})

describe("checkResourceUrl (host rule)", () => {
  const settings = testSettings({ oauthBaseUrl: "https://auth.example.org" })
  const check = (value: string | undefined, s = settings) => Effect.runSyncExit(checkResourceUrl(s, value))

  it("accepts qwen.ai hosts, the OAuth server's own host, loopback and allowed hosts", () => {
    assert.deepStrictEqual(check("portal.qwen.ai"), Exit.succeed("https://portal.qwen.ai/v1"))
    assert.deepStrictEqual(check("qwen.ai"), Exit.succeed("https://qwen.ai/v1"))
    assert.deepStrictEqual(check(undefined), Exit.succeed("https://portal.qwen.ai/v1"))
    assert.deepStrictEqual(check("auth.example.org"), Exit.succeed("https://auth.example.org/v1"))
    assert.deepStrictEqual(check("http://127.0.0.1:9/"), Exit.succeed("http://127.0.0.1:9/v1"))
    assert.deepStrictEqual(
      check("api.corp.example", testSettings({ allowedResourceHosts: ["API.corp.example"] })),
      Exit.succeed("https://api.corp.example/v1")
    )
  })

  it("refuses other hosts, look-alikes and plain http to non-loopback hosts", () => {
    for (const value of ["evil.example.com", "qwen.ai.evil.com", "evilqwen.ai", "http://portal.qwen.ai", "ftp://portal.qwen.ai"]) {
      const exit = check(value)
      assert.isTrue(Exit.isFailure(exit), value)
      if (Exit.isFailure(exit)) {
        const reason = exit.cause.reasons[0]
        assert.strictEqual(reason?._tag === "Fail" ? reason.error._tag : undefined, "UntrustedEndpoint")
      }
    }
  })

  it("says why, in a message a user can act on", () => {
    const exit = check("evil.example.com")
    assert.isTrue(Exit.isFailure(exit))
    if (Exit.isFailure(exit)) {
      const reason = exit.cause.reasons[0]
      const message = reason?._tag === "Fail" ? reason.error.message : ""
      assert.include(message, "https://evil.example.com")
      assert.include(message, "neither under qwen.ai nor the OAuth server's host")
    }
  })
})
