/**
 * Crash safety of the commands that write more than credentials (issue 13): `login` (the three
 * credential copies, the state file, `openclaw.json`, `models.json`, the config backup) and
 * `models set` (the config), SIGKILLed at every pause point and at each of their atomic writes.
 * After each kill every file must parse, the dead run's leftovers must be taken over once stale,
 * and the same command run again must succeed and leave a working login.
 */
import JSON5 from "json5"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { pausedMarker, type PausePhase } from "../../src/internal/TestPause.ts"
import { type EmulatorProcess, startEmulatorProcess } from "../support/emulator.ts"
import { age, envFor, fileProblems, type Home, leftovers, makeHome, runCli, startCli } from "./support/home.ts"

/** Past every stale time: Qwen Code's lock 35 s, OpenClaw's 30 s, our temp files 60 s. */
const AGE_MS = 61_000

let emu: EmulatorProcess
beforeAll(async () => {
  emu = await startEmulatorProcess(["--auto-approve-after", "1", "--interval", "1"])
})
afterAll(async () => {
  await emu?.stop()
})

/** Config files that must always parse (never a half-written file). */
const configProblems = (home: Home): Array<string> => {
  const problems: Array<string> = []
  const openclaw = join(home.path, ".openclaw")
  const files = [join(openclaw, "openclaw.json"), join(home.agent, "models.json")]
  if (existsSync(openclaw)) {
    files.push(...readdirSync(openclaw).filter((n) => n.startsWith("openclaw.json.qwen-auth") && n.endsWith(".bak")).map((n) => join(openclaw, n)))
  }
  for (const path of files) {
    if (!existsSync(path)) continue
    try {
      JSON5.parse(readFileSync(path, "utf8"))
    } catch (e) {
      problems.push(`${path}: ${e instanceof Error ? e.message : String(e)}`)
    }
  }
  return problems
}

interface Kill {
  readonly phase: PausePhase
  readonly occurrence: number
}

const KILLS_PER_ATOMIC_PHASE = 7
const kills: ReadonlyArray<Kill> = [
  { phase: "lock:openclaw:held", occurrence: 1 },
  { phase: "lock:qwen-code:held", occurrence: 1 },
  ...Array.from({ length: KILLS_PER_ATOMIC_PHASE }, (_, i) => [
    { phase: "atomic-write:after-temp-write" as const, occurrence: i + 1 },
    { phase: "atomic-write:before-rename" as const, occurrence: i + 1 }
  ]).flat()
]

/** Runs `args` until paused at `kill`, SIGKILLs it; false when the run ended before that point. */
const killAt = async (home: Home, args: ReadonlyArray<string>, kill: Kill) => {
  const child = startCli(args, {
    ...envFor(home, emu),
    NODE_ENV: "test",
    QWEN_AUTH_TEST_PAUSE_AT: kill.phase,
    QWEN_AUTH_TEST_PAUSE_SKIP: String(kill.occurrence - 1)
  })
  const guard = setTimeout(() => child.kill("SIGKILL"), 60_000)
  const reached = await child.waitFor(pausedMarker(kill.phase))
  clearTimeout(guard)
  if (reached) child.kill("SIGKILL")
  const out = await child.done
  return { reached, out }
}

const afterKill = async (home: Home, what: string, again: ReadonlyArray<string>) => {
  expect(fileProblems(home), `${what}: credential files after the kill`).toEqual([])
  expect(configProblems(home), `${what}: config files after the kill`).toEqual([])
  const dead = leftovers(home)
  age(dead, AGE_MS)
  const rerun = await runCli(again, envFor(home, emu))
  expect(rerun.code, `${what}: ${again.join(" ")} again\n${rerun.stderr}`).toBe(0)
  const token = await runCli(["token"], envFor(home, emu))
  expect(token.code, `${what}: token afterwards\n${token.stderr}`).toBe(0)
  expect(fileProblems(home), `${what}: credential files afterwards`).toEqual([])
  expect(configProblems(home), `${what}: config files afterwards`).toEqual([])
  // The dead run's leftovers go with the next write that sweeps; a run that writes nothing may
  // leave them (stale, so in nobody's way). Nothing new is left behind.
  expect(leftovers(home).filter((p) => !dead.includes(p)), `${what}: new leftovers afterwards`).toEqual([])
}

describe("crash safety of login and models set", () => {
  it("login killed at every pause point and each of its writes: files parse, the next login works", async () => {
    let reached = 0
    const one = async (kill: Kill) => {
      const home = makeHome()
      try {
        const what = `login at ${kill.phase}#${kill.occurrence}`
        const r = await killAt(home, ["login", "--no-browser", "--no-qr", "--set-default"], kill)
        if (!r.reached) {
          // Fewer writes than this occurrence: the run finished normally.
          expect(r.out.code, `${what}: ${r.out.stderr}`).toBe(0)
          return
        }
        reached++
        await afterKill(home, what, ["login", "--no-browser", "--no-qr", "--set-default"])
      } finally {
        home.cleanup()
      }
    }
    // Three lanes (homes are independent); each lane runs its kills one after another.
    const lanes = [0, 1, 2].map((lane) => kills.filter((_, i) => i % 3 === lane))
    await Promise.all(lanes.map(async (lane) => {
      for (const kill of lane) await one(kill)
    }))
    console.log(`[crash-commands] login: ${reached} of ${kills.length} pause points reached and killed`)
    // The three credential copies, the state file and the config files are separate writes.
    expect(reached).toBeGreaterThanOrEqual(2 + 2 * 5)
  }, 600_000)

  it("models set killed at each of its writes: the config parses (old or new), the next run sets it", async () => {
    const home = makeHome()
    try {
      const login = await runCli(["login", "--no-browser", "--no-qr"], envFor(home, emu))
      expect(login.code, login.stderr).toBe(0)
      let reached = 0
      const atomic = kills.filter((k) => k.phase.startsWith("atomic-write:") && k.occurrence <= 3)
      for (const [i, kill] of atomic.entries()) {
        // Alternate the model, so every run has a change to write.
        const model = i % 2 === 0 ? "qwen-portal/vision-model" : "qwen-portal/coder-model"
        const what = `models set at ${kill.phase}#${kill.occurrence}`
        const r = await killAt(home, ["models", "set", model], kill)
        if (!r.reached) {
          expect(r.out.code, `${what}: ${r.out.stderr}`).toBe(0)
          continue
        }
        reached++
        await afterKill(home, what, ["models", "set", model])
        const config = JSON5.parse(readFileSync(join(home.path, ".openclaw/openclaw.json"), "utf8"))
        expect(JSON.stringify(config)).toContain(model)
      }
      console.log(`[crash-commands] models set: ${reached} pause points reached and killed`)
      expect(reached).toBeGreaterThanOrEqual(2)
    } finally {
      home.cleanup()
    }
  }, 600_000)
})
