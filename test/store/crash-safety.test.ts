/**
 * Crash safety of the atomic write: a child stops itself between write and rename (test-only
 * pause point), the test kills it there; the old file is intact and a later sweep removes the
 * orphaned temp file once it is older than the stale age.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { readdirSync, readFileSync, utimesSync } from "node:fs"
import { isOwnTempName, sweepStaleTempFiles } from "../../src/store/AtomicWrite.ts"
import { PAUSE_PHASES, pausedMarker } from "../../src/internal/TestPause.ts"
import { makeTempDir } from "../support/processes.ts"
import { writeText } from "./helpers.ts"
import { startPeer } from "./lock-peers.ts"

let dir: ReturnType<typeof makeTempDir>
beforeEach(() => {
  dir = makeTempDir()
})
afterEach(() => dir.cleanup())

const sweep = (olderThanMs: number) =>
  Effect.runPromise(sweepStaleTempFiles(dir.path, olderThanMs).pipe(Effect.provide(NodeServices.layer)))

describe("atomic write crash safety", () => {
  it("a writer killed between write and rename leaves the old file intact", async () => {
    const path = `${dir.path}/oauth_creds.json`
    writeText(path, "{\"old\":true}")
    const child = startPeer("atomic-write-child.ts", [path, "{\"new\":true}"], dir.path, {
      NODE_ENV: "test",
      QWEN_AUTH_TEST_PAUSE_AT: "atomic-write:before-rename"
    })
    await child.waitFor(pausedMarker("atomic-write:before-rename"))
    child.child.kill("SIGKILL")
    const exit = await child.exit
    assert.strictEqual(exit.signal, "SIGKILL")
    assert.notInclude(child.lines, "WRITTEN")
    assert.strictEqual(readFileSync(path, "utf8"), "{\"old\":true}")
    const temps = readdirSync(dir.path).filter(isOwnTempName)
    assert.lengthOf(temps, 1)
    assert.strictEqual(readFileSync(`${dir.path}/${temps[0]}`, "utf8"), "{\"new\":true}")

    // Fresh: the default stale age (60 s) keeps it (a live writer may still rename it).
    await sweep(60_000)
    assert.lengthOf(readdirSync(dir.path).filter(isOwnTempName), 1)
    // Once older than the stale age, the sweep removes it; nothing else is touched.
    const old = new Date(Date.now() - 61_000)
    utimesSync(`${dir.path}/${temps[0]}`, old, old)
    await sweep(60_000)
    assert.deepStrictEqual(readdirSync(dir.path), ["oauth_creds.json"])
  })

  it("without NODE_ENV=test the pause point is ignored and the write completes", async () => {
    const path = `${dir.path}/oauth_creds.json`
    writeText(path, "old")
    const child = startPeer("atomic-write-child.ts", [path, "new"], dir.path, {
      QWEN_AUTH_TEST_PAUSE_AT: "atomic-write:before-rename"
    })
    const exit = await child.exit
    assert.strictEqual(exit.code, 0, exit.stderr)
    assert.include(child.lines, "WRITTEN")
    assert.strictEqual(readFileSync(path, "utf8"), "new")
    assert.deepStrictEqual(readdirSync(dir.path), ["oauth_creds.json"])
  })

  it("lists every pause phase", () => {
    assert.deepStrictEqual([...PAUSE_PHASES].sort(), [
      "atomic-write:after-temp-write",
      "atomic-write:before-rename",
      "lock:openclaw:held",
      "lock:qwen-code:held",
      "refresh:after-post"
    ])
  })
})
