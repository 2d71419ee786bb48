/**
 * Both lock protocols against faithful peers in separate processes: a child running
 * proper-lockfile with OpenClaw's options, and a child re-implementing Qwen Code's lock steps.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { QwenAuthConfig } from "../../src/Config.ts"
import { pathsOf } from "../../src/Config.ts"
import { CredentialStore } from "../../src/store/CredentialStore.ts"
import { OpenClawLock } from "../../src/store/locks/OpenClawLock.ts"
import * as QwenCodeLock from "../../src/store/locks/QwenCodeLock.ts"
import { makeTempDir } from "../support/processes.ts"
import { creds, fastOpenClawLock, settingsFor } from "./helpers.ts"
import { type Peer, startPeer } from "./lock-peers.ts"

let dir: ReturnType<typeof makeTempDir>
let peers: Array<Peer> = []
beforeEach(() => {
  dir = makeTempDir()
  peers = []
})
afterEach(() => {
  for (const p of peers) if (p.child.exitCode === null) p.child.kill("SIGKILL")
  dir.cleanup()
})
const peer = (script: string, args: ReadonlyArray<string>, env?: Record<string, string>) => {
  const p = startPeer(script, args, dir.path, env)
  peers.push(p)
  return p
}
const allExitedOk = async (list: ReadonlyArray<Peer>) => {
  const exits = await Promise.all(list.map((p) => p.exit))
  for (const e of exits) assert.strictEqual(e.code, 0, e.stderr)
}

describe("Qwen Code lock: mutual exclusion across processes", () => {
  it("12 workers (6 Qwen Code re-implementations, 6 qwen-auth) never lose an increment", async () => {
    const lock = `${dir.path}/oauth_creds.lock`
    const counter = `${dir.path}/counter`
    writeFileSync(counter, "0")
    const workers = Array.from({ length: 12 }, (_, i) =>
      i % 2 === 0
        ? peer("qwen-code-lock-worker.mjs", ["count", lock, counter, "8"])
        : peer("store-lock-worker.ts", ["qwen-count", lock, counter, "8"]))
    await allExitedOk(workers)
    assert.strictEqual(readFileSync(counter, "utf8"), String(12 * 8))
    assert.isFalse(existsSync(lock))
    assert.deepStrictEqual(readdirSync(dir.path).filter((n) => n.includes(".stale.")), [])
  })

  it("a lock held by a live Qwen Code process is waited for, not taken", async () => {
    const lock = `${dir.path}/oauth_creds.lock`
    const holder = peer("qwen-code-lock-worker.mjs", ["hold", lock, "1500"])
    await holder.waitFor("LOCKED")
    const holderUuid = readFileSync(lock, "utf8")
    const sawWhenAcquired = await Effect.runPromise(
      Effect.sync(() => [...holder.lines]).pipe(QwenCodeLock.withLock(lock), Effect.provide(NodeServices.layer))
    )
    assert.include(sawWhenAcquired, "RELEASED")
    assert.match(holderUuid, /^[0-9a-f-]{36}$/)
    assert.isFalse(existsSync(lock))
  })

  it("a Qwen Code holder whose refresh runs 12 s (lock never touched, older than 0.12.0's 10 s limit) is waited for", async () => {
    const lock = `${dir.path}/oauth_creds.lock`
    const holder = peer("qwen-code-lock-worker.mjs", ["hold", lock, "12000"])
    await holder.waitFor("LOCKED")
    const sawWhenAcquired = await Effect.runPromise(
      Effect.sync(() => [...holder.lines]).pipe(QwenCodeLock.withLock(lock), Effect.provide(NodeServices.layer))
    )
    assert.include(sawWhenAcquired, "RELEASED", "taken only after the holder released it")
    await allExitedOk([holder])
  }, 60_000)

  it("qwen-auth keeps its lock fresh: a Qwen Code peer does not take it for stale", async () => {
    const lock = `${dir.path}/oauth_creds.lock`
    // Our holder keeps the lock 2.5 s with a 200 ms heartbeat; the peer deems 800 ms stale.
    const ours = peer("store-lock-worker.ts", ["qwen-hold", lock, "2500", "800", "200"])
    await ours.waitFor("LOCKED")
    const contender = peer("qwen-code-lock-worker.mjs", ["hold", lock, "10", "800"])
    await contender.waitFor("LOCKED")
    assert.include(ours.lines, "RELEASED", "the peer got the lock only after qwen-auth released it")
    await allExitedOk([ours, contender])
  })

  it("a Qwen Code peer that crashed while holding the lock: the stale lock is taken over", async () => {
    const lock = `${dir.path}/oauth_creds.lock`
    const crashed = peer("store-lock-worker.ts", ["qwen-hold", lock, "60000", "10000", "60000"], {
      NODE_ENV: "test",
      QWEN_AUTH_TEST_PAUSE_AT: "lock:qwen-code:held"
    })
    await crashed.waitFor("QWEN_AUTH_PAUSED lock:qwen-code:held")
    crashed.child.kill("SIGKILL")
    await crashed.exit
    const orphan = readFileSync(lock, "utf8")
    const timing = { ...QwenCodeLock.DEFAULT_TIMING, staleMs: 300 }
    const held = await Effect.runPromise(
      Effect.sync(() => readFileSync(lock, "utf8")).pipe(
        QwenCodeLock.withLock(lock, timing),
        Effect.provide(NodeServices.layer)
      )
    )
    assert.notStrictEqual(held, orphan)
    assert.isFalse(existsSync(lock))
  })
})

describe("OpenClaw lock: mutual exclusion across processes", () => {
  it("12 workers (6 proper-lockfile with OpenClaw's options, 6 qwen-auth) never lose an increment", async () => {
    const file = `${dir.path}/auth-profiles.json`
    const counter = `${dir.path}/counter`
    writeFileSync(file, "{\"version\":1,\"profiles\":{}}")
    writeFileSync(counter, "0")
    const workers = Array.from({ length: 12 }, (_, i) =>
      i % 2 === 0
        ? peer("openclaw-lock-worker.mjs", ["count", file, counter, "6"])
        : peer("store-lock-worker.ts", ["openclaw-count", file, counter, "6"]))
    await allExitedOk(workers)
    assert.strictEqual(readFileSync(counter, "utf8"), String(12 * 6))
    assert.isFalse(existsSync(`${file}.lock`))
  })

  it("a lock held by OpenClaw is waited for; with short retries it times out naming the lock", async () => {
    const file = `${dir.path}/auth-profiles.json`
    writeFileSync(file, "{}")
    const holder = peer("openclaw-lock-worker.mjs", ["hold", file, "1500"])
    await holder.waitFor("LOCKED")
    const error = await Effect.runPromise(
      Effect.flip(Effect.gen(function*() {
        const lock = yield* OpenClawLock
        return yield* lock.withLock(file, Effect.void)
      })).pipe(Effect.provide(fastOpenClawLock.pipe(Layer.provide(NodeServices.layer))))
    )
    assert.strictEqual(error._tag, "LockError")
    assert.strictEqual(error.reason, "timeout")
    assert.include(error.message, `${file}.lock`)
    // With OpenClaw's own options it waits until the holder is done.
    const seen = await Effect.runPromise(
      Effect.gen(function*() {
        const lock = yield* OpenClawLock
        return yield* lock.withLock(file, Effect.sync(() => [...holder.lines]))
      }).pipe(Effect.provide(OpenClawLock.layer.pipe(Layer.provide(NodeServices.layer))))
    )
    assert.include(seen, "RELEASED")
  })
})

describe("CredentialStore.update across processes", () => {
  it("4 processes × 5 read-modify-writes under both locks lose no update", async () => {
    const settings = settingsFor(dir.path)
    const paths = pathsOf(settings)
    await Effect.runPromise(
      CredentialStore.use((s) => s.save(creds("1", 1_000_000))).pipe(
        Effect.provide(
          CredentialStore.layerWithLocks.pipe(
            Layer.provide(QwenAuthConfig.layerFrom(settings)),
            Layer.provide(NodeServices.layer)
          )
        )
      )
    )
    const workers = Array.from({ length: 4 }, () => peer("store-lock-worker.ts", ["store-bump", dir.path, "5"]))
    await allExitedOk(workers)
    const profile = JSON.parse(readFileSync(paths.authProfiles, "utf8")).profiles["qwen-portal:default"]
    const qwen = JSON.parse(readFileSync(paths.qwenCreds, "utf8"))
    assert.strictEqual(profile.expires, 1_000_020)
    assert.strictEqual(qwen.expiry_date, 1_000_020)
  })

  it("while OpenClaw holds its lock, update does not take Qwen Code's (fixed order)", async () => {
    const settings = settingsFor(dir.path)
    const paths = pathsOf(settings)
    const store = CredentialStore.layer.pipe(
      Layer.provide(OpenClawLock.layer),
      Layer.provide(QwenAuthConfig.layerFrom(settings)),
      Layer.provide(NodeServices.layer)
    )
    await Effect.runPromise(CredentialStore.use((s) => s.save(creds("1", 5))).pipe(Effect.provide(store)))
    const holder = peer("openclaw-lock-worker.mjs", ["hold", paths.authProfiles, "1200"])
    await holder.waitFor("LOCKED")
    const samples: Array<boolean> = []
    const sampler = setInterval(() => {
      if (!holder.lines.includes("RELEASED")) samples.push(existsSync(paths.qwenLock))
    }, 20)
    const seen = await Effect.runPromise(
      CredentialStore.use((s) =>
        s.update(() => Effect.sync(() => ({ next: undefined, result: [...holder.lines] })))
      ).pipe(Effect.provide(store))
    )
    clearInterval(sampler)
    assert.include(seen, "RELEASED")
    assert.isAbove(samples.length, 5)
    assert.notInclude(samples, true)
  })
})
