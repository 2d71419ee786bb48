/**
 * The locks in-process: backoff and timeout on the TestClock, heartbeat, interrupt safety,
 * stale takeover, and OpenClaw's onCompromised turned into a typed error.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Exit, Fiber, Layer, Random } from "effect"
import { TestClock } from "effect/testing"
import { existsSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs"
import { OpenClawLock } from "../../src/store/locks/OpenClawLock.ts"
import * as QwenCodeLock from "../../src/store/locks/QwenCodeLock.ts"
import { tempRoot } from "./helpers.ts"

const FOREIGN = "11111111-2222-3333-4444-555555555555"
const realPause = (ms: number) => Effect.promise(() => new Promise<void>((r) => setTimeout(r, ms)))

/** Moves the TestClock on in small steps, letting real file I/O run in between, until `fiber` ends. */
const driveClock = <A, E>(fiber: Fiber.Fiber<A, E>, stepMs: number, maxSteps = 400) =>
  Effect.gen(function*() {
    for (let i = 0; i < maxSteps && fiber.pollUnsafe() === undefined; i++) {
      yield* TestClock.adjust(stepMs)
      yield* realPause(2)
    }
    return yield* Fiber.await(fiber)
  })

describe("QwenCodeLock", () => {
  it.effect("a live lock (its holder keeps it fresh): waits the whole 45 s, then LockError timeout; the lock is untouched", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const lock = `${root}/oauth_creds.lock`
      yield* TestClock.setTime(1_700_000_000_000)
      writeFileSync(lock, FOREIGN)
      utimesSync(lock, new Date(1_700_000_000_000), new Date(1_700_000_000_000))
      const fiber = yield* Effect.forkChild(Effect.scoped(QwenCodeLock.acquire(lock)))
      // The holder (another qwen-auth) refreshes its lock's mtime as the clock moves on.
      for (let i = 0; i < 400 && fiber.pollUnsafe() === undefined; i++) {
        const now = yield* Clock.currentTimeMillis
        utimesSync(lock, new Date(now), new Date(now))
        yield* TestClock.adjust(250)
        yield* realPause(2)
      }
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
      const fail = error?._tag === "Fail" ? error.error : undefined
      assert.strictEqual(fail?._tag, "LockError")
      assert.strictEqual(fail?.reason, "timeout")
      assert.include(fail?.message ?? "", lock)
      assert.strictEqual(readFileSync(lock, "utf8"), FOREIGN)
      // It kept trying for the whole budget, which is longer than the stale limit.
      assert.isAtLeast((yield* Clock.currentTimeMillis) - 1_700_000_000_000, QwenCodeLock.ACQUIRE_TIMEOUT_MS)
      assert.isAbove(QwenCodeLock.ACQUIRE_TIMEOUT_MS, QwenCodeLock.STALE_MS)
    }).pipe(Effect.provide(NodeServices.layer), Random.withSeed("qwen-lock-timeout")))

  it.effect("a 30-s-old lock nobody touches (Qwen Code mid-refresh) is not broken; once older than 35 s it is taken over", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const lock = `${root}/oauth_creds.lock`
      const start = 1_700_000_000_000
      yield* TestClock.setTime(start)
      writeFileSync(lock, FOREIGN)
      utimesSync(lock, new Date(start - 30_000), new Date(start - 30_000))
      const fiber = yield* Effect.forkChild(Effect.scoped(Effect.andThen(
        QwenCodeLock.acquire(lock),
        Effect.map(Clock.currentTimeMillis, (at) => ({ at, inside: readFileSync(lock, "utf8") }))
      )))
      for (let i = 0; i < 16; i++) {
        yield* TestClock.adjust(250)
        yield* realPause(2)
      }
      // 34 s old: still the peer's.
      assert.isUndefined(fiber.pollUnsafe())
      assert.strictEqual(readFileSync(lock, "utf8"), FOREIGN)
      const exit = yield* driveClock(fiber, 250)
      assert.isTrue(Exit.isSuccess(exit))
      const done = Exit.isSuccess(exit) ? exit.value : undefined
      assert.notStrictEqual(done?.inside, FOREIGN)
      // Taken over only past the 35 s limit (and within one pause of it).
      assert.isAbove((done?.at ?? 0) - (start - 30_000), QwenCodeLock.STALE_MS)
      assert.isAtMost((done?.at ?? 0) - (start - 30_000), QwenCodeLock.STALE_MS + 2_250)
    }).pipe(Effect.provide(NodeServices.layer), Random.withSeed("qwen-lock-30s")))

  it.effect("a 36-s-old lock is taken over at once", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const lock = `${root}/oauth_creds.lock`
      const start = 1_700_000_000_000
      yield* TestClock.setTime(start)
      writeFileSync(lock, FOREIGN)
      utimesSync(lock, new Date(start - 36_000), new Date(start - 36_000))
      const inside = yield* Effect.scoped(Effect.andThen(QwenCodeLock.acquire(lock), Effect.sync(() => readFileSync(lock, "utf8"))))
      assert.notStrictEqual(inside, FOREIGN)
      assert.strictEqual(yield* Clock.currentTimeMillis, start)
      assert.isFalse(existsSync(lock))
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("a lock dated in the future (beyond a 5 s skew) is stale; one a second ahead is live", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const lock = `${root}/oauth_creds.lock`
      const start = 1_700_000_000_000
      yield* TestClock.setTime(start)
      writeFileSync(lock, FOREIGN)
      utimesSync(lock, new Date(start + 1_000), new Date(start + 1_000))
      const attempt = (yield* Effect.scoped(QwenCodeLock.tryAcquire(lock)))
      assert.strictEqual(attempt._tag, "Busy")
      utimesSync(lock, new Date(start + 3_600_000), new Date(start + 3_600_000))
      const inside = yield* Effect.scoped(Effect.andThen(QwenCodeLock.acquire(lock), Effect.sync(() => readFileSync(lock, "utf8"))))
      assert.notStrictEqual(inside, FOREIGN)
      assert.strictEqual(yield* Clock.currentTimeMillis, start)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("the holder's check fails once the lock file is gone or another's (Qwen Code's exit handler deletes it blindly)", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const lock = `${root}/oauth_creds.lock`
      yield* Effect.scoped(Effect.gen(function*() {
        const handle = yield* QwenCodeLock.acquire(lock)
        yield* handle.check
        rmSync(lock)
        const gone = yield* Effect.flip(handle.check)
        assert.strictEqual(gone.reason, "compromised")
        writeFileSync(lock, FOREIGN)
        const taken = yield* Effect.flip(handle.check)
        assert.strictEqual(taken.reason, "compromised")
      }))
      assert.strictEqual(readFileSync(lock, "utf8"), FOREIGN)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("an interrupted wait leaves no lock of ours and keeps the peer's", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const lock = `${root}/oauth_creds.lock`
      writeFileSync(lock, FOREIGN)
      // The TestClock reads the lock's real mtime as "now" (else the lock would lie in its future).
      yield* TestClock.setTime(statSync(lock).mtimeMs)
      const fiber = yield* Effect.forkChild(Effect.scoped(QwenCodeLock.acquire(lock)))
      yield* TestClock.adjust(1_000)
      yield* realPause(20)
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(readFileSync(lock, "utf8"), FOREIGN)
      rmSync(lock)
      // Once free, a new acquisition works and its release removes it.
      yield* Effect.scoped(QwenCodeLock.acquire(lock))
      assert.isFalse(existsSync(lock))
    }).pipe(Effect.provide(NodeServices.layer), Random.withSeed("qwen-lock-interrupt")))

  it.effect("the heartbeat refreshes the lock's mtime from the Clock while held", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const lock = `${root}/oauth_creds.lock`
      yield* Effect.scoped(Effect.gen(function*() {
        yield* TestClock.setTime(1_700_000_000_000)
        yield* QwenCodeLock.acquire(lock)
        const content = readFileSync(lock, "utf8")
        assert.match(content, /^[0-9a-f-]{36}$/)
        assert.strictEqual(statSync(lock).mode & 0o777, 0o600)
        yield* TestClock.adjust(QwenCodeLock.HEARTBEAT_MS)
        yield* realPause(30)
        assert.strictEqual(statSync(lock).mtimeMs, 1_700_000_000_000 + QwenCodeLock.HEARTBEAT_MS)
      }))
      assert.isFalse(existsSync(lock))
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("release never removes a lock that is no longer ours", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const lock = `${root}/oauth_creds.lock`
      yield* Effect.scoped(Effect.gen(function*() {
        yield* QwenCodeLock.acquire(lock)
        // A peer took it over (as after a stale takeover) while we thought we held it.
        writeFileSync(lock, FOREIGN)
      }))
      assert.strictEqual(readFileSync(lock, "utf8"), FOREIGN)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("a stale lock (mtime > 35 s old) is renamed away and taken over", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const lock = `${root}/oauth_creds.lock`
      writeFileSync(lock, FOREIGN)
      const old = new Date(Date.now() - 36_000)
      utimesSync(lock, old, old)
      const inside = yield* Effect.sync(() => readFileSync(lock, "utf8")).pipe(QwenCodeLock.withLock(lock))
      assert.notStrictEqual(inside, FOREIGN)
      assert.isFalse(existsSync(lock))
    }).pipe(Effect.provide(NodeServices.layer)))

  it.live("a missing folder is created (0700); an unwritable place is LockError io", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      yield* Effect.void.pipe(QwenCodeLock.withLock(`${root}/new/qwen/oauth_creds.lock`))
      assert.strictEqual(statSync(`${root}/new/qwen`).mode & 0o777, 0o700)
      writeFileSync(`${root}/file`, "x")
      const error = yield* Effect.flip(Effect.void.pipe(QwenCodeLock.withLock(`${root}/file/oauth_creds.lock`)))
      assert.strictEqual(error._tag, "LockError")
      assert.strictEqual(error.reason, "io")
    }).pipe(Effect.provide(NodeServices.layer)))
})

describe("OpenClawLock", () => {
  const layer = (stale = 30_000) =>
    OpenClawLock.layerWith({
      retries: { retries: 2, factor: 2, minTimeout: 20, maxTimeout: 50, randomize: false },
      stale
    }).pipe(Layer.provide(NodeServices.layer))

  it.live("locks a file that does not exist yet (folder created 0700) and releases", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const file = `${root}/agents/main/agent/auth-profiles.json`
      const lock = yield* OpenClawLock
      const inside = yield* lock.withLock(file, Effect.sync(() => existsSync(`${file}.lock`)))
      assert.isTrue(inside)
      assert.isFalse(existsSync(`${file}.lock`))
      assert.strictEqual(statSync(`${root}/agents/main/agent`).mode & 0o777, 0o700)
    }).pipe(Effect.provide(layer())))

  it.live("is not re-entrant: a second acquisition in the same process times out", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const file = `${root}/auth-profiles.json`
      const lock = yield* OpenClawLock
      const error = yield* lock.withLock(file, Effect.flip(lock.withLock(file, Effect.void)))
      assert.strictEqual(error._tag, "LockError")
      assert.strictEqual(error.reason, "timeout")
    }).pipe(Effect.provide(layer())))

  it.live("a compromised lock fails the holder with LockError compromised (no crash)", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const file = `${root}/auth-profiles.json`
      const lock = yield* OpenClawLock
      const error = yield* Effect.flip(lock.withLock(
        file,
        Effect.gen(function*() {
          // Another party removes our lock folder; proper-lockfile notices on its next update.
          rmSync(`${file}.lock`, { recursive: true })
          return yield* Effect.never
        })
      ))
      assert.strictEqual(error._tag, "LockError")
      assert.strictEqual(error.reason, "compromised")
      assert.include(error.message, `${file}.lock`)
    }).pipe(Effect.provide(layer(2_000))))

  it.live("an interrupted holder releases the lock", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const file = `${root}/auth-profiles.json`
      const lock = yield* OpenClawLock
      const fiber = yield* Effect.forkChild(lock.withLock(file, Effect.never))
      yield* Effect.sleep(100)
      assert.isTrue(existsSync(`${file}.lock`))
      yield* Fiber.interrupt(fiber)
      assert.isFalse(existsSync(`${file}.lock`))
    }).pipe(Effect.provide(layer())))
})
