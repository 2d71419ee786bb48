import * as NodeServices from "@effect/platform-node/NodeServices"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { backupPathOf } from "../../../src/store/openclaw/ConfigBackup.ts"
import { applyLogin, checkWritable } from "../../../src/store/openclaw/Login.ts"
import { OURS, setup } from "./fixtures.ts"

layer(NodeServices.layer)("ConfigFile", (it) => {
  it.effect("an unparsable config is refused with file and position, and nothing is written", () =>
    Effect.gen(function*() {
      const { fs, files, read, writeUser } = yield* setup
      const broken = `{\n  models: {\n    providers: ,\n  }\n}\n`
      yield* writeUser(broken)
      const check = yield* Effect.flip(checkWritable(files))
      assert.strictEqual(check._tag, "MalformedFile")
      const error = yield* Effect.flip(applyLogin(files, { baseUrl: OURS, setDefault: false }, {}))
      assert.strictEqual(error._tag, "MalformedFile")
      assert.strictEqual(
        error.message,
        `${files.openclawConfig}: not valid JSON5 (line 3, column 16: invalid character ',')`
      )
      assert.strictEqual(yield* read(files.openclawConfig), broken)
      assert.isFalse(yield* fs.exists(files.modelsJson))
      assert.isFalse(yield* fs.exists(backupPathOf(files.openclawConfig)))
    }))
})
