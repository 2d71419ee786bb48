/**
 * The daemon's two rows (issue 15):
 *
 * - idle: `qwen-auth daemon` as a process over a fresh 6-h login (so its next refresh is hours
 *   away), CPU time (user + system, from /proc or `ps`) and RSS 60 s after it started. What it
 *   does meanwhile: a few `stat`s every 3 s and a lock touch every 10 s.
 * - leak: `Daemon.run` in this process against the emulator with `--access-ttl 2` (the daemon
 *   refreshes at half a lifetime), RSS after 1,000 and after 10,000 refreshes, each after a full
 *   GC. The daemon runs on a Clock 200× faster than the wall (its sleeps are 200× shorter), so
 *   10,000 refreshes take minutes, not hours; every refresh is still a real POST to the emulator
 *   and real writes of every copy under the locks.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Clock, Console, Duration, Effect, Fiber, Layer, Logger } from "effect"
import { spawn, spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { QwenAuthConfig, resolveSettings } from "../../src/Config.ts"
import * as Daemon from "../../src/daemon/Daemon.ts"
import * as HttpClientLayer from "../../src/internal/HttpClientLayer.ts"
import { CredentialStore } from "../../src/store/CredentialStore.ts"
import { login, startEmulatorProcess } from "../../test/support/emulator.ts"
import { nodeBin, scrubbedEnv } from "../../test/support/processes.ts"
import { HOUR_MS, homeWith } from "./home.ts"
import { pathsUnder } from "./layer.ts"
import { type Row, summarize } from "./stats.ts"

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

// =============================================================================
// idle
// =============================================================================

/** CPU seconds (user + system) and RSS (MB) of a process. */
const usage = (pid: number): { cpuS: number; rssMb: number } => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    const ticks = Number(fields[11]) + Number(fields[12])
    const hz = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0)
    return { cpuS: ticks / hz, rssMb: rssKb / 1024 }
  } catch {
    // macOS: `ps` (cputime as [[dd-]hh:]mm:ss.cc).
    const out = spawnSync("ps", ["-o", "rss=,time=", "-p", String(pid)], { encoding: "utf8" }).stdout.trim().split(/\s+/)
    const parts = (out[1] ?? "0").split(":").map(Number)
    const cpuS = parts.reduce((acc, p) => acc * 60 + p, 0)
    return { cpuS, rssMb: Number(out[0] ?? 0) / 1024 }
  }
}

const idleOnce = async (cliPath: string, url: string, tokens: Awaited<ReturnType<typeof login>>, idleMs: number) => {
  const home = homeWith(tokens, Date.now() + 6 * HOUR_MS)
  const child = spawn(nodeBin, [cliPath, "daemon", "--json"], {
    env: scrubbedEnv(home.path, { QWEN_OAUTH_BASE_URL: url }),
    stdio: ["ignore", "ignore", "pipe"]
  })
  let stderr = ""
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
  const closed = new Promise<number | null>((done) => child.on("close", (code) => done(code)))
  try {
    const until = Date.now() + 20_000
    while (!stderr.includes(`"event":"started"`) && Date.now() < until) await sleep(20)
    if (!stderr.includes(`"event":"started"`)) throw new Error(`the daemon did not start: ${stderr}`)
    const atStart = usage(child.pid!)
    await sleep(idleMs)
    const after = usage(child.pid!)
    child.kill("SIGTERM")
    const code = await closed
    const events = stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l).event)
    return { atStart, after, code, events }
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL")
    home.cleanup()
  }
}

/** CPU during the idle minute ≤ this (0.5 % of one core). */
const IDLE_CPU_TARGET_S = 0.3
const IDLE_RSS_TARGET_MB = 150

export const daemonIdleRows = async (cliPath: string, options: { readonly runs: number; readonly idleMs: number }): Promise<Array<Row>> => {
  const emu = await startEmulatorProcess([])
  try {
    // Side by side (each its own home and process): idle daemons do not compete for much.
    const logins = []
    for (let i = 0; i < options.runs; i++) logins.push(await login(emu))
    const trials = await Promise.all(logins.map((tokens) => idleOnce(cliPath, emu.url, tokens, options.idleMs)))
    const idleCpu = summarize(trials.map((t) => t.after.cpuS - t.atStart.cpuS))
    const totalCpu = summarize(trials.map((t) => t.after.cpuS))
    const rss = summarize(trials.map((t) => t.after.rssMb))
    const stats = await emu.stats()
    const clean = trials.every((t) => t.code === 0 && t.events.join(",") === "started,stopped") && stats.refreshRequests === 0
    const seconds = Math.round(options.idleMs / 1000)
    const notes = [
      `daemon idle: ${trials.length} run(s) of ${seconds} s over a fresh 6-h login; CPU at start-up ${summarize(trials.map((t) => t.atStart.cpuS)).median.toFixed(2)} s (median), ` +
        `events ${trials.map((t) => t.events.join("→")).join(" | ")}, exit codes ${trials.map((t) => t.code).join(",")}, refresh requests ${stats.refreshRequests}`
    ]
    return [
      {
        name: `\`qwen-auth daemon\` idle, CPU time in the ${seconds} s after start-up`,
        unit: "ms",
        summary: { ...idleCpu, median: idleCpu.median * 1000, min: idleCpu.min * 1000, max: idleCpu.max * 1000 },
        target: `≤ ${IDLE_CPU_TARGET_S * 1000} ms (0.5 % of a core), no refresh`,
        verdict: clean && idleCpu.max <= IDLE_CPU_TARGET_S ? "met" : "MISSED",
        notes
      },
      {
        name: `\`qwen-auth daemon\` idle, CPU time since spawn, ${seconds} s after start-up`,
        unit: "ms",
        summary: { ...totalCpu, median: totalCpu.median * 1000, min: totalCpu.min * 1000, max: totalCpu.max * 1000 },
        target: "reported",
        verdict: "—"
      },
      {
        name: `\`qwen-auth daemon\` idle, RSS ${seconds} s after start-up`,
        unit: "MB",
        summary: rss,
        target: `≤ ${IDLE_RSS_TARGET_MB} MB`,
        verdict: rss.max <= IDLE_RSS_TARGET_MB ? "met" : "MISSED"
      }
    ]
  } finally {
    await emu.stop()
  }
}

// =============================================================================
// leak
// =============================================================================

/** A Clock `speed` times faster than the wall: sleeps are shorter, time runs ahead. */
const fastClock = (speed: number): Clock.Clock => {
  const wall0 = Date.now()
  const perf0 = performance.now()
  const now = () => wall0 + (performance.now() - perf0) * speed
  const nanos = () => BigInt(Math.floor(now() * 1e6))
  return {
    currentTimeMillisUnsafe: () => Math.floor(now()),
    currentTimeMillis: Effect.sync(() => Math.floor(now())),
    currentTimeNanosUnsafe: nanos,
    currentTimeNanos: Effect.sync(nanos),
    monotonicTimeNanosUnsafe: nanos,
    monotonicTimeNanos: Effect.sync(nanos),
    sleep: (duration) =>
      Effect.callback<void>((resume) => {
        const handle = setTimeout(() => resume(Effect.void), Duration.toMillis(duration) / speed)
        return Effect.sync(() => clearTimeout(handle))
      })
  }
}

const gc = (() => {
  setFlagsFromString("--expose-gc")
  return runInNewContext("gc") as () => void
})()

const rssAfterGc = () => {
  gc()
  gc()
  return process.memoryUsage().rss / 1024 / 1024
}

/** A Console that drops everything but counts `refreshed` events. */
const countingConsole = (onRefreshed: () => void): Console.Console =>
  new Proxy({} as Console.Console, {
    get: (_target, key) =>
      key === "error"
        ? (...args: Array<unknown>) => {
          if (typeof args[0] === "string" && args[0].includes(`"event":"refreshed"`)) onRefreshed()
        }
        : () => {}
  })

export const daemonLeakRows = async (options: { readonly checkpoints: readonly [number, number] }): Promise<Array<Row>> => {
  const emu = await startEmulatorProcess(["--access-ttl", "2"])
  const tokens = await login(emu)
  const home = homeWith(tokens, Date.now() + 2_000)
  const [first, second] = options.checkpoints
  let refreshed = 0
  const marks: Array<{ at: number; rssMb: number; ms: number }> = []
  const started = performance.now()
  let reached: () => void = () => {}
  const waitFor = (n: number) =>
    new Promise<void>((resolve) => {
      reached = () => {
        if (refreshed >= n) resolve()
      }
    })
  try {
    const settings = await Effect.runPromise(resolveSettings({ oauthBaseUrl: emu.url, ...pathsUnder(home.path) }).pipe(
      Effect.provide(Layer.empty)
    ))
    const program = Effect.scoped(Daemon.run({ pid: process.pid, isAlive: () => false, json: true })).pipe(
      Effect.provide(Logger.layer([])),
      Effect.provide(CredentialStore.layerWithLocks),
      Effect.provide(Layer.mergeAll(QwenAuthConfig.layerFrom(settings), HttpClientLayer.layer, NodeFileSystem.layer)),
      Effect.provideService(Console.Console, countingConsole(() => (refreshed++, reached()))),
      Effect.provideService(Clock.Clock, fastClock(200))
    )
    const fiber = Effect.runFork(program)
    for (const n of [first, second]) {
      await waitFor(n)
      marks.push({ at: refreshed, rssMb: rssAfterGc(), ms: performance.now() - started })
    }
    await Effect.runPromise(Fiber.interrupt(fiber))
    const stats = await emu.stats()
    const [a, b] = marks as [typeof marks[0], typeof marks[0]]
    const flat = b.rssMb <= 1.1 * a.rssMb
    const ok = flat && stats.refreshRejected === 0
    const notes = [
      `daemon leak: ${b.at} refreshes in ${(b.ms / 1000).toFixed(0)} s (emulator refreshGrants ${stats.refreshGrants}, refreshRejected ${stats.refreshRejected}); ` +
        `RSS after GC ${a.rssMb.toFixed(1)} MB at ${a.at}, ${b.rssMb.toFixed(1)} MB at ${b.at} (${(b.rssMb / a.rssMb).toFixed(3)}×)`
    ]
    return [
      { name: `daemon in process, RSS after ${first.toLocaleString("en-US")} refreshes (2-s tokens)`, unit: "MB", summary: summarize([a.rssMb]), target: "reported (the baseline of the next row)", verdict: "—", notes },
      {
        name: `daemon in process, RSS after ${second.toLocaleString("en-US")} refreshes (2-s tokens)`,
        unit: "MB",
        summary: summarize([b.rssMb]),
        baseline: { name: `${first.toLocaleString("en-US")} refreshes`, median: a.rssMb },
        target: "≤ 1.10× (flat), refreshRejected 0",
        verdict: ok ? "met" : "MISSED"
      }
    ]
  } finally {
    await emu.stop()
    home.cleanup()
  }
}

