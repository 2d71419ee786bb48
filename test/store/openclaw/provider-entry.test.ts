import * as NodeServices from "@effect/platform-node/NodeServices"
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { dirname } from "node:path"
import { qwenModels } from "../../../src/store/openclaw/Ids.ts"
import { applyLogin } from "../../../src/store/openclaw/Login.ts"
import { mergeModelsFile } from "../../../src/store/openclaw/ProviderEntry.ts"
import { documented, OURS, provider, setup } from "./fixtures.ts"

describe("mergeModelsFile", () => {
  it("adds the provider under providers and keeps the rest", () => {
    const file = { providers: { openai: { baseUrl: "https://api.openai.com/v1" } }, other: 1 }
    const r = mergeModelsFile(file, { baseUrl: OURS })
    assert.deepStrictEqual(r.config, {
      providers: { openai: { baseUrl: "https://api.openai.com/v1" }, "qwen-portal": documented.models.providers["qwen-portal"] },
      other: 1
    })
    assert.isFalse(mergeModelsFile(r.config, { baseUrl: OURS, lastWrittenBaseUrl: OURS }).changed)
  })
})

layer(NodeServices.layer)("ProviderEntry", (it) => {
  it.effect("models.json keeps other providers and keys", () =>
    Effect.gen(function*() {
      const { fs, files, json } = yield* setup
      yield* fs.makeDirectory(dirname(files.modelsJson), { recursive: true })
      yield* fs.writeFileString(files.modelsJson, `{"providers":{"openai":{"baseUrl":"x"}},"note":1}`)
      yield* applyLogin(files, { baseUrl: OURS, setDefault: false }, {})
      assert.deepStrictEqual(yield* json(files.modelsJson), {
        providers: { openai: { baseUrl: "x" }, "qwen-portal": provider(OURS) },
        note: 1
      })
    }))

  it.effect("qwenModels is what the provider entry carries", () =>
    Effect.sync(() => assert.deepStrictEqual(qwenModels(), provider(OURS).models)))
})
