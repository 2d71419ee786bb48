import * as NodeServices from "@effect/platform-node/NodeServices"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { readConfig } from "../../../src/store/openclaw/ConfigFile.ts"
import { readConfigLazy } from "../../../src/store/openclaw/ConfigFileLazy.ts"
import { setup, userJson5 } from "./fixtures.ts"

layer(NodeServices.layer)("ConfigFileLazy", (it) => {
  it.effect("reads every file exactly as readConfig does, values and errors alike", () =>
    Effect.gen(function*() {
      const { files, writeUser } = yield* setup
      const both = Effect.gen(function*() {
        const eager = yield* Effect.result(readConfig(files.openclawConfig))
        const lazy = yield* Effect.result(readConfigLazy(files.openclawConfig))
        return { eager, lazy }
      })
      const missing = yield* both
      assert.deepStrictEqual(missing.lazy, missing.eager)
      for (const text of [`{"a":{"b":[1,2]}}`, userJson5, "", "  \n", "[1]", "42", "{ agents: ", `{"a":1,}`]) {
        yield* writeUser(text)
        const { eager, lazy } = yield* both
        if (eager._tag === "Success") assert.deepStrictEqual(lazy, eager, text)
        else {
          assert.strictEqual(lazy._tag, "Failure", text)
          if (lazy._tag === "Failure") assert.strictEqual(lazy.failure.message, eager.failure.message, text)
        }
      }
    }))
})
