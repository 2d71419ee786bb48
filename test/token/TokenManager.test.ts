import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Redacted, Scope, Stream } from "effect"
import { TestClock } from "effect/testing"
import { reply } from "../support/testHttpClient.ts"
import { harness, LIFETIME_MS, LIFETIME_S, MARGIN_MS, tokens } from "./support/harness.ts"
import { creds } from "./support/MemoryStore.ts"

/** Lets forked fibers (and the scripted server's promises) run until `cond` holds. */
const eventually = (cond: () => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000 && !cond(); i++) yield* Effect.yieldNow
    assert.isTrue(cond(), "condition reached")
  })

const value = (t: { readonly accessToken: Redacted.Redacted<string> }) => Redacted.value(t.accessToken)

/** Expires 20 s from t=0: inside the mandatory window from the start. */
const nearlyExpired = { credentials: creds("A1", "R1", 20_000), issuedLifetimeSeconds: LIFETIME_S }
const freshAtZero = { credentials: creds("A1", "R1", LIFETIME_MS), issuedLifetimeSeconds: LIFETIME_S }

describe("TokenManager mandatory window", () => {
  it.effect("callers wait for the refresh in flight and get the new token", () =>
    Effect.gen(function*() {
      const answer = yield* Deferred.make<void>()
      const h = yield* harness({
        store: nearlyExpired,
        handler: () => Effect.as(Deferred.await(answer), tokens("A2", "R2"))
      })
      const caller = yield* Effect.forkChild(h.tm.get)
      yield* eventually(() => h.posts().length === 1)
      assert.isUndefined(caller.pollUnsafe(), "the caller waits while the refresh is in flight")
      yield* Deferred.succeed(answer, undefined)
      assert.strictEqual(value(yield* Fiber.join(caller)), "A2")
    }))

  it.effect("callers fail with TokenUnavailable when the refresh fails, and do not hammer the server", () =>
    Effect.gen(function*() {
      const h = yield* harness({ store: nearlyExpired, handler: () => reply.json(400, { error: "invalid_request" }) })
      const error = yield* Effect.flip(h.tm.get)
      assert.strictEqual(error._tag, "TokenUnavailable")
      if (error._tag === "TokenUnavailable") {
        assert.strictEqual(error.reason._tag, "ServerError")
        assert.include(error.message, "invalid_request")
      }
      // Within the backoff, further callers get the last error without a new POST.
      for (let i = 0; i < 50; i++) yield* Effect.flip(h.tm.get)
      assert.strictEqual(h.posts().length, 1)
    }))

  it.effect("10,000 concurrent callers cause exactly one refresh request", () =>
    Effect.gen(function*() {
      const N = 10_000
      const answer = yield* Deferred.make<void>()
      const h = yield* harness({
        store: { credentials: creds("A1", "R1", -1000), issuedLifetimeSeconds: LIFETIME_S },
        handler: () => Effect.as(Deferred.await(answer), tokens("A2", "R2"))
      })
      let entered = 0
      const callers = yield* Effect.forkChild(
        Effect.forEach(
          Array.from({ length: N }),
          () => Effect.suspend(() => (entered++, h.tm.get)),
          { concurrency: "unbounded" }
        )
      )
      while (entered < N) yield* Effect.yieldNow
      yield* Effect.yieldNow
      assert.isUndefined(callers.pollUnsafe())
      assert.strictEqual(h.posts().length, 1)
      yield* Deferred.succeed(answer, undefined)
      const results = yield* Fiber.join(callers)
      assert.strictEqual(results.length, N)
      assert.strictEqual(new Set(results.map(value)).size, 1)
      assert.strictEqual(value(results[0]!), "A2")
      assert.strictEqual(h.posts().length, 1)
      assert.strictEqual(h.store.counts.update, 1)
    }))

  it.effect("an interrupted caller does not cancel the refresh or lose the rotated token", () =>
    Effect.gen(function*() {
      const answer = yield* Deferred.make<void>()
      const h = yield* harness({
        store: nearlyExpired,
        handler: () => Effect.as(Deferred.await(answer), tokens("A2", "R2"))
      })
      const caller = yield* Effect.forkChild(h.tm.get)
      yield* Effect.yieldNow
      yield* Fiber.interrupt(caller)
      yield* Deferred.succeed(answer, undefined)
      assert.strictEqual(value(yield* h.tm.get), "A2")
      assert.strictEqual(Redacted.value(h.store.stored()!.refreshToken!), "R2")
      assert.strictEqual(h.posts().length, 1)
    }))
})

describe("TokenManager rotation", () => {
  it.effect("persists the rotated refresh token before anyone gets the new access token", () =>
    Effect.gen(function*() {
      const writeGate = yield* Deferred.make<void>()
      const h = yield* harness({
        store: nearlyExpired,
        handler: (req) => (req.index === 0 ? tokens("A2", "R2") : tokens("A3", "R3"))
      })
      let writing = false
      h.store.writeHook = Effect.suspend(() => {
        writing = true
        return Deferred.await(writeGate)
      })
      const caller = yield* Effect.forkChild(h.tm.get)
      // The server answered and the store is about to write: nobody has A2 yet.
      yield* eventually(() => writing)
      assert.strictEqual(h.posts().length, 1)
      assert.isUndefined(caller.pollUnsafe())
      assert.strictEqual(value(h.store.stored()!), "A1")
      yield* Deferred.succeed(writeGate, undefined)
      assert.strictEqual(value(yield* Fiber.join(caller)), "A2")
      const written = h.store.events.filter((e) => e.kind === "write")
      assert.deepStrictEqual(written.map((e) => [e.access, e.refresh]), [["A2", "R2"]])
      // The next refresh uses the rotated token, never the remembered one.
      assert.strictEqual(value(yield* h.tm.refresh()), "A3")
      assert.deepStrictEqual(h.posts().map((p) => p.refreshToken), ["R1", "R2"])
    }))

  it.effect("keeps the old refresh token when the server sends none", () =>
    Effect.gen(function*() {
      const h = yield* harness({ store: nearlyExpired, handler: () => tokens("A2") })
      assert.strictEqual(value(yield* h.tm.get), "A2")
      assert.strictEqual(Redacted.value(h.store.stored()!.refreshToken!), "R1")
    }))
})

describe("TokenManager invalid_grant", () => {
  it.effect("goes to NeedsLogin without deleting anything, then heals when a new login is written", () =>
    Effect.gen(function*() {
      const h = yield* harness({ store: nearlyExpired, handler: () => reply.json(400, { error: "invalid_grant" }) })
      const error = yield* Effect.flip(h.tm.get)
      assert.strictEqual(error._tag, "LoginRequired")
      const state = yield* h.tm.state
      assert.strictEqual(state._tag, "NeedsLogin")
      if (state._tag === "NeedsLogin") assert.include(state.reason, "qwen-auth login")
      // Nothing deleted: the credentials are still stored, only marked refused.
      assert.strictEqual(value(h.store.stored()!), "A1")
      assert.isTrue(h.store.events.some((e) => e.kind === "mark-refused"))
      assert.isFalse(h.store.events.some((e) => e.kind === "logout"))
      // No retry loop against a dead refresh token.
      yield* TestClock.adjust(60_000)
      assert.strictEqual(h.posts().length, 1)

      // Qwen Code (or `qwen-auth login`) writes a new login.
      yield* h.store.peerWrite(creds("A9", "R9", 60_000 + LIFETIME_MS), LIFETIME_S)
      yield* TestClock.adjust(3_000)
      assert.strictEqual(value(yield* h.tm.get), "A9")
      assert.strictEqual((yield* h.tm.state)._tag, "Fresh")
      assert.strictEqual(h.posts().length, 1)
    }))

  it.effect("adopts a token a peer wrote while the refresh was refused", () =>
    Effect.gen(function*() {
      let store: { peerWrite: (c: ReturnType<typeof creds>, s: number) => Effect.Effect<void> } | undefined
      const h = yield* harness({
        store: nearlyExpired,
        // The peer writes just after our POST is refused (we still hold the lock).
        handler: () =>
          Effect.as(
            Effect.suspend(() => store!.peerWrite(creds("A5", "R5", LIFETIME_MS), LIFETIME_S)),
            reply.json(400, { error: "invalid_grant" })
          )
      })
      store = h.store
      assert.strictEqual(value(yield* h.tm.get), "A5")
    }))
})

describe("TokenManager peers", () => {
  it.effect("adopts a peer's newer token without a POST", () =>
    Effect.gen(function*() {
      const h = yield* harness({ store: freshAtZero, handler: () => tokens("A2", "R2") })
      yield* TestClock.adjust(LIFETIME_MS - MARGIN_MS - 10_000)
      // Another process refreshed first.
      yield* h.store.peerWrite(creds("P1", "PR1", LIFETIME_MS * 2), LIFETIME_S)
      yield* TestClock.adjust(10_000)
      assert.strictEqual(value(yield* h.tm.get), "P1")
      assert.strictEqual(h.posts().length, 0)
      assert.strictEqual(h.store.counts.update, 1)
    }))

  it.effect("refresh(ifCurrent) returns a newer token without I/O when the failed one was already replaced", () =>
    Effect.gen(function*() {
      const h = yield* harness({ store: freshAtZero, handler: () => tokens("A2", "R2") })
      const token = yield* h.tm.refresh(Redacted.make("OLD"))
      assert.strictEqual(value(token), "A1")
      assert.strictEqual(h.store.counts.update, 0)
      assert.strictEqual(h.posts().length, 0)
    }))

  it.effect("refresh(ifCurrent) adopts a stored token that differs, under the lock, without a POST", () =>
    Effect.gen(function*() {
      const h = yield* harness({ store: freshAtZero, handler: () => tokens("A2", "R2") })
      yield* h.store.peerWrite(creds("P1", "PR1", LIFETIME_MS), LIFETIME_S)
      const token = yield* h.tm.refresh(Redacted.make("A1"))
      assert.strictEqual(value(token), "P1")
      assert.strictEqual(h.store.counts.update, 1)
      assert.strictEqual(h.posts().length, 0)
    }))

  it.effect("a lock timeout while a peer already wrote a new token: takes it, read without the lock", () =>
    Effect.gen(function*() {
      const h = yield* harness({ store: freshAtZero, handler: () => tokens("A2", "R2") })
      yield* h.store.peerWrite(creds("P1", "PR1", LIFETIME_MS), LIFETIME_S)
      h.store.lockTimeouts = 1
      const token = yield* h.tm.refresh(Redacted.make("A1"))
      assert.strictEqual(value(token), "P1")
      assert.strictEqual(h.posts().length, 0)
    }))

  it.effect("a lock timeout with nothing new stored stays a (transient) failure", () =>
    Effect.gen(function*() {
      const h = yield* harness({ store: freshAtZero, handler: () => tokens("A2", "R2") })
      h.store.lockTimeouts = 1
      const error = yield* Effect.flip(h.tm.refresh(Redacted.make("A1")))
      assert.strictEqual(error._tag, "TokenUnavailable")
      assert.strictEqual(error._tag === "TokenUnavailable" ? error.reason._tag : "", "LockError")
      assert.strictEqual(h.posts().length, 0)
    }))

  it.effect("concurrent refresh(ifCurrent) calls for the same rejected token cause one POST", () =>
    Effect.gen(function*() {
      const h = yield* harness({ store: freshAtZero, handler: () => tokens("A2", "R2") })
      const results = yield* Effect.forEach(
        Array.from({ length: 20 }),
        () => h.tm.refresh(Redacted.make("A1")),
        { concurrency: "unbounded" }
      )
      assert.isTrue(results.every((t) => value(t) === "A2"))
      assert.strictEqual(h.posts().length, 1)
    }))
})

describe("TokenManager states and lifecycle", () => {
  it.effect("publishes its states as a stream", () =>
    Effect.gen(function*() {
      const answer = yield* Deferred.make<void>()
      const h = yield* harness({
        store: freshAtZero,
        handler: () => Effect.as(Deferred.await(answer), tokens("A2", "R2"))
      })
      const seen = yield* Effect.forkChild(Stream.runCollect(Stream.take(h.tm.changes, 3)))
      yield* Effect.yieldNow
      yield* TestClock.adjust(LIFETIME_MS - MARGIN_MS)
      yield* Deferred.succeed(answer, undefined)
      const states = yield* Fiber.join(seen)
      assert.deepStrictEqual(Array.from(states).map((s) => s._tag), ["Fresh", "Refreshing", "Fresh"])
    }))

  it.effect("with nothing stored: LoggedOut, and get fails with LoginRequired", () =>
    Effect.gen(function*() {
      const h = yield* harness({ handler: () => tokens("A2", "R2") })
      assert.deepStrictEqual(yield* h.tm.state, { _tag: "LoggedOut" })
      const error = yield* Effect.flip(h.tm.get)
      assert.strictEqual(error._tag, "LoginRequired")
      assert.strictEqual(h.posts().length, 0)
    }))

  it.effect("a token without a refresh token is served until it expires, then needs a login", () =>
    Effect.gen(function*() {
      const h = yield* harness({ store: { credentials: creds("A1", undefined, 60_000) }, handler: () => tokens("X") })
      yield* TestClock.adjust(59_000)
      assert.strictEqual(value(yield* h.tm.get), "A1")
      yield* TestClock.adjust(1_000)
      const error = yield* Effect.flip(h.tm.get)
      assert.strictEqual(error._tag, "LoginRequired")
      assert.strictEqual((yield* h.tm.state)._tag, "NeedsLogin")
      assert.strictEqual(h.posts().length, 0)
    }))

  it.effect("a defect in one refresh is logged and the actor carries on", () =>
    Effect.gen(function*() {
      const h = yield* harness({ store: freshAtZero, handler: () => tokens("A2", "R2") })
      let defects = 1
      h.store.writeHook = Effect.suspend(() => (defects-- > 0 ? Effect.die(new Error("boom")) : Effect.void))
      yield* TestClock.adjust(LIFETIME_MS - MARGIN_MS)
      assert.strictEqual(value(yield* h.tm.get), "A1")
      const state = yield* h.tm.state
      assert.strictEqual(state._tag, "Refreshing")
      yield* TestClock.adjust(1_000)
      assert.strictEqual(value(yield* h.tm.get), "A2")
      assert.strictEqual(h.posts().length, 2)
    }))

  it.effect("closing the scope interrupts a refresh in flight, releases the lock and stops all timers", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const h = yield* harness({ scope, store: freshAtZero, handler: () => reply.hang })
      yield* TestClock.adjust(LIFETIME_MS - MARGIN_MS)
      assert.strictEqual(h.posts().length, 1)
      assert.isTrue(h.store.lockHeld())
      yield* Scope.close(scope, Exit.void)
      assert.isFalse(h.store.lockHeld())
      yield* TestClock.adjust(LIFETIME_MS * 2)
      assert.strictEqual(h.posts().length, 1)
      assert.strictEqual(h.store.counts.update, 1)
      assert.strictEqual(h.store.counts.fingerprint, 1)
    }))
})
