/**
 * The in-process API: `Emulator.layer(config)` as other tests use it from Effect code.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Emulator } from "../../src/emulator/Emulator.ts"
import { deviceAuthorize, pkce, pollToken } from "../support/emulator.ts"

describe("Emulator.layer", () => {
  it.live("serves on 127.0.0.1 and exposes approve/deny/revoke/reset/stats", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator
      assert.match(emulator.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.strictEqual(emulator.seed, "s1")
      assert.strictEqual(emulator.config.interval, 0)
      const p = pkce()
      const device = yield* Effect.promise(() => deviceAuthorize(emulator.url, p.challenge))
      assert.isTrue(yield* emulator.approve(device.json.user_code))
      assert.isFalse(yield* emulator.deny("ZZZZ-ZZZZ"))
      const token = yield* Effect.promise(() => pollToken(emulator.url, device.json.device_code, p.verifier))
      assert.strictEqual(token.status, 200)
      const stats = yield* emulator.stats
      assert.strictEqual(stats.deviceGrants, 1)
      assert.strictEqual(stats.liveRefreshTokens, 1)
      yield* emulator.revoke
      assert.strictEqual((yield* emulator.stats).liveRefreshTokens, 0)
      yield* emulator.reset
      assert.strictEqual((yield* emulator.stats).deviceAuthorizations, 0)
    }).pipe(Effect.provide(Emulator.layer({ interval: 0, seed: "s1" }))))

  it.live("closes its port with the layer's scope", () =>
    Effect.gen(function*() {
      const url = yield* Emulator.useSync((e) => e.url).pipe(
        Effect.provide(Emulator.layer())
      )
      const closed = yield* Effect.promise(() =>
        fetch(`${url}/__emulator/stats`).then(() => false, () => true)
      )
      assert.isTrue(closed)
    }))
})
