/**
 * Faults (issue 6): the token actor (`QwenAuth.layer` over real files and sockets) runs through
 * many refresh cycles of short-lived tokens while the emulator answers 30 % of requests with
 * 500 / a 2 s delay / a dropped connection / an HTML page. It must never need a login, and its
 * refresh requests must stay bounded by the backoff.
 *
 * Separately, lost responses (the server rotates, the answer never arrives) are measured: each
 * one that hits a rotation costs a login, since the rotated refresh token never reached us.
 */
import { Duration, Effect, Fiber, Layer, Logger, Random, Redacted, References, Stream } from "effect"
import { HttpClient } from "effect/http"
import { afterAll, describe, expect, it } from "vitest"
import * as HttpClientLayer from "../../src/internal/HttpClientLayer.ts"
import { layerWithHttpClient } from "../../src/QwenAuth.ts"
import { TokenManager } from "../../src/token/TokenManager.ts"
import type { TokenState } from "../../src/token/TokenState.ts"
import { startEmulatorProcess } from "../support/emulator.ts"
import { type Home, makeHome, makeSecrets, seedLogin, sleep, storedTokens } from "./support/home.ts"
import { report, scale, SOAK, seeded } from "./support/seed.ts"

const LIFETIME_S = 6
const BACKOFF_BASE_MS = 250
const JITTER = 0.2

/**
 * Runs the actor until it has handed out `cycles` refreshed tokens (or `capMs` passed: a
 * timeout, not a throughput target), calling `get` every 250 ms; returns what it saw.
 */
const runActor = async (
  home: Home,
  url: string,
  until: { readonly cycles: number; readonly capMs: number },
  seed: string,
  onNeedsLogin: () => Promise<void>
) => {
  // Only the actor uses this client, so every token request is a refresh: when it left, and
  // what came back (a status, or "lost" when no answer arrived).
  const requests: Array<number> = []
  const outcomes: Array<number | "lost"> = []
  const http = Layer.effect(
    HttpClient.HttpClient,
    Effect.map(
      HttpClient.HttpClient,
      HttpClient.transform((response, req) =>
        req.url.includes("/oauth2/token")
          ? Effect.suspend(() => {
            requests.push(Date.now())
            return response.pipe(
              Effect.tap((r) => Effect.sync(() => void outcomes.push(r.status))),
              Effect.tapError(() => Effect.sync(() => void outcomes.push("lost")))
            )
          })
          : response
      )
    )
  ).pipe(Layer.provide(HttpClientLayer.layer))
  const layer = layerWithHttpClient({
    oauthBaseUrl: url,
    qwenHome: home.qwen,
    openclawStateDir: `${home.path}/.openclaw`,
    openclawConfigPath: `${home.path}/.openclaw/openclaw.json`,
    openclawAgentDir: home.agent,
    backoffBase: Duration.millis(BACKOFF_BASE_MS),
    backoffCap: Duration.millis(2_000),
    jitter: JITTER,
    fileCheckInterval: Duration.millis(200),
    logLevel: "debug"
  }, http)
  const states: Array<TokenState> = []
  let gets = 0
  let getFailures = 0
  const logs: Array<string> = []
  const program = Effect.gen(function*() {
    const tm = yield* TokenManager
    const watcher = yield* Effect.forkChild(
      Stream.runForEach(tm.changes, (s) =>
        Effect.gen(function*() {
          states.push(s)
          if (s._tag === "NeedsLogin") yield* Effect.promise(onNeedsLogin)
        }))
    )
    const deadline = Date.now() + until.capMs
    const seen = new Set<string>()
    while (seen.size <= until.cycles && Date.now() < deadline) {
      gets++
      const token = yield* tm.get.pipe(Effect.map((t) => Redacted.value(t.accessToken)), Effect.orElseSucceed(() => undefined))
      if (token === undefined) getFailures++
      else seen.add(token)
      yield* Effect.promise(() => sleep(250))
    }
    yield* Fiber.interrupt(watcher)
  })
  await Effect.runPromise(
    program.pipe(
      Effect.provide(layer),
      Random.withSeed(seed),
      // Everything the library logs, at debug level, is scanned for secrets.
      Effect.withLogger(Logger.make(({ message, cause }) => void logs.push(`${JSON.stringify(message)} ${String(cause)}`))),
      Effect.provideService(References.MinimumLogLevel, "Debug")
    ) as Effect.Effect<void>
  )
  return { requests, outcomes, states, gets, getFailures, logs }
}

describe("the token actor under injected faults", () => {
  const homes: Array<Home> = []
  afterAll(() => homes.forEach((h) => h.cleanup()))

  it("30 % 500/delay/drop/html over many refresh cycles: never needs a login, retries bounded by the backoff", async () => {
    const rng = seeded("faults")
    const secrets = makeSecrets()
    const emu = await startEmulatorProcess([
      "--access-ttl", String(LIFETIME_S), "--fault-rate", "0.3", "--faults", "500,delay,drop,html", "--seed", rng.seed
    ])
    const home = makeHome()
    homes.push(home)
    try {
      await seedLogin(home, emu, secrets)
      const before = await emu.stats()
      const cycles = scale(8, 60)
      const run = await runActor(home, emu.url, { cycles, capMs: scale(150_000, 800_000) }, rng.seed, async () => {})
      const stats = await emu.stats()
      secrets.add(...storedTokens(home))
      const grants = stats.refreshGrants - before.refreshGrants
      const posts = run.requests.length
      const gaps = run.requests.slice(1).map((t, i) => t - run.requests[i]!)
      report(`faults${SOAK ? " (soak)" : ""}`, {
        refreshCycles: grants,
        refreshRequests: posts,
        emulatorProcessed: stats.refreshRequests - before.refreshRequests,
        requestsPerRefresh: Number((posts / Math.max(1, grants)).toFixed(2)),
        faultsInjected: stats.faultsInjected - before.faultsInjected,
        minGapMs: Math.min(...gaps),
        gets: run.gets,
        getFailures: run.getFailures,
        needsLogin: run.states.filter((s) => s._tag === "NeedsLogin").length
      })
      expect(run.states.filter((s) => s._tag === "NeedsLogin" || s._tag === "LoggedOut")).toEqual([])
      // Liveness, not speed: the run ends once this many refreshed tokens were handed out.
      expect(grants).toBeGreaterThanOrEqual(cycles)
      expect(stats.refreshRejected).toBe(0)
      // No two refresh POSTs closer than the backoff's shortest wait (base × (1 − jitter)).
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(BACKOFF_BASE_MS * (1 - JITTER) - 10)
      // At 30 % faults a refresh needs 1 / 0.7 ≈ 1.4 requests on average.
      expect(posts / grants).toBeLessThan(2.5)
      expect(run.logs.flatMap((l) => secrets.find(l))).toEqual([])
    } finally {
      await emu.stop()
    }
  }, SOAK ? 900_000 : 180_000)

  it("lost responses: measures how often one forces a new login", async () => {
    const rng = seeded("lost-response")
    const secrets = makeSecrets()
    const emu = await startEmulatorProcess([
      "--access-ttl", String(LIFETIME_S), "--fault-rate", "0.3", "--faults", "lost-response", "--seed", rng.seed
    ])
    const home = makeHome()
    homes.push(home)
    try {
      await seedLogin(home, emu, secrets)
      const before = await emu.stats()
      let relogins = 0
      let lostOnRefresh = 0
      const run = await runActor(home, emu.url, { cycles: scale(8, 60), capMs: scale(150_000, 800_000) }, rng.seed, async () => {
        relogins++
        await seedLogin(home, emu, secrets)
      })
      const stats = await emu.stats()
      secrets.add(...storedTokens(home))
      lostOnRefresh = run.outcomes.filter((o) => o === "lost").length
      const grants = stats.refreshGrants - before.refreshGrants
      report(`lost-response${SOAK ? " (soak)" : ""}`, {
        refreshGrants: grants,
        refreshRequests: stats.refreshRequests - before.refreshRequests,
        lostResponses: stats.faultsLostResponse - before.faultsLostResponse,
        refreshRejected: stats.refreshRejected - before.refreshRejected,
        relogins,
        reloginPerRefresh: Number((relogins / Math.max(1, grants)).toFixed(3)),
        lostRefreshAnswers: lostOnRefresh,
        reloginPerLostAnswer: Number((relogins / Math.max(1, lostOnRefresh)).toFixed(3)),
        refreshOutcomes: run.outcomes.join(" ")
      })
      // Every forced login follows a rotation whose answer was lost (a refused, rotated token).
      expect(relogins).toBeLessThanOrEqual(stats.refreshRejected - before.refreshRejected)
      expect(relogins).toBeLessThanOrEqual(lostOnRefresh)
      // Each login was forced by a lost answer that the next attempt then paid for with a 400.
      expect((run.outcomes.join(" ").match(/lost (lost )*400/g) ?? []).length).toBeGreaterThanOrEqual(relogins)
      expect(run.logs.flatMap((l) => secrets.find(l))).toEqual([])
    } finally {
      await emu.stop()
    }
  }, SOAK ? 900_000 : 180_000)
})
