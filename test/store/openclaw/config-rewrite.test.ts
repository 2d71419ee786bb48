import * as NodeServices from "@effect/platform-node/NodeServices"
import { assert, layer } from "@effect/vitest"
import { Effect, FileSystem } from "effect"
import { backupPathOf, listTimestamped } from "../../../src/store/openclaw/ConfigBackup.ts"
import { applyLogin } from "../../../src/store/openclaw/Login.ts"
import { OURS, provider, setup } from "./fixtures.ts"

layer(NodeServices.layer)("ConfigRewrite", (it) => {
  it.effect("a change by another program between read and rename makes the merge run again", () =>
    Effect.gen(function*() {
      const { fs, dir, files, json, writeUser } = yield* setup
      yield* writeUser(`{ gateway: { port: 1 } }`)
      let external = 0
      // Another program writes the config while our temp file is being prepared (before rename).
      const racing = FileSystem.FileSystem.of({
        ...fs,
        chmod: (path, mode) =>
          Effect.gen(function*() {
            if (path.includes(".openclaw.json.qwen-auth-") && external === 0) {
              external++
              yield* fs.writeFileString(files.openclawConfig, `{ gateway: { port: 2 }, other: true }`)
            }
            return yield* fs.chmod(path, mode)
          })
      })
      const r = yield* applyLogin(files, { baseUrl: OURS, setDefault: false }, {}).pipe(
        Effect.provideService(FileSystem.FileSystem, racing)
      )
      assert.strictEqual(external, 1)
      const c = yield* json(files.openclawConfig)
      assert.deepStrictEqual(c.gateway, { port: 2 })
      assert.isTrue(c.other)
      assert.deepStrictEqual(c.models.providers["qwen-portal"], provider(OURS))
      assert.include(r.wrote, files.openclawConfig)
      // Both versions are kept: the first backup holds the original, the next one what the redone
      // merge started from.
      assert.strictEqual(yield* fs.readFileString(backupPathOf(files.openclawConfig)), `{ gateway: { port: 1 } }`)
      const later = yield* listTimestamped(files.openclawConfig)
      assert.strictEqual(later.length, 1)
      assert.strictEqual(yield* fs.readFileString(later[0]!), `{ gateway: { port: 2 }, other: true }`)
      const leftovers = (yield* fs.readDirectory(`${dir}/state`)).filter((n) => n.endsWith(".tmp"))
      assert.deepStrictEqual(leftovers, [])
    }))

  it.effect("a file that keeps changing fails clearly and keeps the other program's content", () =>
    Effect.gen(function*() {
      const { fs, dir, files, read, writeUser } = yield* setup
      yield* writeUser(`{ n: 0 }`)
      let n = 0
      const racing = FileSystem.FileSystem.of({
        ...fs,
        chmod: (path, mode) =>
          Effect.gen(function*() {
            if (path.includes(".openclaw.json.qwen-auth-")) {
              yield* fs.writeFileString(files.openclawConfig, `{ n: ${++n} }`)
            }
            return yield* fs.chmod(path, mode)
          })
      })
      const error = yield* Effect.flip(
        applyLogin(files, { baseUrl: OURS, setDefault: false }, {}).pipe(Effect.provideService(FileSystem.FileSystem, racing))
      )
      assert.strictEqual(error._tag, "FileAccessError")
      assert.include(error.message, "another program kept changing it")
      assert.strictEqual(n, 2)
      assert.strictEqual(yield* read(files.openclawConfig), `{ n: 2 }`)
      assert.isFalse(yield* fs.exists(files.modelsJson))
      const leftovers = (yield* fs.readDirectory(`${dir}/state`)).filter((f) => f.endsWith(".tmp"))
      assert.deepStrictEqual(leftovers, [])
    }))
})
