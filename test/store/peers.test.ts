/**
 * qwen-auth next to its peers (issue 12): no nested lock waits, fencing of every shared write
 * after a lost lock, the spent-chain list, the retry after `invalid_grant`, and which copies are
 * repaired. Each drives the real refresh transaction (`Refresh.run`) over real files, with a test
 * HTTP client standing in for the server, and acts out the peer inside the POST.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Random, Redacted } from "effect"
import { TestClock } from "effect/testing"
import { chmodSync, existsSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs"
import { pathsOf, QwenAuthConfig, type Settings } from "../../src/Config.ts"
import { tokenHash } from "../../src/domain/Credentials.ts"
import { CredentialStore } from "../../src/store/CredentialStore.ts"
import { OpenClawLock } from "../../src/store/locks/OpenClawLock.ts"
import * as Refresh from "../../src/token/Refresh.ts"
import { reply, testHttpClient } from "../support/testHttpClient.ts"
import { creds, profileJson, qwenCredsJson, readJson, settingsFor, storeLayer, tempRoot, writeJson, writeText } from "./helpers.ts"

const FOREIGN = "11111111-2222-3333-4444-555555555555"
const HOUR = 3_600_000
const realPause = (ms: number) => Effect.promise(() => new Promise<void>((r) => setTimeout(r, ms)))

const tokensJson = (n: string, expiresIn = 21_600) => ({
  access_token: `access-${n}`,
  refresh_token: `refresh-${n}`,
  token_type: "Bearer",
  expires_in: expiresIn,
  resource_url: "portal.qwen.ai"
})

const invalidGrant = reply.json(400, { error: "invalid_grant", error_description: "refresh token is invalid" })

/** A fresh home with the store over it. */
const withHome = <A, E>(
  f: (ctx: { settings: Settings; paths: ReturnType<typeof pathsOf>; store: CredentialStore["Service"] }) => Effect.Effect<A, E>
) =>
  Effect.gen(function*() {
    const root = yield* tempRoot
    const settings = settingsFor(root)
    return yield* CredentialStore.use((store) => f({ settings, paths: pathsOf(settings), store })).pipe(
      Effect.provide(storeLayer(settings))
    )
  })

const refreshTokenIn = (path: string): string | undefined =>
  existsSync(path) ? (readJson(path).refresh_token ?? readJson(path).profiles?.["qwen-portal:default"]?.refresh) : undefined

describe("no nested waits", () => {
  it.effect("while Qwen Code's lock is busy, OpenClaw's lock is released between tries", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const settings = settingsFor(root)
      const paths = pathsOf(settings)
      const events = { held: false, acquisitions: 0 }
      const recordingLock = Layer.succeed(OpenClawLock, {
        acquire: (file: string) =>
          Effect.acquireRelease(
            Effect.sync(() => {
              events.held = true
              events.acquisitions++
              return { lockPath: `${file}.lock`, compromised: Effect.never, check: Effect.void }
            }),
            () => Effect.sync(() => void (events.held = false))
          ),
        withLock: (_file, effect) => effect
      } as OpenClawLock["Service"])
      const layer = CredentialStore.layer.pipe(
        Layer.provide(recordingLock),
        Layer.provide(QwenAuthConfig.layerFrom(settings)),
        Layer.provide(NodeServices.layer)
      )
      const start = 1_700_000_000_000
      yield* TestClock.setTime(start)
      writeJson(paths.authProfiles, { version: 1, profiles: { "qwen-portal:default": profileJson("a", start + HOUR) } })
      writeText(paths.qwenLock, FOREIGN)
      const fiber = yield* Effect.forkChild(
        CredentialStore.use((s) => s.update(() => Effect.sync(() => ({ next: undefined, result: events.held })))).pipe(
          Effect.provide(layer)
        )
      )
      const heldWhileWaiting: Array<boolean> = []
      for (let i = 0; i < 24; i++) {
        // The peer (another qwen-auth) keeps its lock fresh.
        utimesSync(paths.qwenLock, new Date(start + i * 250), new Date(start + i * 250))
        yield* TestClock.adjust(250)
        yield* realPause(3)
        heldWhileWaiting.push(events.held)
      }
      assert.isUndefined(fiber.pollUnsafe())
      assert.isAtLeast(events.acquisitions, 3)
      assert.isTrue(heldWhileWaiting.filter((h) => !h).length > heldWhileWaiting.length / 2)
      assert.strictEqual(readFileSync(paths.qwenLock, "utf8"), FOREIGN)
      rmSync(paths.qwenLock)
      for (let i = 0; i < 40 && fiber.pollUnsafe() === undefined; i++) {
        yield* TestClock.adjust(250)
        yield* realPause(3)
      }
      // The body ran with both locks held.
      assert.isTrue(yield* Fiber.join(fiber))
      assert.isFalse(events.held)
    }).pipe(Effect.provide(NodeServices.layer), Random.withSeed("no-nested-waits")))
})

describe("fencing after a lost lock", () => {
  it.live("a peer's newer login written while we refreshed is kept; ours went to qwen-auth's own copy first", () =>
    withHome(({ settings, paths, store }) =>
      Effect.gen(function*() {
        const now = Date.now()
        yield* store.save(creds("old", now + 60_000))
        const http = testHttpClient(() => {
          // Qwen Code's exit handler deletes our lock; a peer takes it and saves a new login.
          rmSync(paths.qwenLock)
          writeFileSync(paths.qwenLock, FOREIGN)
          writeJson(paths.qwenCreds, qwenCredsJson("peer", now + 7 * HOUR))
          setTimeout(() => rmSync(paths.qwenLock, { force: true }), 300)
          return reply.json(200, tokensJson("new"))
        })
        const outcome = yield* Refresh.run(store, settings, { known: undefined, failedToken: undefined }).pipe(
          Effect.provide(http.layer)
        )
        assert.strictEqual(outcome._tag, "Refreshed")
        assert.strictEqual(http.requests.length, 1)
        // The peer's file was never overwritten; its login (the later expiry) is what every copy holds now.
        assert.strictEqual(refreshTokenIn(paths.qwenCreds), "refresh-peer")
        assert.strictEqual(refreshTokenIn(paths.ownCreds), "refresh-peer")
        assert.strictEqual(refreshTokenIn(paths.authProfiles), "refresh-peer")
        assert.include(readJson(paths.state).spentRefreshTokens, tokenHash("refresh-old"))
        assert.isFalse(existsSync(paths.qwenLock))
      })
    ))

  it.live("Qwen Code spent the old token and deleted its file while we refreshed: the new chain reaches every copy", () =>
    withHome(({ settings, paths, store }) =>
      Effect.gen(function*() {
        const now = Date.now()
        yield* store.save(creds("old", now + 60_000))
        let ownDuringPeer: string | undefined
        const http = testHttpClient(() => {
          rmSync(paths.qwenLock)
          writeFileSync(paths.qwenLock, FOREIGN)
          // Qwen Code 0.12.0 answered 400 for the token we are spending: it deletes its file.
          rmSync(paths.qwenCreds)
          setTimeout(() => {
            ownDuringPeer = refreshTokenIn(paths.ownCreds)
            rmSync(paths.qwenLock, { force: true })
          }, 300)
          return reply.json(200, tokensJson("new"))
        })
        const outcome = yield* Refresh.run(store, settings, { known: undefined, failedToken: undefined }).pipe(
          Effect.provide(http.layer)
        )
        assert.strictEqual(outcome._tag, "Refreshed")
        // While the peer still held the lock, only qwen-auth's own copy had the new chain.
        assert.strictEqual(ownDuringPeer, "refresh-new")
        // qwen-auth wrote the vanished file, so it is restored (under the lock, once free).
        for (const path of [paths.qwenCreds, paths.ownCreds, paths.authProfiles]) {
          assert.strictEqual(refreshTokenIn(path), "refresh-new", path)
        }
        const state = readJson(paths.state)
        assert.include(state.spentRefreshTokens, tokenHash("refresh-old"))
        assert.strictEqual(state.qwenCodeWritten, tokenHash("refresh-new"))
        assert.notInclude(JSON.stringify(state), "refresh-new")
      })
    ))
})

describe("choosing a chain", () => {
  it.live("on equal expiries the chain qwen-auth rotated away is never used", () =>
    withHome(({ settings, paths, store }) =>
      Effect.gen(function*() {
        const expiry = Date.now() + 60_000
        // OpenClaw's profile (first on a tie) still holds the chain qwen-auth spent; Qwen Code's the live one.
        writeJson(paths.authProfiles, { version: 1, profiles: { "qwen-portal:default": profileJson("spent", expiry) } })
        writeJson(paths.qwenCreds, qwenCredsJson("live", expiry))
        writeJson(paths.state, { version: 1, spentRefreshTokens: [tokenHash("refresh-spent")] })
        const before = yield* store.load
        assert.strictEqual(Redacted.value(before.credentials!.refreshToken!), "refresh-live")
        assert.deepInclude(before.behind, { path: paths.authProfiles, why: "spent" })
        const http = testHttpClient(() => reply.json(200, tokensJson("next")))
        const outcome = yield* Refresh.run(store, settings, { known: undefined, failedToken: undefined }).pipe(
          Effect.provide(http.layer)
        )
        assert.strictEqual(outcome._tag, "Refreshed")
        assert.deepStrictEqual(http.requests.map((r) => r.form["refresh_token"]), ["refresh-live"])
        assert.strictEqual(refreshTokenIn(paths.authProfiles), "refresh-next")
      })
    ))

  it.live("after invalid_grant every copy is re-read and a different live chain is tried once", () =>
    withHome(({ settings, paths, store }) =>
      Effect.gen(function*() {
        const expiry = Date.now() + 60_000
        // The later expiry wins first, but a peer already spent it.
        writeJson(paths.authProfiles, { version: 1, profiles: { "qwen-portal:default": profileJson("dead", expiry + 1_000) } })
        writeJson(paths.qwenCreds, qwenCredsJson("live", expiry))
        const http = testHttpClient((r) => r.form["refresh_token"] === "refresh-live" ? reply.json(200, tokensJson("next")) : invalidGrant)
        const outcome = yield* Refresh.run(store, settings, { known: undefined, failedToken: undefined }).pipe(
          Effect.provide(http.layer)
        )
        assert.strictEqual(outcome._tag, "Refreshed")
        assert.deepStrictEqual(http.requests.map((r) => r.form["refresh_token"]), ["refresh-dead", "refresh-live"])
        for (const path of [paths.qwenCreds, paths.ownCreds, paths.authProfiles]) {
          assert.strictEqual(refreshTokenIn(path), "refresh-next", path)
        }
      })
    ))

  it.live("invalid_grant with no other chain: Refused after one POST, nothing deleted", () =>
    withHome(({ settings, paths, store }) =>
      Effect.gen(function*() {
        yield* store.save(creds("only", Date.now() + 60_000))
        const http = testHttpClient(() => invalidGrant)
        const outcome = yield* Refresh.run(store, settings, { known: undefined, failedToken: undefined }).pipe(
          Effect.provide(http.layer)
        )
        assert.strictEqual(outcome._tag, "Refused")
        assert.strictEqual(http.requests.length, 1)
        assert.strictEqual(refreshTokenIn(paths.qwenCreds), "refresh-only")
        assert.include(readJson(paths.state).refusedRefreshTokens, tokenHash("refresh-only"))
      })
    ))
})

describe("which copies are repaired", () => {
  const heal = (store: CredentialStore["Service"]) =>
    store.update((current) => Effect.succeed({ next: current.stale ? current.credentials : undefined, result: undefined }))

  it.live("Qwen Code's file that qwen-auth wrote and that vanished is listed as behind and restored", () =>
    withHome(({ paths, store }) =>
      Effect.gen(function*() {
        yield* store.save(creds("a", Date.now() + HOUR))
        rmSync(paths.qwenCreds)
        const snapshot = yield* store.load
        assert.deepStrictEqual(snapshot.behind, [{ path: paths.qwenCreds, why: "missing" }])
        yield* heal(store)
        assert.strictEqual(refreshTokenIn(paths.qwenCreds), "refresh-a")
        assert.isFalse((yield* store.load).stale)
      })
    ))

  it.live("Qwen Code's own login, once adopted and then removed, is not recreated", () =>
    withHome(({ paths, store }) =>
      Effect.gen(function*() {
        writeJson(paths.qwenCreds, qwenCredsJson("q", Date.now() + HOUR))
        yield* heal(store)
        assert.strictEqual(refreshTokenIn(paths.ownCreds), "refresh-q")
        assert.strictEqual(refreshTokenIn(paths.authProfiles), "refresh-q")
        rmSync(paths.qwenCreds)
        const snapshot = yield* store.load
        assert.deepStrictEqual(snapshot.behind, [])
        yield* heal(store)
        assert.isFalse(existsSync(paths.qwenCreds))
      })
    ))

  it.live("a loose mode that status reports is tightened by the next write, also where the content is current", () =>
    withHome(({ paths, store }) =>
      Effect.gen(function*() {
        yield* store.save(creds("a", Date.now() + HOUR))
        chmodSync(paths.state, 0o644)
        chmodSync(paths.qwenCreds, 0o644)
        const before = readFileSync(paths.state, "utf8")
        const snapshot = yield* store.load
        assert.sameDeepMembers([...snapshot.behind], [
          { path: paths.qwenCreds, why: "loose-mode" },
          { path: paths.state, why: "loose-mode" }
        ])
        yield* heal(store)
        assert.strictEqual(statSync(paths.state).mode & 0o777, 0o600)
        assert.strictEqual(statSync(paths.qwenCreds).mode & 0o777, 0o600)
        assert.strictEqual(readFileSync(paths.state, "utf8"), before)
        assert.deepStrictEqual((yield* store.load).behind, [])
      })
    ))

  it.live("our stale temp files next to openclaw.json are swept by a write", () =>
    withHome(({ settings, paths, store }) =>
      Effect.gen(function*() {
        const leftover = `${settings.openclawStateDir}/.openclaw.json.qwen-auth-0123456789ab.tmp`
        const foreign = `${settings.openclawStateDir}/.openclaw.json.other-tool.tmp`
        writeText(leftover, "{}")
        writeText(foreign, "{}")
        const old = new Date(Date.now() - 120_000)
        utimesSync(leftover, old, old)
        utimesSync(foreign, old, old)
        yield* store.save(creds("a", Date.now() + HOUR))
        assert.isFalse(existsSync(leftover))
        assert.isTrue(existsSync(foreign))
        assert.isTrue(existsSync(paths.qwenCreds))
      })
    ))

  it.live("a copy holding a spent refresh token is replaced", () =>
    withHome(({ paths, store }) =>
      Effect.gen(function*() {
        const expiry = Date.now() + HOUR
        yield* store.save(creds("new", expiry))
        writeJson(paths.authProfiles, { version: 1, profiles: { "qwen-portal:default": profileJson("old", expiry - 1_000) } })
        writeJson(paths.state, { ...readJson(paths.state), spentRefreshTokens: [tokenHash("refresh-old")] })
        assert.deepStrictEqual((yield* store.load).behind, [{ path: paths.authProfiles, why: "spent" }])
        yield* heal(store)
        assert.strictEqual(refreshTokenIn(paths.authProfiles), "refresh-new")
      })
    ))
})
