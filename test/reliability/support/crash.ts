/**
 * The crash campaign: `qwen-auth token` children are SIGKILLed at test-only pause points and at
 * random moments; after each kill the files must parse and keep their modes, our leftovers
 * (temp files, locks) are aged past their stale time (a dead process no longer touches them)
 * and the next run must recover without a login — except when the server rotated a refresh token
 * the dead process never saved, which is counted.
 *
 * Several lanes (homes) run side by side against one emulator; within a lane runs are sequential.
 */
import { pausedMarker, type PausePhase } from "../../../src/internal/TestPause.ts"
import type { EmulatorControl } from "../../support/emulator.ts"
import {
  age,
  envFor,
  fileProblems,
  type Home,
  leftovers,
  makeHome,
  runCli,
  type Secrets,
  seedLogin,
  sleep,
  startCli,
  storedExpiry,
  storedTokens
} from "./home.ts"
import type { Rng } from "./seed.ts"

/** A kill target: a pause phase, the occurrence to stop at (1 = first), or a random moment. */
export type Target =
  | { readonly _tag: "Phase"; readonly phase: PausePhase; readonly occurrence: number }
  | { readonly _tag: "Random" }

export const keyOf = (t: Target) =>
  t._tag === "Random"
    ? "random"
    : t.phase.startsWith("atomic-write:")
    ? `${t.phase}#${t.occurrence}`
    : t.phase

/**
 * What the next run must do after a kill at a phase. A refresh writes qwen-auth's own copy (#1),
 * then the Qwen Code file (#2), then the OpenClaw profile (#3): killed before the first rename, the
 * rotated token is lost; after it, one copy survives.
 */
export const expectedAfter = (t: Target): "recovers" | "lost-rotation" | "either" => {
  if (t._tag === "Random") return "either"
  if (t.phase === "refresh:after-post") return "lost-rotation"
  if (t.phase.startsWith("atomic-write:")) return t.occurrence === 1 ? "lost-rotation" : "recovers"
  return "recovers"
}

export interface PhaseCount {
  kills: number
  recovered: number
  lostRotations: number
}

export interface CampaignResult {
  readonly perTarget: Record<string, PhaseCount>
  /** Random kills that landed after the child had already finished. */
  randomAfterExit: number
  /** Phase runs that finished without reaching their pause point (retried). */
  missed: number
  readonly failures: Array<string>
  readonly outputs: Array<string>
}

/** Effective margin with the lifetime known: lifetime / 2; wait until the token is in its window. */
const waitForWindow = async (home: Home, lifetimeMs: number) => {
  const expiry = storedExpiry(home)
  if (expiry > 0) await sleep(expiry - lifetimeMs / 2 + 50 - Date.now())
}

/** Leftovers are aged by more than every stale time (Qwen lock 35 s, OpenClaw lock 30 s, temp 60 s). */
const AGE_MS = 61_000

export const runCampaign = async (options: {
  readonly emu: EmulatorControl
  readonly lanes: number
  readonly targets: ReadonlyArray<Target>
  readonly rng: Rng
  readonly secrets: Secrets
  readonly lifetimeMs: number
  /** Upper bound of a random kill's delay after spawn. */
  readonly randomKillMaxMs: number
  /**
   * Age leftovers past their stale time instead of waiting for it (default). Without it, the next
   * run waits out stale locks in real time; temp files (60 s) are then not checked.
   */
  readonly ageLeftovers?: boolean
}): Promise<CampaignResult> => {
  const { emu, rng, secrets } = options
  const result: CampaignResult = { perTarget: {}, randomAfterExit: 0, missed: 0, failures: [], outputs: [] }
  const count = (t: Target) => (result.perTarget[keyOf(t)] ??= { kills: 0, recovered: 0, lostRotations: 0 })
  // Deal the shuffled targets to the lanes.
  const shuffled = [...options.targets].sort(() => rng.next() - 0.5)
  const laneJobs: Array<Array<Target>> = Array.from({ length: options.lanes }, () => [])
  shuffled.forEach((t, i) => laneJobs[i % options.lanes]!.push(t))
  // Random delays are drawn up front so the seed decides them whatever the lanes' interleaving.
  const delays = shuffled.map(() => rng.int(0, options.randomKillMaxMs))
  let delayIndex = 0

  const lane = async (jobs: Array<Target>) => {
    const home = makeHome()
    try {
      await seedLogin(home, emu, secrets)
      const env = envFor(home, emu)
      const fail = (why: string, out?: { stdout: string; stderr: string }) =>
        result.failures.push(`${why}${out ? `\n  stdout: ${out.stdout}\n  stderr: ${out.stderr}` : ""}`)
      let misses = 0
      while (jobs.length > 0) {
        const target = jobs[0]!
        if (misses >= 3) {
          fail(`${keyOf(target)}: pause point not reached in 3 runs`)
          jobs.shift()
          misses = 0
          continue
        }
        await waitForWindow(home, options.lifetimeMs)
        // 1. The run that gets killed.
        if (target._tag === "Phase") {
          const child = startCli(["token"], {
            ...env,
            NODE_ENV: "test",
            QWEN_AUTH_TEST_PAUSE_AT: target.phase,
            QWEN_AUTH_TEST_PAUSE_SKIP: String(target.occurrence - 1)
          })
          const guard = setTimeout(() => child.kill("SIGKILL"), 90_000)
          const reached = await child.waitFor(pausedMarker(target.phase))
          clearTimeout(guard)
          if (!reached) {
            const out = await child.done
            result.outputs.push(out.stderr)
            result.missed++
            misses++
            if (process.env.QWEN_AUTH_TEST_DEBUG === "1") fail(`MISS ${keyOf(target)} expiry in ${storedExpiry(home) - Date.now()}`, out)
            if (out.code !== 0) fail(`${keyOf(target)}: run without pause exited ${out.code}`, out)
            continue
          }
          child.kill("SIGKILL")
          const out = await child.done
          result.outputs.push(out.stderr)
        } else {
          const child = startCli(["token"], env)
          await sleep(delays[delayIndex++ % delays.length]!)
          child.kill("SIGKILL")
          const out = await child.done
          result.outputs.push(out.stderr)
          if (out.signal !== "SIGKILL") {
            result.randomAfterExit++
            if (out.code !== 0) fail(`random: finished run exited ${out.code}`, out)
          }
        }
        jobs.shift()
        misses = 0
        const c = count(target)
        c.kills++
        secrets.add(...storedTokens(home))
        // 2. Every file parses and keeps its mode.
        for (const p of fileProblems(home)) fail(`${keyOf(target)}: after the kill: ${p}`)
        // 3. Time passes: nothing touches the dead process's leftovers any more.
        if (options.ageLeftovers !== false) age(leftovers(home), AGE_MS)
        await waitForWindow(home, options.lifetimeMs)
        // 4. The next run recovers, unless the rotated token died with the process.
        const next = await runCli(["token"], env)
        result.outputs.push(next.stderr)
        secrets.add(...storedTokens(home))
        const expected = expectedAfter(target)
        if (next.code === 0) {
          c.recovered++
          if (next.stdout.trim() === "") fail(`${keyOf(target)}: recovery printed no token`, next)
          if (expected === "lost-rotation") fail(`${keyOf(target)}: expected a lost rotation, but the next run recovered`)
        } else if (next.code === 4) {
          c.lostRotations++
          if (expected === "recovers") fail(`${keyOf(target)}: the next run needed a login`, next)
          // The one window nobody can close (docs/reliability.md): said plainly, with the command.
          if (!/Run `qwen-auth login`/.test(next.stderr)) fail(`${keyOf(target)}: a lost rotation not said plainly`, next)
        } else {
          fail(`${keyOf(target)}: the next run exited ${next.code}`, next)
        }
        for (const p of fileProblems(home)) fail(`${keyOf(target)}: after recovery: ${p}`)
        const stale = leftovers(home).filter((p) => options.ageLeftovers !== false || !/\.tmp$/.test(p))
        if (stale.length > 0) fail(`${keyOf(target)}: leftovers outlived their stale time: ${stale.join(", ")}`)
        if (next.code === 4) await seedLogin(home, emu, secrets)
      }
    } finally {
      home.cleanup()
    }
  }
  await Promise.all(laneJobs.map(lane))
  return result
}

/** `n` kills at every pause phase (atomic-write phases spread over the three writes). */
export const phaseTargets = (perPhase: number, phases: ReadonlyArray<PausePhase>): Array<Target> =>
  phases.flatMap((phase) =>
    Array.from({ length: perPhase }, (_, i): Target => ({
      _tag: "Phase",
      phase,
      // A refresh writes the profile (#1), the Qwen Code file (#2), and the state file only when
      // it changes (#3, rare): stop at the first two.
      occurrence: phase.startsWith("atomic-write:") ? (i % 2) + 1 : 1
    }))
  )

export const randomTargets = (n: number): Array<Target> => Array.from({ length: n }, (): Target => ({ _tag: "Random" }))
