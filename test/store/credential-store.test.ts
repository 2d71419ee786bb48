import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync } from "node:fs"
import { pathsOf, type Settings } from "../../src/Config.ts"
import { tokenHash } from "../../src/domain/Credentials.ts"
import { CredentialStore } from "../../src/store/CredentialStore.ts"
import {
  bytesOf,
  creds,
  faultyFs,
  permissionDenied,
  profileJson,
  qwenCredsJson,
  readJson,
  settingsFor,
  storeLayer,
  tempRoot,
  writeJson,
  writeText
} from "./helpers.ts"

/** Runs `f` with a store over a fresh temp folder. */
const withStore = <A, E>(
  f: (ctx: { settings: Settings; paths: ReturnType<typeof pathsOf> }) => Effect.Effect<A, E, CredentialStore>,
  overrides: Partial<Settings> = {},
  fs?: Parameters<typeof storeLayer>[1]
) =>
  Effect.gen(function*() {
    const root = yield* tempRoot
    const settings = settingsFor(root, overrides)
    return yield* Effect.provide(f({ settings, paths: pathsOf(settings) }), storeLayer(settings, fs))
  })

const otherProfiles = {
  "anthropic:default": { type: "api_key", provider: "anthropic", key: "sk-other" },
  "qwen-portal:qwen-cli": profileJson("cli", 5)
}
const modeOf = (path: string) => statSync(path).mode & 0o777
const later = Date.now() + 3_600_000

describe("CredentialStore.load", () => {
  it.live("with no files: no credentials, reason none, every file reported missing", () =>
    withStore(({ paths }) =>
      Effect.gen(function*() {
        const snap = yield* CredentialStore.use((s) => s.load)
        assert.strictEqual(snap.credentials, undefined)
        assert.strictEqual(snap.absentReason, "none")
        assert.deepStrictEqual(snap.files.map((f) => [f.path, f.exists]), [
          [paths.qwenCreds, false],
          [paths.authProfiles, false],
          [paths.ownCreds, false],
          [paths.state, false]
        ])
      })
    ))

  it.live("qwen-auth's own copy is a source of its own, also with Qwen Code sync off", () =>
    withStore(({ paths }) =>
      Effect.gen(function*() {
        writeJson(paths.ownCreds, qwenCredsJson("own", later))
        writeJson(paths.qwenCreds, qwenCredsJson("q", later - 10_000))
        const snap = yield* CredentialStore.use((s) => s.load)
        assert.strictEqual(snap.source, "qwen-auth")
        assert.strictEqual(Redacted.value(snap.credentials!.accessToken), "access-own")
        assert.isTrue(snap.stale)
      }), { qwenCodeSync: false }))

  it.live("the valid source with the later expiry wins and the other is reported stale", () =>
    withStore(({ paths }) =>
      Effect.gen(function*() {
        writeJson(paths.qwenCreds, qwenCredsJson("q", later + 1000))
        writeJson(paths.authProfiles, { version: 1, profiles: { "qwen-portal:default": profileJson("o", later) } })
        const snap = yield* CredentialStore.use((s) => s.load)
        assert.strictEqual(snap.source, "qwen-code")
        assert.strictEqual(Redacted.value(snap.credentials!.accessToken), "access-q")
        assert.isTrue(snap.stale)
        assert.deepStrictEqual(snap.problems, [])
      })
    ))

  it.live("a malformed source is a problem while the other still wins; files stay byte-identical", () =>
    withStore(({ paths }) =>
      Effect.gen(function*() {
        writeText(paths.qwenCreds, "{ not json")
        writeJson(paths.authProfiles, { version: 1, profiles: { "qwen-portal:default": profileJson("o", later) } })
        const before = bytesOf(paths.qwenCreds)
        const snap = yield* CredentialStore.use((s) => s.load)
        assert.strictEqual(snap.source, "openclaw")
        assert.lengthOf(snap.problems, 1)
        assert.include(snap.problems[0]!, paths.qwenCreds)
        const report = snap.files.find((f) => f.path === paths.qwenCreds)!
        assert.isFalse(report.ok)
        assert.include(report.problem!, "not valid JSON")
        // A write heals only what it may: the malformed file is never overwritten.
        yield* CredentialStore.use((s) => s.save(creds("n", later + 5)))
        assert.strictEqual(bytesOf(paths.qwenCreds), before)
        assert.strictEqual(readJson(paths.authProfiles).profiles["qwen-portal:default"].access, "access-n")
      })
    ))

  it.live("every source malformed: load fails naming a file; save and update write nothing", () =>
    withStore(({ paths }) =>
      Effect.gen(function*() {
        writeJson(paths.qwenCreds, qwenCredsJson("q", later, { expiry_date: "soon" }))
        writeText(paths.authProfiles, "[]")
        const before = [bytesOf(paths.qwenCreds), bytesOf(paths.authProfiles)]
        const error = yield* Effect.flip(CredentialStore.use((s) => s.load))
        assert.strictEqual(error._tag, "MalformedFile")
        assert.include([paths.qwenCreds, paths.authProfiles], (error as { path: string }).path)
        const saveError = yield* Effect.flip(CredentialStore.use((s) => s.save(creds("n", later))))
        assert.strictEqual(saveError._tag, "MalformedFile")
        assert.include(saveError.message, paths.authProfiles)
        const updateError = yield* Effect.flip(
          CredentialStore.use((s) => s.update(() => Effect.succeed({ next: creds("n", later), result: 1 })))
        )
        assert.strictEqual(updateError._tag, "MalformedFile")
        assert.deepStrictEqual([bytesOf(paths.qwenCreds), bytesOf(paths.authProfiles)], before)
        assert.isFalse(existsSync(paths.qwenLock))
      })
    ))

  it.live("an unknown auth-profiles.json version: named problem, never rewritten", () =>
    withStore(({ paths }) =>
      Effect.gen(function*() {
        writeJson(paths.authProfiles, { version: 2, profiles: { "qwen-portal:default": profileJson("o", later) } })
        writeJson(paths.qwenCreds, qwenCredsJson("q", later))
        const before = bytesOf(paths.authProfiles)
        const snap = yield* CredentialStore.use((s) => s.load)
        assert.strictEqual(snap.source, "qwen-code")
        assert.include(snap.problems.join("\n"), "version 2")
        const error = yield* Effect.flip(CredentialStore.use((s) => s.save(creds("n", later))))
        assert.strictEqual(error._tag, "MalformedFile")
        assert.include(error.message, paths.authProfiles)
        assert.strictEqual(bytesOf(paths.authProfiles), before)
        // Not even half-written: the Qwen Code file is untouched too.
        assert.strictEqual(readJson(paths.qwenCreds).access_token, "access-q")
      })
    ))

  it.live("a folder where auth-profiles.json should be is a named problem", () =>
    withStore(({ paths }) =>
      Effect.gen(function*() {
        mkdirSync(paths.authProfiles, { recursive: true })
        writeJson(paths.qwenCreds, qwenCredsJson("q", later))
        const snap = yield* CredentialStore.use((s) => s.load)
        assert.strictEqual(snap.source, "qwen-code")
        const report = snap.files.find((f) => f.path === paths.authProfiles)!
        assert.isFalse(report.ok)
        assert.include(report.problem!, "folder")
        const error = yield* Effect.flip(CredentialStore.use((s) => s.save(creds("n", later))))
        assert.include(error.message, paths.authProfiles)
        assert.isTrue(statSync(paths.authProfiles).isDirectory())
      })
    ))

  it.live("a symlinked oauth_creds.json is refused and left alone; the profile is still written", () =>
    withStore(({ paths, settings }) =>
      Effect.gen(function*() {
        mkdirSync(settings.qwenHome, { recursive: true })
        writeJson(`${settings.qwenHome}/real.json`, qwenCredsJson("q", later))
        symlinkSync(`${settings.qwenHome}/real.json`, paths.qwenCreds)
        const before = bytesOf(`${settings.qwenHome}/real.json`)
        const loadError = yield* Effect.flip(CredentialStore.use((s) => s.load))
        assert.strictEqual(loadError._tag, "MalformedFile")
        assert.include(loadError.message, `${paths.qwenCreds}: is a symlink to ${settings.qwenHome}/real.json`)
        // With every source unusable, update cannot decide; save (a login) writes what it may.
        const error = yield* Effect.flip(
          CredentialStore.use((s) => s.update(() => Effect.succeed({ next: creds("n", later), result: undefined })))
        )
        assert.strictEqual(error._tag, "MalformedFile")
        yield* CredentialStore.use((s) => s.save(creds("n", later)))
        assert.strictEqual(bytesOf(`${settings.qwenHome}/real.json`), before)
        assert.isTrue(lstatSync(paths.qwenCreds).isSymbolicLink())
        const snap = yield* CredentialStore.use((s) => s.load)
        assert.strictEqual(snap.source, "openclaw")
        assert.include(snap.problems.join("\n"), "symlink")
        assert.strictEqual(readJson(paths.authProfiles).profiles["qwen-portal:default"].access, "access-n")
      })
    ))

  it.live("an unreadable file is a problem; alone it fails with FileAccessError naming it", () =>
    Effect.gen(function*() {
      const fs = faultyFs((real) => ({
        readFileString: (p, enc) => p.endsWith("oauth_creds.json") ? Effect.fail(permissionDenied("readFile", p)) : real.readFileString(p, enc)
      }))
      yield* withStore(({ paths }) =>
        Effect.gen(function*() {
          writeJson(paths.qwenCreds, qwenCredsJson("q", later))
          const error = yield* Effect.flip(CredentialStore.use((s) => s.load))
          assert.strictEqual(error._tag, "FileAccessError")
          assert.include(error.message, paths.qwenCreds)
          writeJson(paths.authProfiles, { version: 1, profiles: { "qwen-portal:default": profileJson("o", later) } })
          const snap = yield* CredentialStore.use((s) => s.load)
          assert.strictEqual(snap.source, "openclaw")
          assert.include(snap.problems.join("\n"), "permission denied")
        }), {}, fs)
    }))

  it.live("reports loose modes without changing them", () =>
    withStore(({ paths }) =>
      Effect.gen(function*() {
        writeJson(paths.qwenCreds, qwenCredsJson("q", later), 0o644)
        chmodSync(paths.qwenCreds, 0o644)
        const snap = yield* CredentialStore.use((s) => s.load)
        const report = snap.files.find((f) => f.path === paths.qwenCreds)!
        assert.strictEqual(report.mode, "644")
        assert.isFalse(report.ok)
        assert.strictEqual(modeOf(paths.qwenCreds), 0o644)
      })
    ))
})

describe("CredentialStore.save and update", () => {
  it.live("save writes every target (0600, folders 0700), keeping other profiles and unknown fields", () =>
    withStore(({ paths, settings }) =>
      Effect.gen(function*() {
        writeJson(paths.authProfiles, { version: 1, profiles: otherProfiles, extra: true })
        const written = yield* CredentialStore.use((s) =>
          s.save(creds("1", later, { resourceUrl: "portal.qwen.ai" }).with({ lifetimeMs: 21_600_000 }))
        )
        assert.deepStrictEqual([...written].sort(), [paths.authProfiles, paths.qwenCreds, paths.ownCreds, paths.state].sort())
        // qwen-auth's own copy holds the same chain in Qwen Code's format.
        assert.strictEqual(readJson(paths.ownCreds).refresh_token, "refresh-1")
        assert.strictEqual(modeOf(paths.ownCreds), 0o600)
        const store = readJson(paths.authProfiles)
        assert.deepStrictEqual(store.profiles["anthropic:default"], otherProfiles["anthropic:default"])
        assert.deepStrictEqual(store.profiles["qwen-portal:qwen-cli"], otherProfiles["qwen-portal:qwen-cli"])
        assert.strictEqual(store.extra, true)
        assert.strictEqual(readJson(paths.qwenCreds).refresh_token, "refresh-1")
        assert.strictEqual(readJson(paths.state).issuedLifetimeSeconds, 21600)
        assert.strictEqual(readJson(paths.state).resourceUrl, "portal.qwen.ai")
        for (const p of [paths.authProfiles, paths.qwenCreds, paths.state]) assert.strictEqual(modeOf(p), 0o600)
        assert.strictEqual(modeOf(settings.qwenHome), 0o700)
        assert.strictEqual(modeOf(settings.openclawAgentDir), 0o700)
        assert.isFalse(existsSync(paths.qwenLock))
        assert.isFalse(existsSync(`${paths.authProfiles}.lock`))
        const snap = yield* CredentialStore.use((s) => s.load)
        assert.strictEqual(snap.source, "openclaw")
        assert.isFalse(snap.stale)
        assert.strictEqual(snap.credentials!.lifetimeMs, 21_600_000)
        assert.strictEqual(snap.credentials!.resourceUrl, "portal.qwen.ai")
      })
    ))

  it.live("credentials without a refresh token go only to the OpenClaw profile", () =>
    withStore(({ paths }) =>
      Effect.gen(function*() {
        yield* CredentialStore.use((s) => s.save(creds("1", later, { refresh: null })))
        assert.isFalse(existsSync(paths.qwenCreds))
        assert.isFalse("refresh" in readJson(paths.authProfiles).profiles["qwen-portal:default"])
        const snap = yield* CredentialStore.use((s) => s.load)
        assert.strictEqual(snap.source, "openclaw")
        assert.strictEqual(snap.credentials!.refreshToken, undefined)
      })
    ))

  it.live("with Qwen Code sync off the Qwen Code file is neither read nor written", () =>
    withStore(({ paths, settings }) =>
      Effect.gen(function*() {
        writeJson(paths.qwenCreds, qwenCredsJson("q", later + 10_000))
        const before = bytesOf(paths.qwenCreds)
        const written = yield* CredentialStore.use((s) => s.save(creds("1", later)))
        assert.deepStrictEqual([...written].sort(), [paths.authProfiles, paths.ownCreds, paths.state].sort())
        assert.strictEqual(bytesOf(paths.qwenCreds), before)
        const snap = yield* CredentialStore.use((s) => s.load)
        assert.strictEqual(snap.source, "openclaw")
        assert.strictEqual(modeOf(settings.qwenHome), 0o700)
      }), { qwenCodeSync: false }))

  it.live("update heals the stale source when it writes, and writes nothing when told so", () =>
    withStore(({ paths }) =>
      Effect.gen(function*() {
        writeJson(paths.qwenCreds, qwenCredsJson("q", later + 1000, { extra_field: 7 }))
        writeJson(paths.authProfiles, { version: 1, profiles: { ...otherProfiles, "qwen-portal:default": profileJson("o", later) } })
        const before = [bytesOf(paths.qwenCreds), bytesOf(paths.authProfiles)]
        const seen = yield* CredentialStore.use((s) =>
          s.update((current) => Effect.succeed({ next: undefined, result: current.source }))
        )
        assert.strictEqual(seen, "qwen-code")
        assert.deepStrictEqual([bytesOf(paths.qwenCreds), bytesOf(paths.authProfiles)], before)
        yield* CredentialStore.use((s) =>
          s.update((current) => Effect.succeed({ next: current.credentials, result: undefined }))
        )
        assert.strictEqual(bytesOf(paths.qwenCreds), before[0])
        const profile = readJson(paths.authProfiles).profiles["qwen-portal:default"]
        assert.strictEqual(profile.access, "access-q")
        assert.strictEqual(profile.expires, later + 1000)
        assert.deepStrictEqual(readJson(paths.authProfiles).profiles["anthropic:default"], otherProfiles["anthropic:default"])
        const snap = yield* CredentialStore.use((s) => s.load)
        assert.isFalse(snap.stale)
      })
    ))

  it.live("a failing update step writes nothing and releases both locks", () =>
    withStore(({ paths }) =>
      Effect.gen(function*() {
        yield* CredentialStore.use((s) => s.save(creds("1", later)))
        const before = [bytesOf(paths.qwenCreds), bytesOf(paths.authProfiles), bytesOf(paths.state)]
        const error = yield* Effect.flip(CredentialStore.use((s) => s.update(() => Effect.fail("boom" as const))))
        assert.strictEqual(error, "boom")
        assert.deepStrictEqual([bytesOf(paths.qwenCreds), bytesOf(paths.authProfiles), bytesOf(paths.state)], before)
        assert.isFalse(existsSync(paths.qwenLock))
        assert.isFalse(existsSync(`${paths.authProfiles}.lock`))
      })
    ))

  it.live("markRefused (or a decision's `refused`) makes the credentials invalid: reason refused", () =>
    withStore(({ paths }) =>
      Effect.gen(function*() {
        const c = creds("1", later)
        yield* CredentialStore.use((s) => s.save(c))
        yield* CredentialStore.use((s) => s.markRefused(c.refreshToken))
        assert.deepStrictEqual(readJson(paths.state).refusedRefreshTokens, [tokenHash(c.refreshToken!)])
        assert.notInclude(readFileSync(paths.state, "utf8"), "refresh-1")
        const snap = yield* CredentialStore.use((s) => s.load)
        assert.strictEqual(snap.credentials, undefined)
        assert.strictEqual(snap.absentReason, "refused")
        // A new login is valid again.
        yield* CredentialStore.use((s) => s.save(creds("2", later)))
        const again = yield* CredentialStore.use((s) => s.load)
        assert.strictEqual(Redacted.value(again.credentials!.accessToken), "access-2")
        yield* CredentialStore.use((s) =>
          s.update((cur) => Effect.succeed({ next: undefined, refused: cur.credentials!.refreshToken, result: 0 }))
        )
        assert.strictEqual((yield* CredentialStore.use((s) => s.load)).absentReason, "refused")
      })
    ))

  it.live("fingerprint changes when a credential file changes and never fails", () =>
    withStore(() =>
      Effect.gen(function*() {
        const empty = yield* CredentialStore.use((s) => s.fingerprint)
        yield* CredentialStore.use((s) => s.save(creds("1", later)))
        const after = yield* CredentialStore.use((s) => s.fingerprint)
        assert.notStrictEqual(after, empty)
      })
    ))
})

describe("CredentialStore.logout", () => {
  it.live("removes only our profile and blocks re-import from the Qwen Code file", () =>
    withStore(({ paths }) =>
      Effect.gen(function*() {
        writeJson(paths.authProfiles, { version: 1, profiles: otherProfiles })
        yield* CredentialStore.use((s) => s.save(creds("1", later)))
        const report = yield* CredentialStore.use((s) => s.logout({ all: false }))
        assert.isTrue(report.wasLoggedIn)
        assert.deepStrictEqual(report.removed, [`${paths.authProfiles} (profile qwen-portal:default)`, paths.ownCreds])
        assert.isFalse(existsSync(paths.ownCreds))
        assert.deepStrictEqual(readJson(paths.authProfiles).profiles, otherProfiles)
        assert.isTrue(existsSync(paths.qwenCreds))
        const snap = yield* CredentialStore.use((s) => s.load)
        assert.strictEqual(snap.credentials, undefined)
        assert.strictEqual(snap.absentReason, "logged-out")
        // A new login (different refresh token) is valid again.
        yield* CredentialStore.use((s) => s.save(creds("2", later)))
        assert.strictEqual((yield* CredentialStore.use((s) => s.load)).source, "openclaw")
      })
    ))

  it.live("--all also deletes the Qwen Code file", () =>
    withStore(({ paths, settings }) =>
      Effect.gen(function*() {
        yield* CredentialStore.use((s) => s.save(creds("1", later)))
        const report = yield* CredentialStore.use((s) => s.logout({ all: true }))
        assert.include(report.removed, paths.qwenCreds)
        assert.isFalse(existsSync(paths.qwenCreds))
        assert.strictEqual((yield* CredentialStore.use((s) => s.load)).absentReason, "logged-out")
        assert.deepStrictEqual(readdirSync(settings.qwenHome).sort(), ["qwen-auth.json"])
      })
    ))

  it.live("with nothing stored it says so and removes nothing", () =>
    withStore(() =>
      Effect.gen(function*() {
        const report = yield* CredentialStore.use((s) => s.logout({ all: true }))
        assert.deepStrictEqual(report, { removed: [], wasLoggedIn: false })
      })
    ))
})

describe("CredentialStore in a read-only place", () => {
  it.live("a failed rename: FileAccessError naming the file, no file changed, no temp file, no lock left", () =>
    Effect.gen(function*() {
      const fs = faultyFs(() => ({ rename: (from) => Effect.fail(permissionDenied("rename", from)) }))
      yield* withStore(({ paths, settings }) =>
        Effect.gen(function*() {
          writeJson(paths.authProfiles, { version: 1, profiles: otherProfiles })
          writeJson(paths.qwenCreds, qwenCredsJson("q", later))
          const before = [bytesOf(paths.authProfiles), bytesOf(paths.qwenCreds), bytesOf(paths.state)]
          const error = yield* Effect.flip(CredentialStore.use((s) => s.save(creds("n", later + 1))))
          assert.strictEqual(error._tag, "FileAccessError")
          // qwen-auth's own copy is written first (after a refresh it may hold the only live chain).
          assert.include(error.message, paths.ownCreds)
          assert.include(error.message, "permission denied")
          assert.deepStrictEqual([bytesOf(paths.authProfiles), bytesOf(paths.qwenCreds), bytesOf(paths.state)], before)
          assert.deepStrictEqual(readdirSync(settings.openclawAgentDir), ["auth-profiles.json"])
          assert.deepStrictEqual(readdirSync(settings.qwenHome), ["oauth_creds.json"])
        }), {}, fs)
    }))

  it.live("the Qwen Code lock cannot be created: LockError io naming the lock, nothing written", () =>
    Effect.gen(function*() {
      const fs = faultyFs((real) => ({
        writeFileString: (p, data, options) =>
          p.endsWith("oauth_creds.lock") ? Effect.fail(permissionDenied("writeFile", p)) : real.writeFileString(p, data, options)
      }))
      yield* withStore(({ paths }) =>
        Effect.gen(function*() {
          const error = yield* Effect.flip(CredentialStore.use((s) => s.save(creds("n", later))))
          assert.strictEqual(error._tag, "LockError")
          assert.strictEqual((error as { reason: string }).reason, "io")
          assert.include(error.message, paths.qwenLock)
          assert.isFalse(existsSync(paths.authProfiles))
          assert.isFalse(existsSync(`${paths.authProfiles}.lock`))
        }), {}, fs)
    }))
})
