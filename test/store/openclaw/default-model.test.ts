import * as NodeServices from "@effect/platform-node/NodeServices"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { sha256Hex } from "../../../src/store/openclaw/ConfigFile.ts"
import { applyDefaultModel, readModelRows } from "../../../src/store/openclaw/DefaultModel.ts"
import { applyLogin } from "../../../src/store/openclaw/Login.ts"
import { OURS, setup, userJson5 } from "./fixtures.ts"

layer(NodeServices.layer)("DefaultModel", (it) => {
  it.effect("models list and models set (by ref, by alias, unknown)", () =>
    Effect.gen(function*() {
      const { files, json, read, writeUser } = yield* setup
      assert.deepStrictEqual(yield* readModelRows(files.openclawConfig), [])
      yield* writeUser(userJson5)
      const login = yield* applyLogin(files, { baseUrl: OURS, setDefault: false }, {})
      assert.deepStrictEqual(yield* readModelRows(files.openclawConfig), [
        { ref: "openai/gpt-5", alias: "gpt", input: ["text", "image"], default: true },
        { ref: "qwen-portal/coder-model", alias: "qwen", input: ["text"], default: false },
        { ref: "qwen-portal/vision-model", alias: null, input: ["text", "image"], default: false }
      ])

      const byAlias = yield* applyDefaultModel(files.openclawConfig, "qwen", login.lastWritten)
      assert.strictEqual(byAlias.ref, "qwen-portal/coder-model")
      assert.isTrue(byAlias.wrote)
      assert.isUndefined(byAlias.backup)
      assert.deepStrictEqual((yield* json(files.openclawConfig)).agents.defaults.model, {
        primary: "qwen-portal/coder-model",
        fallbacks: ["anthropic/claude-sonnet"]
      })
      assert.strictEqual(byAlias.lastWritten.configSha256, sha256Hex(yield* read(files.openclawConfig)))

      const again = yield* applyDefaultModel(files.openclawConfig, "qwen-portal/coder-model", byAlias.lastWritten)
      assert.isFalse(again.wrote)

      const byRef = yield* applyDefaultModel(files.openclawConfig, "openai/gpt-5", again.lastWritten)
      assert.strictEqual(byRef.ref, "openai/gpt-5")
      assert.strictEqual((yield* json(files.openclawConfig)).agents.defaults.model.primary, "openai/gpt-5")

      const before = yield* read(files.openclawConfig)
      const unknown = yield* Effect.flip(applyDefaultModel(files.openclawConfig, "nope/model", byRef.lastWritten))
      assert.strictEqual(unknown._tag, "UnknownModelRef")
      assert.include(unknown.message, "Known: openai/gpt-5, qwen-portal/coder-model, qwen-portal/vision-model")
      assert.strictEqual(yield* read(files.openclawConfig), before)
    }))
})
