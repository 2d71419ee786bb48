/**
 * Backups of `openclaw.json` (issue 13): the first is never overwritten, later ones are
 * timestamped (UTC) and the newest five kept, each with the config's mode at the time.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { backUp, backupPathOf, KEPT_BACKUPS, listTimestamped, timestampedBackupPath } from "../../../src/store/openclaw/ConfigBackup.ts"
import type { LastWritten } from "../../../src/store/openclaw/ConfigFile.ts"
import { applyLogin } from "../../../src/store/openclaw/Login.ts"
import { OURS, setup } from "./fixtures.ts"

const T0 = Date.UTC(2026, 10, 28, 9, 5, 7)

layer(NodeServices.layer)("ConfigBackup", (it) => {
  it.effect("repeated logins with outside edits between: first backup kept forever, five newest timestamped, modes kept", () =>
    Effect.gen(function*() {
      const { fs, files, read, mode, writeUser } = yield* setup
      yield* TestClock.setTime(T0)
      const original = `// the user's original\n{ gateway: { port: 1 } }\n`
      yield* writeUser(original, 0o640)
      let last: LastWritten = {}
      const first = yield* applyLogin(files, { baseUrl: OURS, setDefault: true }, last)
      last = first.lastWritten
      const bak = backupPathOf(files.openclawConfig)
      assert.strictEqual(first.backup, bak)

      const edits: Array<string> = []
      for (let i = 1; i <= 7; i++) {
        // The user changes the config between two qwen-auth writes (their own default model),
        // and `login --set-default` sets ours again.
        yield* TestClock.adjust("90 seconds")
        const edited = (yield* read(files.openclawConfig))
          .replace(/port: \d+/, `port: ${100 + i}`)
          .replace(/primary: "[^"]+"/, `primary: "user/model-${i}"`)
        yield* writeUser(edited, i % 2 === 0 ? 0o600 : 0o644)
        edits.push(edited)
        const r = yield* applyLogin(files, { baseUrl: OURS, setDefault: true }, last)
        last = r.lastWritten
        assert.strictEqual(r.backup, timestampedBackupPath(files.openclawConfig, T0 + i * 90_000))
        assert.strictEqual(yield* read(r.backup!), edited)
        assert.strictEqual(yield* mode(r.backup!), i % 2 === 0 ? 0o600 : 0o644)
      }
      // The first one still holds the original, with its mode.
      assert.strictEqual(yield* read(bak), original)
      assert.strictEqual(yield* mode(bak), 0o640)
      const kept = yield* listTimestamped(files.openclawConfig)
      assert.strictEqual(kept.length, KEPT_BACKUPS)
      assert.deepStrictEqual(yield* Effect.forEach(kept, read), edits.slice(-KEPT_BACKUPS))
      assert.deepStrictEqual(kept, [3, 4, 5, 6, 7].map((i) => timestampedBackupPath(files.openclawConfig, T0 + i * 90_000)))
      assert.isTrue(kept[0]!.endsWith("/openclaw.json.qwen-auth.20261128T090937.bak"))

      // A run with nothing of the user's to keep (we wrote last) makes no backup.
      const quiet = yield* applyLogin(files, { baseUrl: OURS, setDefault: true }, last)
      assert.isUndefined(quiet.backup)
      assert.strictEqual((yield* listTimestamped(files.openclawConfig)).length, KEPT_BACKUPS)
      assert.isTrue(yield* fs.exists(bak))
    }))

  it.effect("a write whose state update was lost (killed in between) backs up again without overwriting anything", () =>
    Effect.gen(function*() {
      const { files, read, writeUser } = yield* setup
      yield* TestClock.setTime(T0)
      const original = `{ /* mine */ gateway: { port: 1 } }\n`
      yield* writeUser(original)
      yield* applyLogin(files, { baseUrl: OURS, setDefault: false }, {})
      const ours = yield* read(files.openclawConfig)
      // The state file never learnt of that write: the next run takes our output for the user's.
      const again = yield* applyLogin(files, { baseUrl: OURS, setDefault: true }, {})
      assert.strictEqual(yield* read(backupPathOf(files.openclawConfig)), original)
      assert.strictEqual(yield* read(again.backup!), ours)
    }))

  it.effect("two backups within a second take the next second; the same bytes twice make one backup", () =>
    Effect.gen(function*() {
      const { files, writeUser } = yield* setup
      yield* TestClock.setTime(T0)
      yield* writeUser(`{ a: 1 }`)
      assert.strictEqual(yield* backUp(files.openclawConfig, 0o600), backupPathOf(files.openclawConfig))
      yield* writeUser(`{ a: 2 }`)
      assert.strictEqual(yield* backUp(files.openclawConfig, 0o600), timestampedBackupPath(files.openclawConfig, T0))
      yield* writeUser(`{ a: 3 }`)
      assert.strictEqual(yield* backUp(files.openclawConfig, 0o600), timestampedBackupPath(files.openclawConfig, T0 + 1000))
      assert.isUndefined(yield* backUp(files.openclawConfig, 0o600))
      // A clock set back still sorts the next one last.
      yield* TestClock.setTime(T0 - 3_600_000)
      yield* writeUser(`{ a: 4 }`)
      assert.strictEqual(yield* backUp(files.openclawConfig, 0o600), timestampedBackupPath(files.openclawConfig, T0 + 2000))
    }))
})
