/**
 * `qwen-auth daemon` as a process, in real time, against the emulator with 20-s tokens (so a
 * lifetime takes 20 s and the daemon refreshes at half of it): every copy always holds an
 * unexpired token across three lifetimes, each token is refreshed once, nothing is ever
 * refused, a second daemon is turned away, `status` sees it, SIGTERM stops it cleanly, and a
 * `kill -9` followed by a restart loses nothing. The emulator's seed and the kill instant are
 * printed so a failure can be replayed.
 */
import { describe, expect, it } from "vitest"
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { cliPath, nodeBin } from "../support/processes.ts"
import { afterThisTest, cli, emulator, envFor, explain, type Home, readJson, tempHome } from "./home.ts"

const TTL_S = 20
const LONG = 180_000
const EVENT_KEYS = new Set(["time", "level", "event", "expiresAt", "nextRefreshAt", "message"])
const EVENTS = new Set(["started", "refreshed", "adopted", "refresh-failed", "needs-login", "login-detected", "stopped", "log"])

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

interface Daemon {
  readonly child: ChildProcessWithoutNullStreams
  readonly pid: number
  stderr(): string
  /** The JSON event lines so far. */
  events(): Array<any>
  waitFor(test: (events: Array<any>) => boolean, timeoutMs: number, what: string): Promise<void>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>
}

/** Starts `qwen-auth daemon --json` in `home`. */
const startDaemon = (home: Home, emu: { url: string }): Daemon => {
  const child = spawn(nodeBin, [cliPath, "daemon", "--json"], { env: envFor(home, emu), stdio: ["pipe", "pipe", "pipe"] })
  child.stdin.end()
  let stderr = ""
  let stdout = ""
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; atMs: number }>((done) =>
    child.on("close", (code, signal) => done({ code, signal, atMs: Date.now() }))
  )
  afterThisTest(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL")
      await exited
    }
  })
  const events = () => stderr.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l))
  return {
    child,
    pid: child.pid!,
    stderr: () => stderr + (stdout === "" ? "" : `\n[stdout] ${stdout}`),
    events,
    exited,
    waitFor: async (test, timeoutMs, what) => {
      const until = Date.now() + timeoutMs
      while (Date.now() < until) {
        if (test(events())) return
        if (child.exitCode !== null || child.signalCode !== null) break
        await sleep(50)
      }
      expect(test(events()), `${what}\n${stderr}`).toBe(true)
    }
  }
}

/** Every copy qwen-auth writes, with its access token and expiry. */
const copies = (home: Home) => {
  const out: Array<{ path: string; access: string; expires: number }> = []
  for (const path of [home.creds, home.own]) {
    if (!existsSync(path)) continue
    try {
      const j = readJson(path)
      out.push({ path, access: j.access_token, expires: j.expiry_date })
    } catch {} // a rename in progress is atomic; a read never sees half a file
  }
  if (existsSync(home.profiles)) {
    try {
      const p = readJson(home.profiles).profiles?.["qwen-portal:default"]
      if (p !== undefined) out.push({ path: home.profiles, access: p.access, expires: p.expires })
    } catch {}
  }
  return out
}

/** Samples every copy every 100 ms until `stop` resolves; fails on any expired one. */
const watchCopies = (home: Home) => {
  const problems: Array<string> = []
  const tokens = new Set<string>()
  let samples = 0
  let running = true
  const done = (async () => {
    while (running) {
      const now = Date.now()
      const seen = copies(home)
      samples++
      for (const c of seen) {
        tokens.add(c.access)
        if (!(c.expires > now)) problems.push(`${c.path} held an expired token at ${new Date(now).toISOString()} (expired ${new Date(c.expires).toISOString()})`)
      }
      if (seen.length < 3) problems.push(`only ${seen.length} copies at ${new Date(now).toISOString()}`)
      await sleep(100)
    }
  })()
  return {
    stop: async () => {
      running = false
      await done
      return { problems, tokens: tokens.size, samples }
    }
  }
}

const refreshEvents = async (url: string) =>
  ((await (await fetch(`${url}/__emulator/events`)).json()) as { events: Array<any> }).events.filter((e) => e.kind === "refresh")

/** A fresh login (device flow at the emulator), with OpenClaw's JSON store present (2026.3.24's layout). */
const loggedIn = async (home: Home, emu: { url: string }) => {
  const login = await cli(home, ["login", "--no-browser", "--json"], emu)
  expect(login.code, explain(login)).toBe(0)
  // OpenClaw 2026.3.24 keeps auth-profiles.json: qwen-auth's login wrote our profile there.
  expect(existsSync(home.profiles), `no ${home.profiles} after login: ${login.stdout}`).toBe(true)
}

describe("qwen-auth daemon (process, 20-s tokens)", () => {
  it("keeps every copy fresh over three lifetimes, one refresh per token, none refused; one daemon per home; status sees it; SIGTERM stops it cleanly", async () => {
    const emu = await emulator(["--access-ttl", String(TTL_S), "--auto-approve-after", "1", "--interval", "1"])
    console.log(`emulator: ${emu.stderr().split("\n").find((l) => l.includes("seed")) ?? "(no seed line)"}`)
    const home = tempHome()
    await loggedIn(home, emu)
    const startedAt = Date.now()
    const d = startDaemon(home, emu)
    await d.waitFor((e) => e.some((x) => x.event === "started"), 20_000, "started")
    const watch = watchCopies(home)

    // One daemon per home: a second one exits 1 naming the first.
    const second = await cli(home, ["daemon"], emu)
    expect(second.code, explain(second)).toBe(1)
    expect(second.stderr).toContain(`a daemon (pid ${d.pid}, since `)
    expect(second.stderr).toContain(`already keeps ${home.qwen} fresh`)

    // Three lifetimes and then some.
    await sleep(3 * TTL_S * 1000 + 5_000)
    const { problems, tokens, samples } = await watch.stop()
    expect(problems.slice(0, 5), problems.join("\n")).toEqual([])
    expect(samples).toBeGreaterThan(300)

    // status: the daemon keeps this login fresh.
    const status = await cli(home, ["status", "--json"], emu)
    expect(status.code, explain(status)).toBe(0)
    const daemon = JSON.parse(status.stdout).daemon
    expect(daemon).toMatchObject({ pid: d.pid, startedAt: expect.any(String), lastRefreshAt: expect.any(String), nextRefreshAt: expect.any(String) })
    expect(Date.parse(daemon.nextRefreshAt)).toBeGreaterThan(Date.now() - 1000)
    const human = await cli(home, ["status"], emu)
    expect(human.stdout).toContain(`daemon:        running (pid ${d.pid}`)

    // SIGTERM: stopped within 2 s, exit 0, lock and record gone.
    const signalledAt = Date.now()
    d.child.kill("SIGTERM")
    const exit = await d.exited
    expect(exit.code, d.stderr()).toBe(0)
    expect(exit.atMs - signalledAt).toBeLessThan(2_000)
    expect(existsSync(join(home.qwen, "qwen-auth-daemon.lock"))).toBe(false)
    expect(existsSync(join(home.qwen, "qwen-auth-daemon.json"))).toBe(false)
    const after = await cli(home, ["status", "--json"], emu)
    expect(JSON.parse(after.stdout).daemon).toBeNull()

    // The events: JSON lines of the documented shape, never a token.
    const events = d.events()
    expect(events[0]).toMatchObject({ event: "started", level: "info" })
    expect(events.at(-1)).toMatchObject({ event: "stopped" })
    for (const e of events) {
      expect([...Object.keys(e)].every((k) => EVENT_KEYS.has(k)), JSON.stringify(e)).toBe(true)
      expect(EVENTS.has(e.event), e.event).toBe(true)
    }
    const refreshed = events.filter((e) => e.event === "refreshed")
    const stats = await emu.stats()
    expect(stats.refreshRejected).toBe(0)
    expect(stats.refreshRequests).toBe(stats.refreshGrants)
    expect(refreshed.length).toBe(stats.refreshGrants)
    // At half of each 20-s life (less up to 20 % jitter of the 10-s margin): 5–7 per minute.
    const seconds = (exit.atMs - startedAt) / 1000
    expect(stats.refreshGrants).toBeGreaterThanOrEqual(Math.floor(seconds / 10) - 1)
    expect(stats.refreshGrants).toBeLessThanOrEqual(Math.ceil(seconds / 8) + 1)
    expect(tokens).toBeGreaterThanOrEqual(stats.refreshGrants)
    // One refresh per token: each refresh presented the token the previous one issued.
    const refreshes = await refreshEvents(emu.url)
    for (let i = 1; i < refreshes.length; i++) expect(refreshes[i].refreshToken).toBe(refreshes[i - 1].issuedRefresh)
    for (const path of [home.creds, home.own, home.profiles]) {
      const text = readFileSync(path, "utf8")
      const token = path === home.profiles ? JSON.parse(text).profiles["qwen-portal:default"].access : JSON.parse(text).access_token
      expect(d.stderr()).not.toContain(token)
    }
  }, LONG)

  it("kill -9 at any moment and a restart lose nothing: the chain goes on, nothing refused, copies fresh", async () => {
    const emu = await emulator(["--access-ttl", String(TTL_S), "--auto-approve-after", "1", "--interval", "1"])
    const home = tempHome()
    await loggedIn(home, emu)
    const seed = Number(process.env.DAEMON_KILL_SEED ?? Date.now() % 10_000)
    // The kill instant within a refresh period (10 s), from the seed: replay with DAEMON_KILL_SEED.
    const killAfterMs = 12_000 + (seed * 7919) % 10_000
    console.log(`kill -9 seed ${seed}: after ${killAfterMs} ms`)
    const first = startDaemon(home, emu)
    await first.waitFor((e) => e.some((x) => x.event === "started"), 20_000, "started")
    const watch = watchCopies(home)
    await sleep(killAfterMs)
    first.child.kill("SIGKILL")
    expect((await first.exited).signal).toBe("SIGKILL")
    // At once: the lock of a pid that is gone is no obstacle.
    const second = startDaemon(home, emu)
    await second.waitFor((e) => e.some((x) => x.event === "started"), 20_000, "restarted")
    await sleep(2 * TTL_S * 1000)
    const { problems } = await watch.stop()
    // A closed terminal (SIGHUP) stops it like SIGTERM.
    second.child.kill("SIGHUP")
    expect((await second.exited).code, second.stderr()).toBe(0)
    expect(second.events().at(-1)).toMatchObject({ event: "stopped" })
    expect(problems.slice(0, 5), problems.join("\n")).toEqual([])
    const stats = await emu.stats()
    expect(stats.refreshRejected).toBe(0)
    expect(stats.liveRefreshTokens).toBe(1)
    expect(second.events().filter((e) => e.event === "refreshed").length).toBeGreaterThanOrEqual(3)
    // The files hold the live chain: one more refresh from them works.
    const token = await cli(home, ["token", "--json"], emu)
    expect(token.code, explain(token)).toBe(0)
  }, LONG)

  it("doctor says which daemon keeps the home fresh, and names a daemon killed with -9 as daemon-stopped", async () => {
    const emu = await emulator(["--auto-approve-after", "1", "--interval", "1"])
    const home = tempHome()
    await loggedIn(home, emu)
    const env = { OPENCLAW_BIN: "/nonexistent/openclaw" }
    const none = JSON.parse((await cli(home, ["doctor", "--json"], emu, env)).stdout)
    expect(none.checks.find((c: any) => c.id === "daemon")).toMatchObject({ status: "skipped" })
    const d = startDaemon(home, emu)
    await d.waitFor((e) => e.some((x) => x.event === "started"), 20_000, "started")
    const running = await cli(home, ["doctor", "--json"], emu, env)
    const daemon = JSON.parse(running.stdout).checks.find((c: any) => c.id === "daemon")
    expect(daemon, explain(running)).toMatchObject({ status: "ok" })
    expect(daemon.detail).toContain(`pid ${d.pid}`)
    expect(running.code, explain(running)).toBe(0)
    d.child.kill("SIGKILL")
    await d.exited
    const stopped = await cli(home, ["doctor", "--json"], emu, env)
    expect(stopped.code, explain(stopped)).toBe(1)
    const after = JSON.parse(stopped.stdout).checks.find((c: any) => c.id === "daemon")
    expect(after).toMatchObject({ status: "problem", cause: "daemon-stopped", next: "qwen-auth daemon" })
    expect(after.detail).toContain(`pid ${d.pid}`)
  }, LONG)

  it("without a login: started, needs-login once, then login-detected when a login appears", async () => {
    const emu = await emulator(["--auto-approve-after", "1", "--interval", "1"])
    const home = tempHome()
    const d = startDaemon(home, emu)
    await d.waitFor((e) => e.some((x) => x.event === "needs-login"), 20_000, "needs-login")
    expect(d.events().map((e) => e.event)).toEqual(["started", "needs-login"])
    const status = await cli(home, ["status"], emu)
    expect(status.code).toBe(4)
    expect(status.stdout).toContain(`daemon:        running (pid ${d.pid}`)
    expect(status.stdout).toContain("waiting for a login")
    await loggedIn(home, emu)
    await d.waitFor((e) => e.some((x) => x.event === "login-detected"), 10_000, "login-detected")
    const detected = d.events().find((e) => e.event === "login-detected")
    // A 6-h token: the next refresh 10–12 min before its expiry.
    const lead = Date.parse(detected.expiresAt) - Date.parse(detected.nextRefreshAt)
    expect(lead).toBeGreaterThanOrEqual(600_000)
    expect(lead).toBeLessThanOrEqual(720_000)
    d.child.kill("SIGINT")
    expect((await d.exited).code).toBe(0)
    expect(d.events().map((e) => e.event)).toEqual(["started", "needs-login", "login-detected", "stopped"])
    expect((await emu.stats()).refreshRequests).toBe(0)
  }, LONG)
})
