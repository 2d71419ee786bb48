import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Random, Redacted } from "effect"
import { TestClock } from "effect/testing"
import { reply } from "../support/testHttpClient.ts"
import { harness, LIFETIME_MS, LIFETIME_S, MARGIN_MS, tokens } from "./support/harness.ts"
import { creds } from "./support/MemoryStore.ts"

const value = (t: { readonly accessToken: Redacted.Redacted<string> }) => Redacted.value(t.accessToken)

/** A token issued at t=0 with Qwen's 6 h lifetime. */
const issuedAtZero = { credentials: creds("A1", "R1", LIFETIME_MS), issuedLifetimeSeconds: LIFETIME_S }
const ADVISORY_AT = LIFETIME_MS - MARGIN_MS

describe("TokenManager timing", () => {
  it.effect("serves a fresh token without I/O and refreshes exactly at the advisory start", () =>
    Effect.gen(function*() {
      const h = yield* harness({ store: issuedAtZero, handler: () => tokens("A2", "R2") })
      const loadsAfterStart = h.store.counts.load
      for (let i = 0; i < 1000; i++) assert.strictEqual(value(yield* h.tm.get), "A1")
      yield* TestClock.adjust(ADVISORY_AT - 1)
      assert.strictEqual(value(yield* h.tm.get), "A1")
      assert.deepStrictEqual(h.posts(), [])
      assert.strictEqual(h.store.counts.update, 0)
      assert.strictEqual(h.store.counts.load, loadsAfterStart)

      yield* TestClock.adjust(1)
      assert.deepStrictEqual(h.posts(), [{ atMs: ADVISORY_AT, refreshToken: "R1" }])
      const next = yield* h.tm.get
      assert.strictEqual(value(next), "A2")
      assert.strictEqual(next.baseUrl, "https://portal.qwen.ai/v1")
      assert.strictEqual(next.expiresAt, ADVISORY_AT + LIFETIME_MS)
      assert.strictEqual(Redacted.value(h.store.stored()!.refreshToken!), "R2")
      assert.deepStrictEqual(yield* h.tm.state, { _tag: "Fresh", expiresAt: ADVISORY_AT + LIFETIME_MS, baseUrl: "https://portal.qwen.ai/v1" })
    }))

  it.effect("with jitter, fires at expiry - margin - jitter (within jitter × margin before the advisory start)", () =>
    Effect.gen(function*() {
      const h = yield* harness({ store: issuedAtZero, settings: { jitter: 0.2 }, handler: () => tokens("A2", "R2") })
      const earliest = ADVISORY_AT - 0.2 * MARGIN_MS
      yield* TestClock.adjust(earliest - 1)
      assert.deepStrictEqual(h.posts(), [])
      yield* TestClock.adjust(ADVISORY_AT - earliest + 1)
      const posts = h.posts()
      assert.strictEqual(posts.length, 1)
      assert.isTrue(posts[0]!.atMs >= earliest && posts[0]!.atMs <= ADVISORY_AT, `fired at ${posts[0]!.atMs}`)
      assert.notStrictEqual(posts[0]!.atMs, ADVISORY_AT)
    }).pipe(Random.withSeed("timing-jitter")))

  it.effect("a short-lived token uses half its lifetime as the margin", () =>
    Effect.gen(function*() {
      // 240 s lifetime: the 300 s margin becomes 120 s.
      const h = yield* harness({
        store: { credentials: creds("A1", "R1", 240_000), issuedLifetimeSeconds: 240 },
        handler: () => tokens("A2", "R2", 240)
      })
      yield* TestClock.adjust(119_999)
      assert.deepStrictEqual(h.posts(), [])
      yield* TestClock.adjust(1)
      assert.deepStrictEqual(h.posts().map((p) => p.atMs), [120_000])
    }))

  it.effect("background failures keep serving the old token and retry with capped exponential backoff until expiry", () =>
    Effect.gen(function*() {
      const h = yield* harness({ store: issuedAtZero, handler: () => reply.json(503, { error: "server_error" }) })
      yield* TestClock.adjust(ADVISORY_AT)
      // Attempts at +0, +1, +3, +7, +15, +31, +63 (cap 60 s reached), +123, +183, +243 s;
      // the next (+303 s) would fall after expiry (+300 s): background retries stop.
      for (let t = 0; t < MARGIN_MS; t += 1000) {
        if (t < MARGIN_MS - 30_000) assert.strictEqual(value(yield* h.tm.get), "A1", `at +${t} ms`)
        yield* TestClock.adjust(1000)
      }
      const offsets = h.posts().map((p) => (p.atMs - ADVISORY_AT) / 1000)
      assert.deepStrictEqual(offsets, [0, 1, 3, 7, 15, 31, 63, 123, 183, 243])
      assert.isTrue(h.posts().every((p) => p.refreshToken === "R1"))
      const state = yield* h.tm.state
      assert.strictEqual(state._tag, "Refreshing")
      assert.isFalse(h.store.lockHeld())
      // No lock is held while waiting: every lock was released before the next one was taken.
      const kinds = h.store.events.filter((e) => e.kind === "lock" || e.kind === "unlock").map((e) => e.kind)
      assert.deepStrictEqual(kinds, offsets.flatMap(() => ["lock", "unlock"]))
    }))

  it.effect("backoff waits are jittered by the configured fraction (seeded)", () =>
    Effect.gen(function*() {
      const h = yield* harness({
        store: issuedAtZero,
        settings: { jitter: 0.2, refreshMargin: Duration.seconds(300) },
        handler: () => reply.json(503, {})
      })
      // Step in small increments: the scripted server answers through a real Promise.
      yield* TestClock.adjust(ADVISORY_AT - MARGIN_MS)
      for (let t = 0; t < 2 * MARGIN_MS; t += 500) yield* TestClock.adjust(500)
      const times = h.posts().map((p) => p.atMs)
      const gaps = times.slice(1).map((t, i) => t - times[i]!)
      const nominal = [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000]
      assert.isAtLeast(gaps.length, 5)
      gaps.forEach((gap, i) => {
        const n = nominal[i] ?? 60_000
        assert.isTrue(gap >= n * 0.8 - 1 && gap <= Math.min(n * 1.2, 60_000) + 1, `gap ${i}: ${gap} vs ${n}`)
      })
      assert.isTrue(gaps.some((gap, i) => gap !== (nominal[i] ?? 60_000)), "jitter changed at least one wait")
    }).pipe(Random.withSeed("backoff-jitter")))

  it.effect("after an ambiguous failure (no answer) the next attempt re-reads and adopts what a peer wrote", () =>
    Effect.gen(function*() {
      const h = yield* harness({
        store: issuedAtZero,
        settings: { refreshTimeout: Duration.millis(10_000) },
        handler: (r) => (r.index === 0 ? reply.hang : tokens("A2", "R2"))
      })
      yield* TestClock.adjust(ADVISORY_AT)
      assert.strictEqual(h.posts().length, 1)
      yield* TestClock.adjust(10_000)
      const state = yield* h.tm.state
      assert.strictEqual(state._tag, "Refreshing")
      if (state._tag === "Refreshing") assert.include(state.lastError ?? "", "no answer")
      assert.isFalse(h.store.lockHeld(), "the backoff wait happens with the locks released")
      // Meanwhile another process refreshed and wrote its result.
      yield* h.store.peerWrite(creds("P1", "PR1", ADVISORY_AT + LIFETIME_MS), LIFETIME_S)
      yield* TestClock.adjust(1_000)
      assert.strictEqual(value(yield* h.tm.get), "P1")
      assert.strictEqual(h.posts().length, 1)
      assert.strictEqual(h.store.counts.update, 2)
    }))
})
