import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { CODER_REF, qwenModels } from "../../../src/store/openclaw/Ids.ts"
import { mergeLogin } from "../../../src/store/openclaw/Login.ts"
import { listModels, setDefaultModel } from "../../../src/store/openclaw/Models.ts"
import { OURS, userConfig } from "./fixtures.ts"

describe("models list / set", () => {
  const loggedIn = mergeLogin(userConfig, { baseUrl: OURS, setDefault: false }).config

  it("lists refs with alias, input and default", () => {
    assert.deepStrictEqual(listModels(loggedIn), [
      { ref: "openai/gpt-5", alias: "gpt", input: ["text", "image"], default: true },
      { ref: CODER_REF, alias: "qwen", input: ["text"], default: false },
      { ref: "qwen-portal/vision-model", alias: null, input: ["text", "image"], default: false }
    ])
    assert.deepStrictEqual(listModels({}), [])
  })

  it("lists a default that is not among the configured models", () => {
    assert.deepStrictEqual(listModels({ agents: { defaults: { model: "x/y" } } }), [
      { ref: "x/y", alias: null, input: [], default: true }
    ])
  })

  it("sets by ref and by alias, keeping fallbacks", () => {
    const byRef = Result.getOrThrow(setDefaultModel(loggedIn, "qwen-portal/vision-model"))
    assert.strictEqual(byRef.ref, "qwen-portal/vision-model")
    assert.deepStrictEqual((byRef.config as any).agents.defaults.model, {
      primary: "qwen-portal/vision-model",
      fallbacks: ["anthropic/claude-sonnet"]
    })
    const byAlias = Result.getOrThrow(setDefaultModel(loggedIn, "QWEN"))
    assert.strictEqual(byAlias.ref, CODER_REF)
    assert.strictEqual((byAlias.config as any).agents.defaults.model.primary, CODER_REF)
    assert.isTrue(byAlias.changed)
    assert.isFalse(Result.getOrThrow(setDefaultModel(byAlias.config, "qwen")).changed)
  })

  it("accepts a qwen-portal provider model missing from agents.defaults.models and adds it there", () => {
    const config = { models: { providers: { "qwen-portal": { models: qwenModels() } } } }
    const r = Result.getOrThrow(setDefaultModel(config, CODER_REF))
    assert.deepStrictEqual((r.config as any).agents.defaults, { models: { [CODER_REF]: {} }, model: { primary: CODER_REF } })
  })

  it("refuses an unknown ref with the known list", () => {
    const r = setDefaultModel(loggedIn, "anthropic/claude-opus")
    assert.isTrue(Result.isFailure(r))
    if (Result.isFailure(r)) {
      assert.strictEqual(r.failure._tag, "UnknownModelRef")
      assert.deepStrictEqual(r.failure.known, ["openai/gpt-5", CODER_REF, "qwen-portal/vision-model"])
      assert.strictEqual(
        r.failure.message,
        `Unknown model "anthropic/claude-opus". Known: openai/gpt-5, ${CODER_REF}, qwen-portal/vision-model`
      )
    }
  })
})
