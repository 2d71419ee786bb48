import * as NodeServices from "@effect/platform-node/NodeServices"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Option } from "effect"
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync } from "node:fs"
import {
  ensureDirectory,
  readFileIfExists,
  sweepStaleTempFiles,
  tempPathFor,
  writeFileAtomic
} from "../../src/store/AtomicWrite.ts"
import { bytesOf, faultyFs, permissionDenied, tempRoot, writeText } from "./helpers.ts"

const modeOf = (path: string) => statSync(path).mode & 0o777
const isRoot = process.getuid?.() === 0

const run = <A, E>(effect: Effect.Effect<A, E, any>) => Effect.provide(effect, NodeServices.layer)

describe("writeFileAtomic", () => {
  it.live("writes a new credential file with mode 0600 and leaves no temp file", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const path = `${root}/creds.json`
      yield* run(writeFileAtomic(path, "{\"a\":1}\n", { credential: true }))
      assert.strictEqual(readFileSync(path, "utf8"), "{\"a\":1}\n")
      assert.strictEqual(modeOf(path), 0o600)
      assert.deepStrictEqual(readdirSync(root), ["creds.json"])
    }))

  it.live("tightens a loose credential file to 0600 when it rewrites it", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const path = `${root}/creds.json`
      writeText(path, "old", 0o644)
      chmodSync(path, 0o644)
      yield* run(writeFileAtomic(path, "new", { credential: true }))
      assert.strictEqual(readFileSync(path, "utf8"), "new")
      assert.strictEqual(modeOf(path), 0o600)
    }))

  it.live("keeps an existing non-credential file's mode; new ones get the given mode", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const existing = `${root}/openclaw.json`
      writeText(existing, "{}")
      chmodSync(existing, 0o644)
      yield* run(writeFileAtomic(existing, "{\"x\":1}", { credential: false }))
      assert.strictEqual(modeOf(existing), 0o644)
      yield* run(writeFileAtomic(`${root}/new.json`, "{}", { credential: false }))
      assert.strictEqual(modeOf(`${root}/new.json`), 0o600)
      yield* run(writeFileAtomic(`${root}/new2.json`, "{}", { credential: false, mode: 0o640 }))
      assert.strictEqual(modeOf(`${root}/new2.json`), 0o640)
    }))

  it.live("refuses a symlinked credential file, naming the path and target; bytes unchanged", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const target = `${root}/elsewhere.json`
      const link = `${root}/creds.json`
      writeText(target, "original")
      symlinkSync(target, link)
      const exit = yield* Effect.exit(run(writeFileAtomic(link, "new", { credential: true })))
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? exit.cause.reasons[0] : undefined
      assert.strictEqual(error?._tag, "Fail")
      const fail = error?._tag === "Fail" ? error.error : undefined
      assert.strictEqual(fail?._tag, "MalformedFile")
      assert.include(fail?.message ?? "", link)
      assert.include(fail?.message ?? "", `symlink to ${target}`)
      assert.strictEqual(readFileSync(target, "utf8"), "original")
      assert.isTrue(statSync(link).isFile())
      assert.deepStrictEqual(readdirSync(root).sort(), ["creds.json", "elsewhere.json"])
    }))

  it.live("writes a symlinked non-credential file at its target and keeps the link", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      mkdirSync(`${root}/dotfiles`)
      writeText(`${root}/dotfiles/openclaw.json`, "{}")
      symlinkSync(`${root}/dotfiles/openclaw.json`, `${root}/openclaw.json`)
      yield* run(writeFileAtomic(`${root}/openclaw.json`, "{\"y\":2}", { credential: false }))
      assert.strictEqual(readFileSync(`${root}/dotfiles/openclaw.json`, "utf8"), "{\"y\":2}")
      assert.strictEqual(readFileSync(`${root}/openclaw.json`, "utf8"), "{\"y\":2}")
    }))

  it.live("accepts a symlinked parent folder (dotfile repos)", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      mkdirSync(`${root}/real-qwen`)
      symlinkSync(`${root}/real-qwen`, `${root}/qwen`)
      yield* run(writeFileAtomic(`${root}/qwen/oauth_creds.json`, "x", { credential: true }))
      assert.strictEqual(readFileSync(`${root}/real-qwen/oauth_creds.json`, "utf8"), "x")
    }))

  it.live("fails with MalformedFile when a folder is where the file should be", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      mkdirSync(`${root}/creds.json`)
      const error = yield* Effect.flip(run(writeFileAtomic(`${root}/creds.json`, "x", { credential: true })))
      assert.strictEqual(error._tag, "MalformedFile")
      assert.include(error.message, `${root}/creds.json`)
      assert.isTrue(statSync(`${root}/creds.json`).isDirectory())
    }))

  it.live("fails with FileAccessError naming the file when the folder is missing", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const error = yield* Effect.flip(run(writeFileAtomic(`${root}/missing/creds.json`, "x", { credential: true })))
      assert.strictEqual(error._tag, "FileAccessError")
      assert.include(error.message, `${root}/missing/creds.json`)
      assert.isFalse(existsSync(`${root}/missing`))
    }))

  it.live("a failed rename (read-only folder) leaves the old file intact and removes the temp file", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const path = `${root}/creds.json`
      writeText(path, "old")
      const before = bytesOf(path)
      const layer = faultyFs(() => ({ rename: (from) => Effect.fail(permissionDenied("rename", from)) }))
      const error = yield* Effect.flip(Effect.provide(writeFileAtomic(path, "new", { credential: true }), layer))
      assert.strictEqual(error._tag, "FileAccessError")
      assert.include(error.message, path)
      assert.include(error.message, "permission denied")
      assert.strictEqual(bytesOf(path), before)
      assert.deepStrictEqual(readdirSync(root), ["creds.json"])
    }))

  it.live.skipIf(isRoot)("a really read-only folder gives FileAccessError and no change", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const path = `${root}/ro/creds.json`
      writeText(path, "old")
      chmodSync(`${root}/ro`, 0o500)
      const error = yield* Effect.flip(run(writeFileAtomic(path, "new", { credential: true })))
      chmodSync(`${root}/ro`, 0o700)
      assert.strictEqual(error._tag, "FileAccessError")
      assert.strictEqual(readFileSync(path, "utf8"), "old")
    }))
})

describe("readFileIfExists", () => {
  it.live("returns None for a missing file and the text, size and mode otherwise", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      assert.isTrue(Option.isNone(yield* run(readFileIfExists(`${root}/none.json`))))
      writeText(`${root}/a.json`, "hello", 0o640)
      chmodSync(`${root}/a.json`, 0o640)
      const read = yield* run(readFileIfExists(`${root}/a.json`))
      assert.isTrue(Option.isSome(read))
      const value = Option.getOrThrow(read)
      assert.strictEqual(value.text, "hello")
      assert.strictEqual(value.size, 5)
      assert.strictEqual(value.mode, 0o640)
    }))

  it.live("a folder in place of the file is a MalformedFile naming it", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      mkdirSync(`${root}/dir.json`)
      const error = yield* Effect.flip(run(readFileIfExists(`${root}/dir.json`)))
      assert.strictEqual(error._tag, "MalformedFile")
      assert.include(error.message, `${root}/dir.json`)
      assert.include(error.message, "folder")
    }))

  it.live("an unreadable file is a FileAccessError naming it", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      writeText(`${root}/a.json`, "secret")
      const layer = faultyFs(() => ({ readFileString: (p) => Effect.fail(permissionDenied("readFileString", p)) }))
      const error = yield* Effect.flip(Effect.provide(readFileIfExists(`${root}/a.json`), layer))
      assert.strictEqual(error._tag, "FileAccessError")
      assert.include(error.message, `${root}/a.json`)
      assert.include(error.message, "permission denied")
    }))

  it.live("a symlinked credential file is refused on read too", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      writeText(`${root}/target.json`, "{}")
      symlinkSync(`${root}/target.json`, `${root}/link.json`)
      const error = yield* Effect.flip(run(readFileIfExists(`${root}/link.json`, { credential: true })))
      assert.strictEqual(error._tag, "MalformedFile")
      assert.include(error.message, "symlink")
      // Not a credential file: followed.
      const read = yield* run(readFileIfExists(`${root}/link.json`))
      assert.strictEqual(Option.getOrThrow(read).text, "{}")
    }))
})

describe("ensureDirectory", () => {
  it.live("creates missing folders with mode 0700 and leaves existing ones alone", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      mkdirSync(`${root}/open`, { mode: 0o755 })
      chmodSync(`${root}/open`, 0o755)
      yield* run(ensureDirectory(`${root}/open`))
      assert.strictEqual(modeOf(`${root}/open`), 0o755)
      yield* run(ensureDirectory(`${root}/a/b/c`))
      assert.strictEqual(modeOf(`${root}/a`), 0o700)
      assert.strictEqual(modeOf(`${root}/a/b/c`), 0o700)
    }))

  it.live("a file in the way is a FileAccessError", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      writeText(`${root}/file`, "x")
      const error = yield* Effect.flip(run(ensureDirectory(`${root}/file`)))
      assert.strictEqual(error._tag, "FileAccessError")
      assert.include(error.message, `${root}/file`)
    }))
})

describe("sweepStaleTempFiles", () => {
  it.live("removes only our own temp files older than the given age", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const oldOwn = tempPathFor(`${root}/oauth_creds.json`)
      const freshOwn = tempPathFor(`${root}/auth-profiles.json`)
      writeText(oldOwn, "x")
      writeText(freshOwn, "y")
      writeText(`${root}/.oauth_creds.json.other-tool-abc.tmp`, "z")
      writeText(`${root}/oauth_creds.json`, "keep")
      const old = new Date(Date.now() - 120_000)
      utimesSync(oldOwn, old, old)
      utimesSync(`${root}/.oauth_creds.json.other-tool-abc.tmp`, old, old)
      yield* run(sweepStaleTempFiles(root, 60_000))
      assert.isFalse(existsSync(oldOwn))
      assert.isTrue(existsSync(freshOwn))
      assert.isTrue(existsSync(`${root}/.oauth_creds.json.other-tool-abc.tmp`))
      assert.isTrue(existsSync(`${root}/oauth_creds.json`))
      // A missing folder is not an error.
      yield* run(sweepStaleTempFiles(`${root}/missing`))
    }))
})
