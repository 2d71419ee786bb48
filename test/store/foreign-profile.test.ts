/**
 * A user's own `qwen-portal:default` profile of another type than `oauth` (issue 13, e.g. an
 * `api_key` one) is theirs: never read as a login, never converted into an oauth hybrid, never
 * removed by `logout`; the other copies are written and the user is told once why OpenClaw's was
 * left alone.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Logger } from "effect"
import { pathsOf, type Settings } from "../../src/Config.ts"
import { CredentialStore } from "../../src/store/CredentialStore.ts"
import * as OpenClawProfiles from "../../src/store/OpenClawProfiles.ts"
import { bytesOf, creds, qwenCredsJson, readJson, settingsFor, storeLayer, tempRoot, writeText } from "./helpers.ts"

const later = Date.now() + 3_600_000

/** The user's store: their api_key profile under our id, laid out their way. */
const USER_STORE = `{
    "version": 1,
    "profiles": {
        "qwen-portal:default": { "type": "api_key", "provider": "qwen-portal", "key": "sk-users-own" },
        "anthropic:default": { "type": "api_key", "provider": "anthropic", "key": "sk-other" }
    }
}
`

const withStore = <A, E>(f: (ctx: { settings: Settings; paths: ReturnType<typeof pathsOf>; logs: Array<string> }) => Effect.Effect<A, E, CredentialStore>) =>
  Effect.gen(function*() {
    const root = yield* tempRoot
    const settings = settingsFor(root)
    const logs: Array<string> = []
    return yield* Effect.provide(f({ settings, paths: pathsOf(settings), logs }), storeLayer(settings)).pipe(
      Effect.withLogger(Logger.make(({ message }) => void logs.push(String(message))))
    )
  })

describe("a user's own non-oauth qwen-portal:default profile", () => {
  it.effect("is decoded as theirs: no login, no problem", () =>
    Effect.gen(function*() {
      const { profile } = yield* OpenClawProfiles.decode("/x/auth-profiles.json", USER_STORE)
      assert.deepStrictEqual(profile, { _tag: "Foreign", type: "api_key" })
      // And the codec, asked to write over it anyway, keeps it.
      const raw = JSON.parse(USER_STORE)
      assert.deepStrictEqual(JSON.parse(OpenClawProfiles.encode(creds("1", later), raw)), raw)
      assert.deepStrictEqual(JSON.parse(OpenClawProfiles.encode(undefined, raw)), raw)
    }))

  it.live("load reads the other copies; a refresh writes them and leaves the profile byte for byte, saying why once", () =>
    withStore(({ paths, logs }) =>
      Effect.gen(function*() {
        writeText(paths.authProfiles, USER_STORE)
        writeText(paths.qwenCreds, JSON.stringify(qwenCredsJson("q", later)))
        const snap = yield* CredentialStore.use((s) => s.load)
        assert.strictEqual(snap.source, "qwen-code")
        assert.deepStrictEqual(snap.problems, [])
        // Not "behind": the profile is not ours to bring up to date.
        assert.deepStrictEqual(snap.behind.map((b) => b.path), [paths.ownCreds])

        // A refresh (an update writing new credentials), twice in one process.
        for (const n of ["r1", "r2"]) {
          yield* CredentialStore.use((s) => s.update(() => Effect.succeed({ next: creds(n, later + 1000), result: undefined })))
          assert.strictEqual(readJson(paths.qwenCreds).refresh_token, `refresh-${n}`)
          assert.strictEqual(readJson(paths.ownCreds).refresh_token, `refresh-${n}`)
        }
        assert.strictEqual(bytesOf(paths.authProfiles), Buffer.from(USER_STORE).toString("base64"))
        const notes = logs.filter((l) => l.includes("left"))
        assert.deepStrictEqual(notes, [
          `qwen-auth left ${paths.authProfiles} as it is: its qwen-portal:default profile is your own "api_key" profile, ` +
          "not a Qwen OAuth login; OpenClaw keeps using it, and qwen-auth keeps the Qwen login in its other copies"
        ])
      })
    ))

  it.live("a login saves to the other copies; logout does not remove the profile", () =>
    withStore(({ paths }) =>
      Effect.gen(function*() {
        writeText(paths.authProfiles, USER_STORE)
        const written = yield* CredentialStore.use((s) => s.save(creds("1", later)))
        assert.deepStrictEqual([...written].sort(), [paths.qwenCreds, paths.ownCreds, paths.state].sort())
        const report = yield* CredentialStore.use((s) => s.logout({ all: false }))
        assert.deepStrictEqual(report.removed, [paths.ownCreds])
        assert.strictEqual(bytesOf(paths.authProfiles), Buffer.from(USER_STORE).toString("base64"))
      })
    ))
})
