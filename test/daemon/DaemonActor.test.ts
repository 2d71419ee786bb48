/**
 * The token actor as the daemon runs it (a 10-min minimum margin, file watching, retries past
 * expiry, events), on the TestClock with a seeded Random: when it refreshes 6-h tokens, how it
 * backs off, how it heals after a new login, and that a stop waits for a refresh in flight.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Deferred, Duration, Effect, Fiber, Random, Redacted } from "effect"
import { TestClock } from "effect/testing"
import type { Settings } from "../../src/Config.ts"
import { DAEMON_MIN_MARGIN } from "../../src/daemon/Daemon.ts"
import type { ActorEvent } from "../../src/token/ActorEvent.ts"
import { makeActor } from "../../src/token/TokenActor.ts"
import { type Handler, reply, testHttpClient } from "../support/testHttpClient.ts"
import { LIFETIME_MS, LIFETIME_S, settingsFor, tokens } from "../token/support/harness.ts"
import { creds, makeMemoryStore, type MemoryStoreInit } from "../token/support/MemoryStore.ts"
import { HttpClient } from "effect/http"

const MIN = 60_000
/** OpenClaw 2026.9.6 treats a token with under 5 min left as unusable and refreshes it (hosts.md). */
const HOST_MARGIN_MS = 5 * MIN

/** Lets forked fibers run until `cond` holds. */
const eventually = (cond: () => boolean, what = "condition reached") =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000 && !cond(); i++) yield* Effect.yieldNow
    assert.isTrue(cond(), what)
  })

interface Seen {
  readonly atMs: number
  readonly event: ActorEvent
}

/** The actor with the daemon's options over a memory store and a scripted server. */
const daemonActor = (options: { store?: MemoryStoreInit; handler: Handler; settings?: Partial<Settings> }) =>
  Effect.gen(function*() {
    const store = yield* makeMemoryStore(options.store)
    const http = testHttpClient(options.handler)
    const httpClient = yield* Effect.provide(Effect.service(HttpClient.HttpClient), http.layer)
    const events: Array<Seen> = []
    const actor = yield* makeActor({
      settings: settingsFor(options.settings),
      store: store.service,
      http: httpClient,
      baseUrl: undefined,
      options: {
        minMargin: DAEMON_MIN_MARGIN,
        watchFiles: true,
        retryPastExpiry: true,
        onEvent: (event) => Effect.map(Clock.currentTimeMillis, (atMs) => void events.push({ atMs, event }))
      }
    })
    const posts = () => http.requests.filter((r) => r.url.endsWith("/api/v1/oauth2/token"))
    return { actor, store, http, events, posts }
  })

/** A server that rotates: the n-th refresh answers `A<n+2>`/`R<n+2>` with `expiresIn` seconds. */
const rotating = (expiresIn = LIFETIME_S): Handler => (request) =>
  tokens(`A${request.index + 2}`, `R${request.index + 2}`, expiresIn)

const tags = (seen: ReadonlyArray<Seen>) => seen.map((s) => s.event._tag)

describe("daemon actor: schedule", () => {
  it.effect("refreshes 6-h tokens 10–12 min before expiry, before either host's 5-min margin, once per lifetime", () =>
    Effect.gen(function*() {
      const h = yield* daemonActor({
        store: { credentials: creds("A1", "R1", LIFETIME_MS), issuedLifetimeSeconds: LIFETIME_S },
        handler: rotating(),
        settings: { jitter: 0.2 }
      })
      let expiresAt = LIFETIME_MS
      for (let lifetime = 1; lifetime <= 3; lifetime++) {
        // Nothing before expiry − 10 min − 20 % jitter of the 10-min margin.
        const now = yield* Clock.currentTimeMillis
        yield* TestClock.adjust(expiresAt - 12 * MIN - 1 - now)
        assert.strictEqual(h.posts().length, lifetime - 1, `no refresh before expiry − 12 min (lifetime ${lifetime})`)
        // By expiry − 10 min it has refreshed, once.
        yield* TestClock.adjust(2 * MIN + 1)
        yield* eventually(() => h.posts().length === lifetime, `refreshed by expiry − 10 min (lifetime ${lifetime})`)
        const at = h.posts()[lifetime - 1]!.atMs
        assert.isAtMost(at, expiresAt - 10 * MIN)
        assert.isBelow(at, expiresAt - HOST_MARGIN_MS, "before OpenClaw 2026.9.6 would call its refresher")
        yield* eventually(() => h.events.length === lifetime)
        const event = h.events[lifetime - 1]!.event
        assert.strictEqual(event._tag, "Refreshed")
        if (event._tag === "Refreshed") {
          assert.strictEqual(event.expiresAt, at + LIFETIME_MS)
          assert.isAtMost(event.nextRefreshAt, event.expiresAt - 10 * MIN)
          assert.isAtLeast(event.nextRefreshAt, event.expiresAt - 12 * MIN)
        }
        expiresAt = at + LIFETIME_MS
      }
      assert.strictEqual(Redacted.value(h.store.stored()!.accessToken), "A4")
      assert.deepStrictEqual(h.posts().map((p) => p.form.refresh_token), ["R1", "R2", "R3"])
    }).pipe(Random.withSeed("daemon-schedule")))

  it.effect("a margin above 10 min is kept; a short-lived token is refreshed at half its life", () =>
    Effect.gen(function*() {
      const h = yield* daemonActor({
        store: { credentials: creds("A1", "R1", 20_000), issuedLifetimeSeconds: 20 },
        handler: rotating(20)
      })
      yield* TestClock.adjust(9_999)
      assert.strictEqual(h.posts().length, 0)
      yield* TestClock.adjust(1)
      yield* eventually(() => h.posts().length === 1)
      assert.strictEqual(h.posts()[0]!.atMs, 10_000, "20-s token: effective margin 10 s (half the lifetime)")
      yield* TestClock.adjust(10_000)
      yield* eventually(() => h.posts().length === 2)
      assert.strictEqual(h.posts()[1]!.atMs, 20_000, "one refresh per half lifetime")
    }))
})

describe("daemon actor: failures", () => {
  it.effect("backs off 1 s, 2 s, 4 s … up to 60 s, keeps the old token, and retries past expiry", () =>
    Effect.gen(function*() {
      // Expires 3 min after t=0: inside the 10-min margin, so due at once.
      const h = yield* daemonActor({
        store: { credentials: creds("A1", "R1", 3 * MIN), issuedLifetimeSeconds: LIFETIME_S },
        handler: () => reply.json(503, { error: "server_error" })
      })
      const expected = [1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60, 60, 60].map((s) => s * 1000)
      let elapsed = 0
      for (let i = 0; i < expected.length; i++) {
        yield* eventually(() => h.events.length === i + 1, `failure ${i + 1} reported`)
        const seen = h.events[i]!
        assert.strictEqual(seen.event._tag, "RefreshFailed")
        if (seen.event._tag === "RefreshFailed") {
          assert.strictEqual(seen.event.retryAt - seen.atMs, expected[i], `wait after failure ${i + 1}`)
          assert.strictEqual(seen.event.expiresAt, 3 * MIN, "the old token is kept")
          assert.strictEqual(seen.event.failures, i + 1)
          assert.strictEqual(seen.event.errorTag, "ServerError")
        }
        elapsed += expected[i]!
        yield* TestClock.adjust(expected[i]!)
      }
      // 1 + 2 + … + 60 × 8 s: past the expiry at 3 min, and still retrying.
      assert.isAbove(elapsed, 3 * MIN)
      assert.strictEqual(h.posts().length, expected.length + 1)
      assert.strictEqual(Redacted.value(h.store.stored()!.accessToken), "A1")
    }))

  it.effect("heals after a new login: needs-login once, then login-detected within the file check, then refreshes it", () =>
    Effect.gen(function*() {
      const h = yield* daemonActor({
        store: { credentials: creds("A1", "R1", 11 * MIN), issuedLifetimeSeconds: LIFETIME_S },
        handler: (request) =>
          request.form.refresh_token === "R1" ? reply.json(400, { error: "invalid_grant" }) : tokens("B2", "RB2")
      })
      yield* TestClock.adjust(MIN)
      yield* eventually(() => h.events.length === 1)
      assert.deepStrictEqual(tags(h.events), ["NeedsLogin"])
      const needs = h.events[0]!.event
      if (needs._tag === "NeedsLogin") assert.include(needs.reason, "invalid_grant")
      // Waiting: no further POST, no repeated event.
      yield* TestClock.adjust(10 * MIN)
      assert.deepStrictEqual(tags(h.events), ["NeedsLogin"])
      assert.strictEqual(h.posts().length, 1)
      // A new login by another tool (a 6-h token).
      const now = yield* Clock.currentTimeMillis
      yield* h.store.peerWrite(creds("B1", "RB1", now + LIFETIME_MS), LIFETIME_S)
      yield* TestClock.adjust(Duration.toMillis(settingsFor().fileCheckInterval))
      yield* eventually(() => h.events.length === 2)
      const detected = h.events[1]!.event
      assert.strictEqual(detected._tag, "LoginDetected")
      if (detected._tag === "LoginDetected") assert.strictEqual(detected.nextRefreshAt, now + LIFETIME_MS - 10 * MIN)
      yield* TestClock.adjust(LIFETIME_MS - 10 * MIN)
      yield* eventually(() => h.events.length === 3)
      assert.deepStrictEqual(tags(h.events), ["NeedsLogin", "LoginDetected", "Refreshed"])
      assert.deepStrictEqual(h.posts().map((p) => p.form.refresh_token), ["R1", "RB1"])
    }))

  it.effect("adopts a peer's newer token within one file check, with no POST", () =>
    Effect.gen(function*() {
      const h = yield* daemonActor({
        store: { credentials: creds("A1", "R1", LIFETIME_MS), issuedLifetimeSeconds: LIFETIME_S },
        handler: rotating()
      })
      yield* TestClock.adjust(MIN)
      yield* h.store.peerWrite(creds("P1", "PR1", MIN + LIFETIME_MS), LIFETIME_S)
      yield* TestClock.adjust(3_000)
      yield* eventually(() => h.events.length === 1)
      const adopted = h.events[0]!.event
      assert.strictEqual(adopted._tag, "Adopted")
      if (adopted._tag === "Adopted") assert.strictEqual(adopted.expiresAt, MIN + LIFETIME_MS)
      assert.strictEqual(h.posts().length, 0)
      // Its own files changing (a touch, the same tokens) is no event and moves no schedule.
      yield* h.store.peerWrite(creds("P1", "PR1", MIN + LIFETIME_MS), LIFETIME_S)
      yield* TestClock.adjust(3_000)
      assert.strictEqual(h.events.length, 1)
      assert.strictEqual(yield* h.actor.nextRefreshAt, MIN + LIFETIME_MS - 10 * MIN)
    }))
})

describe("daemon actor: stop", () => {
  it.effect("drain waits for a refresh in flight, which persists; the scheduler does nothing after", () =>
    Effect.gen(function*() {
      const answer = yield* Deferred.make<void>()
      const h = yield* daemonActor({
        store: { credentials: creds("A1", "R1", 11 * MIN), issuedLifetimeSeconds: LIFETIME_S },
        handler: (request) => request.index === 0 ? Effect.as(Deferred.await(answer), tokens("A2", "R2")) : tokens("A3", "R3")
      })
      yield* TestClock.adjust(MIN)
      yield* eventually(() => h.posts().length === 1, "the refresh is in flight")
      const drain = yield* Effect.forkChild(h.actor.drain)
      for (let i = 0; i < 100; i++) yield* Effect.yieldNow
      assert.isUndefined(drain.pollUnsafe(), "drain waits for the answer")
      yield* Deferred.succeed(answer, undefined)
      yield* Fiber.join(drain)
      assert.strictEqual(Redacted.value(h.store.stored()!.accessToken), "A2", "the rotated token is persisted")
      yield* TestClock.adjust(LIFETIME_MS)
      assert.strictEqual(h.posts().length, 1, "no refresh after the stop")
    }))

  it.effect("drain returns at once when idle", () =>
    Effect.gen(function*() {
      const h = yield* daemonActor({
        store: { credentials: creds("A1", "R1", LIFETIME_MS), issuedLifetimeSeconds: LIFETIME_S },
        handler: rotating()
      })
      const drain = yield* Effect.forkChild(h.actor.drain)
      yield* eventually(() => drain.pollUnsafe() !== undefined, "drained")
      assert.strictEqual(h.posts().length, 0)
    }))
})
