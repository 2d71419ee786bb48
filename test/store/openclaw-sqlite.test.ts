/**
 * The store on an OpenClaw 2026.9.6 home (auth profiles in SQLite): OpenClaw's copy is read
 * read-only and never written, `auth-profiles.json` is never created, and a refresh fence, an
 * unknown schema version or an unreadable database count as "no usable OpenClaw copy".
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { existsSync, writeFileSync } from "node:fs"
import { pathsOf, type Settings } from "../../src/Config.ts"
import { CredentialStore } from "../../src/store/CredentialStore.ts"
import { databasesOf } from "../../src/store/OpenClawSqlite.ts"
import { fenceProfile, writeAgentStore, writeStateStore } from "../support/openclawSqlite.ts"
import { bytesOf, creds, qwenCredsJson, settingsFor, storeLayer, tempRoot, writeJson } from "./helpers.ts"

const later = Date.now() + 3 * 3_600_000

const withHome = <A, E>(f: (ctx: { settings: Settings; paths: ReturnType<typeof pathsOf>; dbs: ReturnType<typeof databasesOf> }) => Effect.Effect<A, E, CredentialStore>) =>
  Effect.gen(function*() {
    const root = yield* tempRoot
    const settings = settingsFor(root)
    const dbs = databasesOf(settings.openclawStateDir, settings.openclawAgentDir)
    return yield* Effect.provide(f({ settings, paths: pathsOf(settings), dbs }), storeLayer(settings))
  })

describe("CredentialStore on an OpenClaw 2026.9.6 home", () => {
  it.live("reads the agent database's profile, lists the database, and never writes OpenClaw's copy", () =>
    withHome(({ paths, dbs }) =>
      Effect.gen(function*() {
        writeAgentStore(dbs.agent, { access: "access-db", refresh: "refresh-db", expires: later })
        const before = bytesOf(dbs.agent)
        const snap = yield* CredentialStore.use((s) => s.load)
        assert.strictEqual(snap.source, "openclaw")
        assert.strictEqual(Redacted.value(snap.credentials!.accessToken), "access-db")
        assert.deepInclude(snap.files.find((f) => f.path === dbs.agent), { exists: true, ok: true, problem: null })
        assert.isUndefined(snap.files.find((f) => f.path === paths.authProfiles))

        const written = yield* CredentialStore.use((s) => s.save(creds("new", later + 1000)))
        assert.deepStrictEqual([...written].sort(), [paths.qwenCreds, paths.ownCreds, paths.state].sort())
        assert.isFalse(existsSync(paths.authProfiles))
        assert.isFalse(existsSync(`${paths.authProfiles}.lock`))
        assert.strictEqual(bytesOf(dbs.agent), before)
        const after = yield* CredentialStore.use((s) => s.load)
        assert.strictEqual(Redacted.value(after.credentials!.accessToken), "access-new")
        // OpenClaw's copy is OpenClaw's to update: not a disagreement qwen-auth could heal.
        assert.isFalse(after.stale)
      })
    ))

  it.live("reads the shared store in the state database", () =>
    withHome(({ dbs }) =>
      Effect.gen(function*() {
        writeStateStore(dbs.state, { access: "access-shared", refresh: "refresh-shared", expires: later })
        const snap = yield* CredentialStore.use((s) => s.load)
        assert.strictEqual(Redacted.value(snap.credentials!.accessToken), "access-shared")
        assert.isDefined(snap.files.find((f) => f.path === dbs.state))
      })
    ))

  it.live("a refresh fence is no credential: the live chain in qwen-auth's copy wins, the problem is named", () =>
    withHome(({ paths, dbs }) =>
      Effect.gen(function*() {
        writeAgentStore(dbs.agent, fenceProfile())
        writeJson(paths.ownCreds, qwenCredsJson("own", later))
        const snap = yield* CredentialStore.use((s) => s.load)
        assert.strictEqual(snap.source, "qwen-auth")
        assert.include(snap.files.find((f) => f.path === dbs.agent)?.problem ?? "", "refreshing")
      })
    ))

  it.live("an unknown schema version or an unreadable database holds no credentials and is never touched", () =>
    withHome(({ paths, dbs }) =>
      Effect.gen(function*() {
        writeAgentStore(dbs.agent, { access: "access-db", refresh: "refresh-db", expires: later }, { userVersion: 99 })
        let snap = yield* CredentialStore.use((s) => s.load)
        assert.isUndefined(snap.credentials)
        assert.include(snap.files.find((f) => f.path === dbs.agent)?.problem ?? "", "schema version 99")

        writeFileSync(dbs.agent, "not a database at all, just text")
        const before = bytesOf(dbs.agent)
        snap = yield* CredentialStore.use((s) => s.load)
        assert.isUndefined(snap.credentials)
        assert.include(snap.files.find((f) => f.path === dbs.agent)?.problem ?? "", "cannot be read")
        yield* CredentialStore.use((s) => s.save(creds("new", later)))
        assert.strictEqual(bytesOf(dbs.agent), before)
        assert.isFalse(existsSync(paths.authProfiles))
      })
    ))

  it.live("a legacy auth-profiles.json next to the database is reported (OpenClaw refuses to run)", () =>
    withHome(({ paths, dbs }) =>
      Effect.gen(function*() {
        writeAgentStore(dbs.agent, undefined)
        writeJson(paths.authProfiles, { version: 1, profiles: {} })
        const snap = yield* CredentialStore.use((s) => s.load)
        assert.include(snap.files.find((f) => f.path === paths.authProfiles)?.problem ?? "", "openclaw doctor --fix")
      })
    ))

  it.live("logout records the chain OpenClaw keeps as logged out and says where it lives; the database is untouched", () =>
    withHome(({ paths, dbs }) =>
      Effect.gen(function*() {
        writeAgentStore(dbs.agent, { access: "access-db", refresh: "refresh-db", expires: later })
        writeJson(paths.ownCreds, qwenCredsJson("db", later))
        const before = bytesOf(dbs.agent)
        const report = yield* CredentialStore.use((s) => s.logout({ all: false }))
        assert.deepStrictEqual(report.removed, [paths.ownCreds])
        assert.deepStrictEqual(report.openclawKept, { path: dbs.agent, expiresAt: later })
        assert.strictEqual(bytesOf(dbs.agent), before)
        const snap = yield* CredentialStore.use((s) => s.load)
        assert.isUndefined(snap.credentials)
        assert.strictEqual(snap.absentReason, "logged-out")
      })
    ))
})
