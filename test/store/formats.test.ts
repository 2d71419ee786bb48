import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as OpenClawProfiles from "../../src/store/OpenClawProfiles.ts"
import * as QwenCodeFile from "../../src/store/QwenCodeFile.ts"
import * as StateFile from "../../src/store/StateFile.ts"
import { creds, profileJson, qwenCredsJson } from "./helpers.ts"

const P = "/x/oauth_creds.json"
const A = "/x/auth-profiles.json"
const S = "/x/qwen-auth.json"

describe("QwenCodeFile", () => {
  it.effect("round trip keeps unknown fields and their order", () =>
    Effect.gen(function*() {
      const text = JSON.stringify(qwenCredsJson("1", 1_000, { id_token: "idt", custom: { nested: [1, 2] }, zeta: "z" }))
      const { credentials, raw } = yield* QwenCodeFile.decode(P, text)
      assert.strictEqual(Redacted.value(credentials.accessToken), "access-1")
      assert.strictEqual(Redacted.value(credentials.refreshToken!), "refresh-1")
      assert.strictEqual(credentials.expiresAt, 1_000)
      assert.strictEqual(credentials.resourceUrl, "portal.qwen.ai")
      assert.strictEqual(Redacted.value(credentials.idToken!), "idt")
      const next = JSON.parse(QwenCodeFile.encode(creds("2", 2_000, { resourceUrl: "portal.qwen.ai" }), raw))
      assert.deepStrictEqual(next, {
        access_token: "access-2",
        token_type: "Bearer",
        refresh_token: "refresh-2",
        resource_url: "portal.qwen.ai",
        expiry_date: 2_000,
        custom: { nested: [1, 2] },
        zeta: "z"
      })
      assert.deepStrictEqual(Object.keys(next).slice(0, 3), ["access_token", "token_type", "refresh_token"])
    }))

  it.effect("a new login without resource_url does not inherit the old one", () =>
    Effect.gen(function*() {
      const { raw } = yield* QwenCodeFile.decode(P, JSON.stringify(qwenCredsJson("1", 1)))
      const next = JSON.parse(QwenCodeFile.encode(creds("2", 2), raw))
      assert.isFalse("resource_url" in next)
      assert.strictEqual(next.token_type, "Bearer")
    }))

  const bad: ReadonlyArray<[string, string, string]> = [
    ["malformed JSON", "{\"access_token\": \"SECRET-TOKEN\",", "is not valid JSON"],
    ["a JSON array", "[1,2]", "expected a JSON object"],
    ["expiry_date as a string", JSON.stringify(qwenCredsJson("1", 1, { expiry_date: "soon" })), "field \"expiry_date\": expected number"],
    ["a missing refresh_token", JSON.stringify({ ...qwenCredsJson("1", 1), refresh_token: undefined }), "field \"refresh_token\": missing key"],
    ["an empty access_token", JSON.stringify(qwenCredsJson("1", 1, { access_token: "" })), "field \"access_token\""],
    ["a numeric token_type", JSON.stringify(qwenCredsJson("1", 1, { token_type: 5 })), "field \"token_type\": expected string"]
  ]
  for (const [name, text, expected] of bad) {
    it.effect(`${name} is a MalformedFile naming file and field, without content`, () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(QwenCodeFile.decode(P, text))
        assert.strictEqual(error._tag, "MalformedFile")
        assert.strictEqual(error.path, P)
        assert.include(error.problem, expected)
        assert.notInclude(error.message, "SECRET")
        assert.notInclude(error.message, "access-1")
      }))
  }
})

describe("OpenClawProfiles", () => {
  const store = {
    version: 1,
    order: { "qwen-portal": ["qwen-portal:default"] },
    profiles: {
      "anthropic:default": { type: "api_key", provider: "anthropic", key: "sk-other" },
      "qwen-portal:qwen-cli": profileJson("cli", 5),
      "qwen-portal:default": profileJson("1", 1_000, { email: "me@example.com" })
    },
    lastGood: { "qwen-portal": "qwen-portal:default" }
  }

  it.effect("round trip keeps other profiles, unknown keys and our profile's extra fields", () =>
    Effect.gen(function*() {
      const { profile, raw } = yield* OpenClawProfiles.decode(A, JSON.stringify(store))
      assert.strictEqual(profile._tag, "Present")
      if (profile._tag !== "Present") return
      assert.strictEqual(Redacted.value(profile.credentials.accessToken), "access-1")
      assert.strictEqual(profile.credentials.expiresAt, 1_000)
      const next = JSON.parse(OpenClawProfiles.encode(creds("2", 2_000), raw))
      assert.deepStrictEqual(next, {
        ...store,
        profiles: {
          ...store.profiles,
          "qwen-portal:default": profileJson("2", 2_000, { email: "me@example.com" })
        }
      })
    }))

  it.effect("credentials without a refresh token are written without `refresh`", () =>
    Effect.gen(function*() {
      const { raw } = yield* OpenClawProfiles.decode(A, JSON.stringify(store))
      const next = JSON.parse(OpenClawProfiles.encode(creds("3", 3, { refresh: null }), raw))
      assert.isFalse("refresh" in next.profiles["qwen-portal:default"])
      const again = yield* OpenClawProfiles.decode(A, JSON.stringify(next))
      assert.strictEqual(again.profile._tag === "Present" ? again.profile.credentials.refreshToken : "x", undefined)
    }))

  it.effect("removing our profile keeps everything else", () =>
    Effect.gen(function*() {
      const { raw } = yield* OpenClawProfiles.decode(A, JSON.stringify(store))
      const next = JSON.parse(OpenClawProfiles.encode(undefined, raw))
      const { "qwen-portal:default": _ours, ...others } = store.profiles
      assert.deepStrictEqual(next, { ...store, profiles: others })
    }))

  it.effect("a new store is created as version 1", () =>
    Effect.sync(() => {
      const next = JSON.parse(OpenClawProfiles.encode(creds("1", 1), undefined))
      assert.deepStrictEqual(next, { version: 1, profiles: { "qwen-portal:default": profileJson("1", 1) } })
    }))

  it.effect("an unknown store version is refused clearly", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(OpenClawProfiles.decode(A, JSON.stringify({ ...store, version: 2 })))
      assert.strictEqual(error._tag, "MalformedFile")
      assert.include(error.message, A)
      assert.include(error.problem, "version 2")
      assert.include(error.problem, "will not rewrite")
    }))

  it.effect("wrong envelope types name the field", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(OpenClawProfiles.decode(A, JSON.stringify({ version: 1, profiles: [] })))
      assert.include(error.problem, "field \"profiles\"")
      const error2 = yield* Effect.flip(OpenClawProfiles.decode(A, JSON.stringify({ version: "1", profiles: {} })))
      assert.include(error2.problem, "field \"version\"")
    }))

  it.effect("a broken qwen-portal:default entry is Invalid (named), the store still readable", () =>
    Effect.gen(function*() {
      const broken = { ...store, profiles: { ...store.profiles, "qwen-portal:default": profileJson("1", 1, { expires: "later" }) } }
      const { profile } = yield* OpenClawProfiles.decode(A, JSON.stringify(broken))
      assert.strictEqual(profile._tag, "Invalid")
      if (profile._tag !== "Invalid") return
      assert.include(profile.problem.problem, "field \"profiles.qwen-portal:default.expires\"")
    }))
})

describe("StateFile", () => {
  it.effect("round trip keeps unknown fields; lists default to empty", () =>
    Effect.gen(function*() {
      const { state, raw } = yield* StateFile.decode(S, JSON.stringify({ version: 1, future: { a: 1 }, resourceUrl: "r" }))
      assert.deepStrictEqual(state.refusedRefreshTokens, [])
      assert.strictEqual(state.resourceUrl, "r")
      const next = StateFile.withLoggedOut(StateFile.withRefused(state, Redacted.make("t1")), Redacted.make("t2"))
      const json = JSON.parse(StateFile.encode({ ...next, issuedLifetimeSeconds: 21600 }, raw))
      assert.deepStrictEqual(json.future, { a: 1 })
      assert.strictEqual(json.version, 1)
      assert.strictEqual(json.issuedLifetimeSeconds, 21600)
      assert.lengthOf(json.refusedRefreshTokens, 1)
      assert.match(json.refusedRefreshTokens[0], /^[0-9a-f]{64}$/)
      assert.notInclude(JSON.stringify(json), "t1")
      assert.notInclude(JSON.stringify(json), "t2")
    }))

  it.effect("blockedReason reports logged-out and refused tokens", () =>
    Effect.sync(() => {
      const c = creds("1", 1)
      assert.strictEqual(StateFile.blockedReason(StateFile.emptyState, c), undefined)
      assert.strictEqual(StateFile.blockedReason(StateFile.withRefused(StateFile.emptyState, c.refreshToken!), c), "refused")
      assert.strictEqual(StateFile.blockedReason(StateFile.withLoggedOut(StateFile.emptyState, c.refreshToken!), c), "logged-out")
    }))

  it.effect("an unknown version or wrong types are MalformedFile", () =>
    Effect.gen(function*() {
      const e1 = yield* Effect.flip(StateFile.decode(S, JSON.stringify({ version: 3 })))
      assert.include(e1.problem, "version 3")
      const e2 = yield* Effect.flip(StateFile.decode(S, JSON.stringify({ version: 1, loggedOut: "x" })))
      assert.include(e2.problem, "field \"loggedOut\"")
    }))
})
