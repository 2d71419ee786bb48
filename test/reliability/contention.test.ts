/**
 * Contention (issue 6): 32 processes loop `qwen-auth token` on one home across many rotations.
 * The emulator must never see a dead refresh token (refreshRejected 0) and the login must stay
 * one live refresh token; every run prints a token.
 */
import { afterAll, describe, expect, it } from "vitest"
import { startEmulatorProcess } from "../support/emulator.ts"
import { envFor, makeHome, makeSecrets, runCli, seedLogin } from "./support/home.ts"
import { report, scale, SOAK, seeded } from "./support/seed.ts"

const WORKERS = 32
const LIFETIME_S = 4

describe("32 processes looping `qwen-auth token`", () => {
  const home = makeHome()
  afterAll(() => home.cleanup())

  it("never presents a dead refresh token and keeps one live refresh token", async () => {
    const rng = seeded("contention")
    const secrets = makeSecrets()
    const emu = await startEmulatorProcess(["--access-ttl", String(LIFETIME_S), "--seed", rng.seed])
    try {
      await seedLogin(home, emu, secrets)
      const env = envFor(home, emu)
      const durationMs = scale(20_000, 240_000)
      const minRotations = scale(3, 40)
      const deadline = Date.now() + durationMs
      const failures: Array<string> = []
      const outputs: Array<string> = []
      let runs = 0
      const worker = async (i: number) => {
        // Staggered starts from the seed, so workers do not all boot at once.
        await new Promise((r) => setTimeout(r, rng.int(0, 1000) + i * 20))
        while (Date.now() < deadline) {
          const r = await runCli(["token"], env, 120_000)
          runs++
          outputs.push(r.stderr)
          if (r.code !== 0 || r.stdout.trim() === "") {
            failures.push(`worker ${i}: exit ${r.code} ${r.signal ?? ""}\n${r.stderr}`)
          } else {
            secrets.add(r.stdout.trim())
          }
        }
      }
      await Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(i)))
      const stats = await emu.stats()
      report(`contention${SOAK ? " (soak)" : ""}`, {
        workers: WORKERS,
        runs,
        rotations: stats.refreshGrants,
        refreshRequests: stats.refreshRequests,
        refreshRejected: stats.refreshRejected,
        liveRefreshTokens: stats.liveRefreshTokens
      })
      expect(failures.slice(0, 3)).toEqual([])
      expect(stats.refreshRejected).toBe(0)
      expect(stats.liveRefreshTokens).toBe(1)
      expect(stats.refreshGrants).toBeGreaterThanOrEqual(minRotations)
      // One POST per rotation: peers adopt the stored token instead of refreshing again.
      expect(stats.refreshRequests).toBe(stats.refreshGrants)
      expect(outputs.flatMap((o) => secrets.find(o))).toEqual([])
    } finally {
      await emu.stop()
    }
  }, SOAK ? 900_000 : 240_000)
})
