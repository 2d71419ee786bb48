/**
 * Crash safety (issue 6): `qwen-auth token` is SIGKILLed at every test-only pause point and at
 * random moments. After each kill every file parses and keeps its mode, our leftovers do not
 * outlive their stale time, and the next run recovers without a login — except when the server
 * rotated a refresh token the dead process never saved (counted, and only allowed where the
 * rotation cannot have been persisted yet).
 *
 * `npm test`: a few kills per phase. `npm run test:reliability` (SOAK=1): ≥ 20 per phase and
 * hundreds of random kills.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { PAUSE_PHASES } from "../../src/internal/TestPause.ts"
import { type EmulatorProcess, startEmulatorProcess } from "../support/emulator.ts"
import { phaseTargets, randomTargets, runCampaign } from "./support/crash.ts"
import { makeSecrets } from "./support/home.ts"
import { report, scale, SOAK, seeded } from "./support/seed.ts"

const LIFETIME_S = 2

let emu: EmulatorProcess
beforeAll(async () => {
  emu = await startEmulatorProcess(["--access-ttl", String(LIFETIME_S)])
})
afterAll(async () => {
  await emu?.stop()
})

describe("crash safety of `qwen-auth token`", () => {
  it("recovers after SIGKILL at every pause point and at random moments", async () => {
    const rng = seeded("crash")
    const secrets = makeSecrets()
    const perPhase = scale(3, 21)
    const result = await runCampaign({
      emu,
      lanes: scale(3, 4),
      targets: [...phaseTargets(perPhase, PAUSE_PHASES), ...randomTargets(scale(12, 300))],
      rng,
      secrets,
      lifetimeMs: LIFETIME_S * 1000,
      randomKillMaxMs: 700
    })
    const stats = await emu.stats()
    report(`crash${SOAK ? " (soak)" : ""}`, {
      perTarget: result.perTarget,
      randomAfterExit: result.randomAfterExit,
      missedPausePoints: result.missed,
      emulator: { refreshRequests: stats.refreshRequests, refreshGrants: stats.refreshGrants, refreshRejected: stats.refreshRejected }
    })
    expect(result.failures).toEqual([])
    for (const phase of PAUSE_PHASES) {
      const kills = Object.entries(result.perTarget)
        .filter(([k]) => k === phase || k.startsWith(`${phase}#`))
        .reduce((n, [, c]) => n + c.kills, 0)
      expect(kills, phase).toBeGreaterThanOrEqual(perPhase)
    }
    const leaked = result.outputs.flatMap((o) => secrets.find(o))
    expect(leaked).toEqual([])
  }, SOAK ? 3_600_000 : 300_000)
})
