/**
 * Soak only (`npm run test:reliability`): kills while holding each lock, then the next run waits
 * out the dead process's lock in real time (Qwen Code's 35 s, OpenClaw's 30 s) instead of the
 * fast suite's aged mtimes, and must still recover without a login.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type EmulatorProcess, startEmulatorProcess } from "../support/emulator.ts"
import { phaseTargets, runCampaign } from "./support/crash.ts"
import { makeSecrets } from "./support/home.ts"
import { report, SOAK, seeded } from "./support/seed.ts"

const LIFETIME_S = 2

let emu: EmulatorProcess
beforeAll(async () => {
  if (SOAK) emu = await startEmulatorProcess(["--access-ttl", String(LIFETIME_S)])
})
afterAll(async () => {
  await emu?.stop()
})

describe.skipIf(!SOAK)("crash safety in real time (soak)", () => {
  it("a lock left by a killed process is taken over once stale, with no login", async () => {
    const secrets = makeSecrets()
    const result = await runCampaign({
      emu,
      lanes: 2,
      targets: phaseTargets(3, ["lock:qwen-code:held", "lock:openclaw:held"]),
      rng: seeded("crash-realtime"),
      secrets,
      lifetimeMs: LIFETIME_S * 1000,
      randomKillMaxMs: 0,
      ageLeftovers: false
    })
    report("crash-realtime (soak)", { perTarget: result.perTarget })
    expect(result.failures).toEqual([])
    expect(result.outputs.flatMap((o) => secrets.find(o))).toEqual([])
  }, 900_000)
})
