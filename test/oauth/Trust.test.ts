import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { readFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { toBaseUrl } from "../../src/domain/ApiBaseUrl.ts"
import { checkOAuthBase, checkResourceUrl, isLoopbackHost } from "../../src/oauth/Trust.ts"
import { repoRoot } from "../support/processes.ts"
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

describe("checkOAuthBase (protocol.md \"Constants\")", () => {
  const check = (oauthBaseUrl: string) => Effect.runSyncExit(checkOAuthBase({ oauthBaseUrl }))
  const reasonOf = (exit: Exit.Exit<void, { readonly _tag: string; readonly message: string }>) => {
    if (Exit.isSuccess(exit)) return undefined
    const reason = exit.cause.reasons[0]
    return reason?._tag === "Fail" ? `${reason.error._tag}: ${reason.error.message}` : undefined
  }

  it("accepts https anywhere and plain http only to loopback", () => {
    for (const url of ["https://chat.qwen.ai", "http://127.0.0.1:9", "http://localhost:8080/base", "http://[::1]:9"]) {
      assert.deepStrictEqual(check(url), Exit.void, url)
    }
  })

  it("refuses plain http to other hosts, other schemes and garbage, saying why", () => {
    assert.include(reasonOf(check("http://chat.qwen.ai")), "plain http is allowed only for loopback hosts")
    assert.include(reasonOf(check("ftp://chat.qwen.ai")), "unsupported scheme ftp:")
    assert.include(reasonOf(check("not a url")), "not a valid URL")
    for (const url of ["http://chat.qwen.ai", "ftp://chat.qwen.ai", "not a url"]) {
      assert.match(reasonOf(check(url)) ?? "", /^UntrustedEndpoint: /, url)
    }
  })
})

describe("isLoopbackHost", () => {
  it("127.0.0.0/8, localhost and *.localhost, ::1 (bracketed or not), in any case", () => {
    for (const host of ["127.0.0.1", "127.3.2.1", "localhost", "LOCALHOST.", "api.localhost", "::1", "[::1]", "::ffff:127.0.0.1"]) {
      assert.isTrue(isLoopbackHost(host), host)
    }
  })

  it("nothing else, look-alikes included", () => {
    for (const host of ["128.0.0.1", "127.0.0.1.evil.com", "localhost.evil.com", "evillocalhost", "::2", "0.0.0.0", "qwen.ai"]) {
      assert.isFalse(isLoopbackHost(host), host)
    }
  })
})

// -------------------------------------------------------------------------------------------------
// Module boundaries: what the trust rules may load (oauth/'s own rule is in test/architecture.test.ts)

/** The relative modules `file` imports (type-only imports included: the rule is about source). */
const importsOf = (file: string): Array<string> => {
  const text = readFileSync(file, "utf8")
  const from = /^(?:import|export)\s+(?:type\s+)?(?:\*\s+as\s+\w+|\{[^}]*\}|\w+(?:\s*,\s*\{[^}]*\})?)\s+from\s+"([^"]+)"/gm
  const bare = /^import\s+"([^"]+)"/gm
  return [...text.matchAll(from), ...text.matchAll(bare)].map((m) => m[1] ?? "")
}

/** Every specifier reachable from `file` through relative imports. */
const reachableFrom = (file: string, seen = new Set<string>()): Set<string> => {
  if (seen.has(file)) return seen
  seen.add(file)
  for (const spec of importsOf(file)) {
    if (spec.startsWith(".")) reachableFrom(resolve(dirname(file), spec), seen)
    else seen.add(spec)
  }
  return seen
}

describe("module boundaries (start-up)", () => {
  const oauthDir = join(repoRoot, "src/oauth")

  it("the trust rules load no HTTP client (status is start-up benchmarked)", () => {
    const reached = [...reachableFrom(join(oauthDir, "Trust.ts"))]
    assert.include(reached, join(repoRoot, "src/domain/ApiBaseUrl.ts")) // the walk is real
    for (const spec of reached) {
      assert.notMatch(spec, /^effect\/http|^@effect\/platform|^undici|Transport\.ts$|ErrorClassification\.ts$/, spec)
    }
  })

  it("domain/ApiBaseUrl.ts is a leaf", () => {
    assert.deepStrictEqual(importsOf(join(repoRoot, "src/domain/ApiBaseUrl.ts")), [])
  })
})
