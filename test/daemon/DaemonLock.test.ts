/**
 * The daemon lock (one daemon per Qwen home) over a real temp folder, its timing on the
 * TestClock (set to the wall clock first, since file mtimes are real): a live holder refuses a
 * second daemon, naming it; a holder that is gone, is this very pid, or stopped touching the lock
 * for over 60 s is taken over; the holder touches it every 10 s and notices losing it.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Exit, Fiber, Scope } from "effect"
import { TestClock } from "effect/testing"
import { existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as DaemonLock from "../../src/daemon/DaemonLock.ts"
import { daemonJson, readDaemonRecord, writeRecord } from "../../src/daemon/DaemonRecord.ts"
import { makeTempDir } from "../support/processes.ts"

const fsLayer = NodeFileSystem.layer

/** pid 4242 runs; every other pid does not (a table, not the machine's processes). */
const aliveOnly = (...pids: ReadonlyArray<number>): DaemonLock.IsAlive => (pid) => pids.includes(pid)

const tempHome = () =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = makeTempDir("qwen-auth-daemon-lock-")
      return { ...dir, qwen: join(dir.path, ".qwen") }
    }),
    (d) => Effect.sync(d.cleanup)
  )

/** Starts the TestClock at the wall clock, so mtimes and Clock agree. */
const wallClock = TestClock.setTime(Date.now())

/** A lock of another daemon, last touched `ageMs` before the (test) clock's now. */
const writeForeignLock = (qwen: string, pid: number, ageMs: number) =>
  Effect.map(Clock.currentTimeMillis, (now) => {
    mkdirSync(qwen, { recursive: true })
    const path = DaemonLock.daemonLockPath(qwen)
    writeFileSync(path, JSON.stringify({ pid, startedAt: "2026-11-28T00:00:00.000Z", id: "foreign" }))
    const t = (now - ageMs) / 1000
    utimesSync(path, t, t)
    return path
  })

describe("DaemonLock", () => {
  it.effect("a second daemon of the same home is refused, naming the first; a release frees the home", () =>
    Effect.gen(function*() {
      yield* wallClock
      const home = yield* tempHome()
      const first = yield* Scope.make()
      const held = yield* DaemonLock.acquire(home.qwen, { pid: 4242, startedAt: "2026-11-28T10:00:00.000Z", isAlive: aliveOnly(4242) }).pipe(
        Scope.provide(first)
      )
      const lockText = JSON.parse(readFileSync(held.path, "utf8"))
      assert.deepStrictEqual({ pid: lockText.pid, startedAt: lockText.startedAt }, { pid: 4242, startedAt: "2026-11-28T10:00:00.000Z" })
      assert.strictEqual(statSync(held.path).mode & 0o777, 0o600)
      const second = yield* Effect.scoped(
        DaemonLock.acquire(home.qwen, { pid: 5151, startedAt: "2026-11-28T11:00:00.000Z", isAlive: aliveOnly(4242, 5151) })
      ).pipe(Effect.flip)
      assert.strictEqual(second._tag, "DaemonRunning")
      assert.strictEqual(second.message, `a daemon (pid 4242, since 2026-11-28T10:00:00.000Z) already keeps ${home.qwen} fresh`)
      yield* Scope.close(first, Exit.void)
      assert.isFalse(existsSync(held.path), "released")
      const third = yield* Effect.scoped(
        Effect.map(DaemonLock.acquire(home.qwen, { pid: 5151, startedAt: "x", isAlive: aliveOnly(5151) }), (h) => h.info.pid)
      )
      assert.strictEqual(third, 5151)
    }).pipe(Effect.provide(fsLayer)))

  it.effect("a lock whose pid is gone (kill -9) is taken over at once; so is one naming this very pid", () =>
    Effect.gen(function*() {
      yield* wallClock
      const home = yield* tempHome()
      yield* writeForeignLock(home.qwen, 7777, 1_000)
      const verdict = yield* DaemonLock.inspect(DaemonLock.daemonLockPath(home.qwen), aliveOnly())
      assert.deepStrictEqual(verdict._tag === "Stale" ? verdict.why : verdict._tag, "gone")
      const pid = yield* Effect.scoped(Effect.map(DaemonLock.acquire(home.qwen, { pid: 8888, startedAt: "x", isAlive: aliveOnly(8888) }), (h) => h.info.pid))
      assert.strictEqual(pid, 8888)
      // A container restarted with the same pid: its own pid in the lock is a previous life.
      yield* writeForeignLock(home.qwen, 1, 1_000)
      const again = yield* Effect.scoped(Effect.map(DaemonLock.acquire(home.qwen, { pid: 1, startedAt: "y", isAlive: aliveOnly(1) }), (h) => h.info.startedAt))
      assert.strictEqual(again, "y")
    }).pipe(Effect.provide(fsLayer)))

  it.effect("a live pid's lock is respected up to 60 s without a touch, then taken over", () =>
    Effect.gen(function*() {
      yield* wallClock
      const home = yield* tempHome()
      yield* writeForeignLock(home.qwen, 4242, 59_000)
      const busy = yield* Effect.scoped(DaemonLock.acquire(home.qwen, { pid: 5151, startedAt: "x", isAlive: aliveOnly(4242) })).pipe(Effect.flip)
      assert.strictEqual(busy._tag, "DaemonRunning")
      yield* TestClock.adjust(DaemonLock.STALE_MS - 59_000 + 1)
      const taken = yield* Effect.scoped(Effect.map(DaemonLock.acquire(home.qwen, { pid: 5151, startedAt: "x", isAlive: aliveOnly(4242) }), (h) => h.info.pid))
      assert.strictEqual(taken, 5151)
    }).pipe(Effect.provide(fsLayer)))

  it.effect("the holder touches the lock every 10 s (so it never looks stale) and fails `lost` once it is taken away", () =>
    Effect.gen(function*() {
      yield* wallClock
      const home = yield* tempHome()
      const held = yield* DaemonLock.acquire(home.qwen, { pid: 4242, startedAt: "x", isAlive: aliveOnly(4242) })
      const lost = yield* Effect.forkChild(held.lost)
      for (let i = 1; i <= 12; i++) {
        yield* TestClock.adjust(DaemonLock.HEARTBEAT_MS)
        const now = yield* Clock.currentTimeMillis
        // The touch is real file I/O: wait (wall time) until it landed.
        for (let w = 0; w < 200 && Math.abs(statSync(held.path).mtimeMs - now) > 1; w++) {
          yield* Effect.promise(() => new Promise((r) => setTimeout(r, 10)))
        }
        assert.approximately(statSync(held.path).mtimeMs, now, 1, `touched at ${i * 10} s`)
      }
      // 120 s on: another daemon sees it live.
      const verdict = yield* DaemonLock.inspect(held.path, aliveOnly(4242), 5151)
      assert.strictEqual(verdict._tag, "Live")
      // Someone takes it over: the next heartbeat says so.
      yield* writeForeignLock(home.qwen, 9999, 0)
      yield* TestClock.adjust(DaemonLock.HEARTBEAT_MS)
      const exit = yield* Fiber.await(lost)
      assert.isTrue(Exit.isFailure(exit))
      assert.include(JSON.stringify(exit), "compromised")
    }).pipe(Effect.provide(fsLayer)))

  it.effect("readDaemonRecord: running with its record while the lock is live; null in status once the pid is gone", () =>
    Effect.gen(function*() {
      yield* wallClock
      const home = yield* tempHome()
      const settings = { qwenHome: home.qwen }
      assert.deepStrictEqual(yield* readDaemonRecord(settings, aliveOnly()), { _tag: "none" })
      yield* DaemonLock.acquire(home.qwen, { pid: 4242, startedAt: "2026-11-28T10:00:00.000Z", isAlive: aliveOnly(4242) })
      yield* writeRecord(home.qwen, {
        version: 1,
        pid: 4242,
        startedAt: "2026-11-28T10:00:00.000Z",
        lastRefreshAt: "2026-11-28T10:05:00.000Z",
        nextRefreshAt: "2026-11-28T15:55:00.000Z",
        lastError: null
      })
      assert.strictEqual(statSync(join(home.qwen, "qwen-auth-daemon.json")).mode & 0o777, 0o600)
      const running = yield* readDaemonRecord(settings, aliveOnly(4242))
      assert.deepStrictEqual(daemonJson(running), {
        pid: 4242,
        startedAt: "2026-11-28T10:00:00.000Z",
        lastRefreshAt: "2026-11-28T10:05:00.000Z",
        nextRefreshAt: "2026-11-28T15:55:00.000Z"
      })
      const gone = yield* readDaemonRecord(settings, aliveOnly())
      assert.deepStrictEqual(gone, { _tag: "stale", pid: 4242, why: "gone" })
      assert.isNull(daemonJson(gone))
    }).pipe(Effect.provide(fsLayer)))
})

