import * as NodeServices from "@effect/platform-node/NodeServices"
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import JSON5 from "json5"
import { dirname } from "node:path"
import { backupPathOf } from "../../../src/store/openclaw/ConfigBackup.ts"
import { sha256Hex } from "../../../src/store/openclaw/ConfigFile.ts"
import { CODER_REF, qwenModels } from "../../../src/store/openclaw/Ids.ts"
import { applyLogin, mergeLogin } from "../../../src/store/openclaw/Login.ts"
import { DEFAULT_MODEL_HINT } from "../../../src/store/openclaw/Models.ts"
import { documented, documentedText, insertedOnly, OURS, provider, setup, userConfig, userJson5 } from "./fixtures.ts"

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

  it("keeps a user's own non-oauth auth profile under our id, and says so", () => {
    const mine = { provider: "qwen-portal", mode: "api_key", note: "my DashScope key" }
    const r = mergeLogin({ auth: { profiles: { "qwen-portal:default": mine } } }, { baseUrl: OURS, setDefault: false })
    assert.deepStrictEqual((r.config as any).auth.profiles["qwen-portal:default"], mine)
    assert.include(r.warnings.join("\n"), `auth.profiles.qwen-portal:default is your own "api_key" profile; it was left as it is`)
  })

  it("warns when plugins.allow would block the plugin", () => {
    const r = mergeLogin({ plugins: { allow: ["other"] } }, { baseUrl: OURS, setDefault: false })
    assert.include(r.warnings.join("\n"), "plugins.allow does not list qwen-portal-auth")
  })
})

layer(NodeServices.layer)("Login", (it) => {
  it.effect("fresh home: writes both files exactly as files.md shows, 0600 in 0700 folders", () =>
    Effect.gen(function*() {
      const { dir, files, json, mode, read, fs } = yield* setup
      const r = yield* applyLogin(files, { baseUrl: OURS, setDefault: true }, {})
      assert.strictEqual(yield* read(files.openclawConfig), documentedText)
      assert.deepStrictEqual(yield* json(files.modelsJson), { providers: { "qwen-portal": provider(OURS) } })
      assert.strictEqual(yield* mode(files.openclawConfig), 0o600)
      assert.strictEqual(yield* mode(files.modelsJson), 0o600)
      assert.strictEqual(yield* mode(`${dir}/state`), 0o700)
      assert.strictEqual(yield* mode(`${dir}/state/agents/main/agent`), 0o700)
      assert.deepStrictEqual(r.wrote, [files.openclawConfig, files.modelsJson])
      assert.isUndefined(r.backup)
      assert.isFalse(yield* fs.exists(backupPathOf(files.openclawConfig)))
      assert.deepStrictEqual(r.lastWritten, { baseUrl: OURS, configSha256: sha256Hex(documentedText) })
      assert.strictEqual(r.defaultModel, "qwen-portal/coder-model")
      assert.deepStrictEqual(r.notices, [])
    }))

  it.effect("a user's JSON5 config: everything kept, original bytes and mode in the backup; a second run is a no-op", () =>
    Effect.gen(function*() {
      const { fs, files, json, mode, read, writeUser } = yield* setup
      yield* writeUser(userJson5, 0o640)
      const first = yield* applyLogin(files, { baseUrl: OURS, setDefault: false }, {})
      const backup = backupPathOf(files.openclawConfig)
      assert.strictEqual(first.backup, backup)
      assert.strictEqual(yield* read(backup), userJson5)
      assert.strictEqual(yield* mode(backup), 0o640)
      assert.strictEqual(yield* mode(files.openclawConfig), 0o640)
      assert.deepStrictEqual(first.notices, ["Default model available: qwen-portal/coder-model (use --set-default to apply)"])
      assert.deepStrictEqual(first.warnings, [])
      assert.strictEqual(first.defaultModel, "openai/gpt-5")

      // Edited in place: the user's text (comments, quotes, trailing commas) is all still there.
      const text = yield* read(files.openclawConfig)
      assert.isTrue(insertedOnly(userJson5, text), text)
      assert.include(text, "// my OpenClaw config\n{\n  gateway: { port: 18789, },            // trailing commas are fine in JSON5\n")
      const c = JSON5.parse(text)
      assert.deepStrictEqual(c.gateway, { port: 18789 })
      assert.deepStrictEqual(c.models.providers.openai, {
        baseUrl: "https://api.openai.com/v1",
        models: [{ id: "gpt-5", input: ["text", "image"] }]
      })
      assert.deepStrictEqual(c.models.providers["qwen-portal"], provider(OURS))
      assert.deepStrictEqual(c.agents.defaults.model, { primary: "openai/gpt-5", fallbacks: ["anthropic/claude-sonnet"] })
      assert.deepStrictEqual(c.agents.defaults.models, {
        "openai/gpt-5": { alias: "gpt" },
        "qwen-portal/coder-model": { alias: "qwen" },
        "qwen-portal/vision-model": {}
      })

      // Second run: we wrote last, nothing to change, so no backup and no write.
      yield* fs.remove(backup)
      const configBefore = yield* fs.stat(files.openclawConfig)
      const second = yield* applyLogin(files, { baseUrl: OURS, setDefault: false }, first.lastWritten)
      assert.deepStrictEqual(second.wrote, [])
      assert.isUndefined(second.backup)
      assert.isFalse(yield* fs.exists(backup))
      assert.strictEqual(yield* read(files.openclawConfig), text)
      assert.deepStrictEqual((yield* fs.stat(files.openclawConfig)).mtime, configBefore.mtime)
      assert.deepStrictEqual(second.lastWritten, first.lastWritten)

      // --set-default now: a config we wrote last is rewritten without a backup, fallbacks kept.
      const third = yield* applyLogin(files, { baseUrl: OURS, setDefault: true }, second.lastWritten)
      assert.deepStrictEqual(third.wrote, [files.openclawConfig])
      assert.isFalse(yield* fs.exists(backup))
      assert.deepStrictEqual((yield* json(files.openclawConfig)).agents.defaults.model, {
        primary: "qwen-portal/coder-model",
        fallbacks: ["anthropic/claude-sonnet"]
      })
    }))

  it.effect("a user's baseUrl is kept in both files; ours is replaced by the new one", () =>
    Effect.gen(function*() {
      const { fs, files, json } = yield* setup
      const first = yield* applyLogin(files, { baseUrl: OURS, setDefault: false }, {})
      // The server moves us: our own value follows.
      const moved = "https://dashscope.qwen.ai/v1"
      const second = yield* applyLogin(files, { baseUrl: moved, setDefault: false }, first.lastWritten)
      assert.strictEqual((yield* json(files.openclawConfig)).models.providers["qwen-portal"].baseUrl, moved)
      assert.strictEqual((yield* json(files.modelsJson)).providers["qwen-portal"].baseUrl, moved)
      assert.strictEqual(second.lastWritten.baseUrl, moved)

      // The user points the provider at a proxy: it stays, and is not recorded as ours.
      const c = yield* json(files.openclawConfig)
      c.models.providers["qwen-portal"].baseUrl = "http://127.0.0.1:4000/v1"
      yield* fs.writeFileString(files.openclawConfig, JSON.stringify(c))
      const third = yield* applyLogin(files, { baseUrl: OURS, setDefault: false }, second.lastWritten)
      assert.strictEqual((yield* json(files.openclawConfig)).models.providers["qwen-portal"].baseUrl, "http://127.0.0.1:4000/v1")
      assert.strictEqual((yield* json(files.modelsJson)).providers["qwen-portal"].baseUrl, "http://127.0.0.1:4000/v1")
      assert.strictEqual(third.baseUrlUsed, "http://127.0.0.1:4000/v1")
      assert.strictEqual(third.lastWritten.baseUrl, moved)
      assert.match(third.warnings[0] ?? "", /Keeping your baseUrl http:\/\/127\.0\.0\.1:4000\/v1/)
      // The user's config already held everything else: only models.json changed.
      assert.deepStrictEqual(third.wrote, [files.modelsJson])
      assert.isUndefined(third.backup)
      assert.strictEqual(third.lastWritten.configSha256, second.lastWritten.configSha256)
    }))

  it.effect("an unparsable models.json stops the login before openclaw.json is touched", () =>
    Effect.gen(function*() {
      const { fs, files, read, writeUser } = yield* setup
      yield* writeUser(userJson5)
      yield* fs.makeDirectory(dirname(files.modelsJson), { recursive: true })
      yield* fs.writeFileString(files.modelsJson, `{"providers": [`)
      const error = yield* Effect.flip(applyLogin(files, { baseUrl: OURS, setDefault: false }, {}))
      assert.strictEqual(error._tag, "MalformedFile")
      assert.include(error.message, files.modelsJson)
      assert.strictEqual(yield* read(files.openclawConfig), userJson5)
    }))
})
