import { QWEN_MODELS } from "../support/filesMd.ts"
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import {
  CODER_REF,
  DEFAULT_MODEL_HINT,
  listModels,
  mergeLogin,
  mergeModelsFile,
  qwenModels,
  setDefaultModel,
  type JsonObject
} from "../../src/store/ConfigMerge.ts"

const OURS = "https://portal.qwen.ai/v1"

/** files.md's "what a login adds", verbatim (with --set-default). */
const documented = {
  plugins: { entries: { "qwen-portal-auth": { enabled: true } } },
  models: {
    providers: {
      "qwen-portal": {
        baseUrl: OURS,
        apiKey: "qwen-oauth",
        api: "openai-completions",
        models: QWEN_MODELS
      }
    }
  },
  agents: {
    defaults: {
      models: { "qwen-portal/coder-model": { alias: "qwen" }, "qwen-portal/vision-model": {} },
      model: { primary: "qwen-portal/coder-model" }
    }
  },
  auth: { profiles: { "qwen-portal:default": { provider: "qwen-portal", mode: "oauth" } } }
}

const userConfig: JsonObject = {
  gateway: { port: 18789 },
  models: {
    mode: "merge",
    providers: { openai: { baseUrl: "https://api.openai.com/v1", models: [{ id: "gpt-5", input: ["text", "image"] }] } }
  },
  agents: {
    defaults: {
      workspace: "~/work",
      model: { primary: "openai/gpt-5", fallbacks: ["anthropic/claude-sonnet"] },
      models: { "openai/gpt-5": { alias: "gpt" } }
    },
    list: [{ id: "main" }]
  },
  auth: { profiles: { "openai:default": { provider: "openai", mode: "api_key" } } }
}

describe("mergeLogin", () => {
  it("fills an empty config exactly as files.md shows, in its key order", () => {
    const r = mergeLogin({}, { baseUrl: OURS, setDefault: true })
    assert.deepStrictEqual(r.config, documented)
    assert.strictEqual(JSON.stringify(r.config), JSON.stringify(documented))
    assert.isTrue(r.changed)
    assert.isTrue(r.baseUrlIsOurs)
    assert.deepStrictEqual(r.warnings, [])
    assert.deepStrictEqual(r.notices, [])
  })

  it("without --set-default leaves the default alone and returns the hint", () => {
    const r = mergeLogin(userConfig, { baseUrl: OURS, setDefault: false })
    assert.deepStrictEqual(r.notices, [DEFAULT_MODEL_HINT])
    const agents = r.config["agents"] as any
    assert.deepStrictEqual(agents.defaults.model, { primary: "openai/gpt-5", fallbacks: ["anthropic/claude-sonnet"] })
    const fresh = mergeLogin({}, { baseUrl: OURS, setDefault: false }).config as any
    assert.isUndefined(fresh.agents.defaults.model)
  })

  it("keeps every other key, provider, alias and profile", () => {
    const r = mergeLogin(userConfig, { baseUrl: OURS, setDefault: false })
    const c = r.config as any
    assert.deepStrictEqual(c.gateway, { port: 18789 })
    assert.strictEqual(c.models.mode, "merge")
    assert.deepStrictEqual(c.models.providers.openai, (userConfig as any).models.providers.openai)
    assert.strictEqual(c.agents.defaults.workspace, "~/work")
    assert.deepStrictEqual(c.agents.list, [{ id: "main" }])
    assert.deepStrictEqual(c.agents.defaults.models["openai/gpt-5"], { alias: "gpt" })
    assert.deepStrictEqual(c.agents.defaults.models[CODER_REF], { alias: "qwen" })
    assert.deepStrictEqual(c.auth.profiles["openai:default"], { provider: "openai", mode: "api_key" })
    assert.deepStrictEqual(c.auth.profiles["qwen-portal:default"], { provider: "qwen-portal", mode: "oauth" })
    assert.deepStrictEqual(c.models.providers["qwen-portal"], documented.models.providers["qwen-portal"])
    // The input is not mutated.
    assert.isUndefined((userConfig as any).plugins)
  })

  it("--set-default keeps existing fallbacks and says what it replaced", () => {
    const r = mergeLogin(userConfig, { baseUrl: OURS, setDefault: true })
    assert.deepStrictEqual((r.config as any).agents.defaults.model, {
      primary: CODER_REF,
      fallbacks: ["anthropic/claude-sonnet"]
    })
    assert.deepStrictEqual(r.notices, [`Default model changed from openai/gpt-5 to ${CODER_REF}.`])
  })

  it("--set-default turns a string default into { primary }", () => {
    const config = { agents: { defaults: { model: "openai/gpt-5" } } }
    const r = mergeLogin(config, { baseUrl: OURS, setDefault: true })
    assert.deepStrictEqual((r.config as any).agents.defaults.model, { primary: CODER_REF })
    const already = mergeLogin({ agents: { defaults: { model: CODER_REF } } }, { baseUrl: OURS, setDefault: false })
    assert.deepStrictEqual(already.notices, [])
  })

  it("is idempotent: a second merge changes nothing", () => {
    const first = mergeLogin(userConfig, { baseUrl: OURS, setDefault: true })
    const second = mergeLogin(first.config, { baseUrl: OURS, setDefault: true, lastWrittenBaseUrl: OURS })
    assert.isFalse(second.changed)
    assert.deepStrictEqual(second.config, first.config)
  })

  it("does not take the alias qwen from another model, and warns", () => {
    const config = { agents: { defaults: { models: { "openrouter/qwen3-coder": { alias: "Qwen" } } } } }
    const r = mergeLogin(config, { baseUrl: OURS, setDefault: false })
    const models = (r.config as any).agents.defaults.models
    assert.deepStrictEqual(models[CODER_REF], {})
    assert.deepStrictEqual(models["openrouter/qwen3-coder"], { alias: "Qwen" })
    assert.deepStrictEqual(r.warnings, [
      `The alias "qwen" already names openrouter/qwen3-coder; it was not added to ${CODER_REF}.`
    ])
  })

  it("keeps a user's own alias and extra keys on our model entries", () => {
    const config = {
      agents: { defaults: { models: { [CODER_REF]: { alias: "qc", params: { t: 1 } }, "qwen-portal/vision-model": { x: 1 } } } }
    }
    const r = mergeLogin(config, { baseUrl: OURS, setDefault: false })
    const models = (r.config as any).agents.defaults.models
    assert.deepStrictEqual(models[CODER_REF], { alias: "qc", params: { t: 1 } })
    assert.deepStrictEqual(models["qwen-portal/vision-model"], { x: 1 })
    assert.strictEqual(r.warnings.length, 1)
  })

  it("keeps a user's baseUrl but replaces the one we wrote last", () => {
    const withUrl = (baseUrl: string) => ({ models: { providers: { "qwen-portal": { baseUrl, models: [] } } } })
    const user = mergeLogin(withUrl("https://proxy.example/v1"), {
      baseUrl: "https://dashscope.qwen.ai/v1",
      setDefault: false,
      lastWrittenBaseUrl: OURS
    })
    assert.strictEqual((user.config as any).models.providers["qwen-portal"].baseUrl, "https://proxy.example/v1")
    assert.strictEqual(user.baseUrlUsed, "https://proxy.example/v1")
    assert.isFalse(user.baseUrlIsOurs)
    assert.match(user.warnings[0] ?? "", /Keeping your baseUrl https:\/\/proxy\.example\/v1/)

    const ours = mergeLogin(withUrl(OURS), {
      baseUrl: "https://dashscope.qwen.ai/v1",
      setDefault: false,
      lastWrittenBaseUrl: OURS
    })
    assert.strictEqual((ours.config as any).models.providers["qwen-portal"].baseUrl, "https://dashscope.qwen.ai/v1")
    assert.isTrue(ours.baseUrlIsOurs)
    // OpenClaw's own login patch writes `models: []`: that list is ours to fill.
    assert.deepStrictEqual((ours.config as any).models.providers["qwen-portal"].models, qwenModels())
  })

  it("replaces the provider's models only when absent, empty or ours", () => {
    const custom = [{ id: "qwen3-coder-plus", input: ["text"] }]
    const mk = (models: unknown) => ({ models: { providers: { "qwen-portal": { models } } } })
    const kept = mergeLogin(mk(custom), { baseUrl: OURS, setDefault: false })
    assert.deepStrictEqual((kept.config as any).models.providers["qwen-portal"].models, custom)
    assert.include(kept.warnings.join("\n"), "Keeping your own models list")
    const older = [{ id: "coder-model" }]
    const replaced = mergeLogin(mk(older), { baseUrl: OURS, setDefault: false, lastWrittenModels: older })
    assert.deepStrictEqual((replaced.config as any).models.providers["qwen-portal"].models, qwenModels())
  })

  it("warns when plugins.allow would block the plugin", () => {
    const r = mergeLogin({ plugins: { allow: ["other"] } }, { baseUrl: OURS, setDefault: false })
    assert.include(r.warnings.join("\n"), "plugins.allow does not list qwen-portal-auth")
  })
})

describe("mergeModelsFile", () => {
  it("adds the provider under providers and keeps the rest", () => {
    const file = { providers: { openai: { baseUrl: "https://api.openai.com/v1" } }, other: 1 }
    const r = mergeModelsFile(file, { baseUrl: OURS, setDefault: false })
    assert.deepStrictEqual(r.config, {
      providers: { openai: { baseUrl: "https://api.openai.com/v1" }, "qwen-portal": documented.models.providers["qwen-portal"] },
      other: 1
    })
    assert.isFalse(mergeModelsFile(r.config, { baseUrl: OURS, setDefault: false, lastWrittenBaseUrl: OURS }).changed)
  })
})

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
