/**
 * `qwen-auth daemon` next to the real hosts (issue 15): the packed daemon runs in the background
 * while OpenClaw 2026.3.24, OpenClaw 2026.9.6 (with qwen-auth's plugin) and Qwen Code 0.12.0
 * answer requests over three token lifetimes.
 *
 * - OpenClaw 2026.3.24: 20-s tokens (the daemon refreshes at half a lifetime). It must never
 *   refresh itself (its bundled refresher would call chat.qwen.ai, which the guard refuses and the
 *   suite fails on), and `auth-profiles.json` is sampled every 100 ms: it never holds an expired
 *   token.
 * - OpenClaw 2026.9.6: 60-s tokens. It treats any token with under 5 min left as unusable and
 *   calls the plugin's `refreshOAuth` on every run: each call either adopts the daemon's newer
 *   token or POSTs itself; both are qwen-auth's code, and the scenario counts which. Its agent
 *   takes 15–20 s (on a loaded machine) between taking the credential and its API call, so a
 *   20-s token handed over anywhere past the start of its life has expired by then (seen: 401,
 *   and OpenClaw does not refresh on a 401): 60-s tokens leave it at least 24 s.
 * - Qwen Code 0.12.0 refreshes a token with under 30 s left (`TOKEN_REFRESH_BUFFER_MS`), so a
 *   20-s token would be refreshed by Qwen Code on every run whatever the daemon does: its tokens
 *   live 70 s, so the daemon's margin (half a lifetime, 35 s) stays ahead of Qwen Code's 30 s.
 *
 * Every refresh the emulator answers carries no `x-emulator-client` (qwen-auth's code) unless it
 * came from Qwen Code (its preload tags it); `refreshRejected` stays 0.
 */
import { existsSync } from "node:fs"
import {
  authProfilesPath,
  check,
  type EmulatorEvent,
  node22,
  qwenAuthCli,
  readJson,
  seconds,
  sleep,
  sqliteProfile,
  short,
  type Started,
  tail
} from "./lib.ts"
import { QwenHome } from "./qwen-code.ts"
import type { Scenario, Session } from "./suite.ts"

const REPLY = "qwen-emulator reply to"
/** Three lifetimes of 20-s tokens, and a little more. */
const TTL_S = 20
const WINDOW_MS = 3 * TTL_S * 1000 + 5_000
/** 2026.9.6's tokens (see above). */
const TTL_96_S = 60

type Refresh = Extract<EmulatorEvent, { kind: "refresh" }>
const refreshes = (events: ReadonlyArray<EmulatorEvent>) => events.filter((e): e is Refresh => e.kind === "refresh")

interface RunningDaemon {
  readonly proc: Started & { readonly recorded: Promise<{ code: number | null; log: string }> }
  events(): Array<{ event: string; time: string; message: string; expiresAt?: string; nextRefreshAt?: string }>
}

/** `qwen-auth daemon --json` in the background on `node`, waiting for its `started` line. */
const startDaemon = async (s: Session, node: string): Promise<RunningDaemon> => {
  const proc = s.spawn("qwen-auth daemon --json", [node, qwenAuthCli, "daemon", "--json"], { env: s.env(node), timeoutMs: 8 * 60_000 })
  const events = () =>
    proc.stderr().split("\n").filter((l) => l.trim().startsWith("{")).map((l) => JSON.parse(l))
  const until = Date.now() + 30_000
  while (Date.now() < until && !events().some((e) => e.event === "started")) await sleep(100)
  check(events().some((e) => e.event === "started"), `the daemon did not start:\n${tail(proc.stderr())}`)
  s.note(`daemon: ${events()[0]!.message}`)
  return { proc, events }
}

/** SIGTERM; checks exit 0 and the `stopped` line. */
const stopDaemon = async (s: Session, d: RunningDaemon) => {
  const t = Date.now()
  d.proc.signal("SIGTERM")
  const r = await d.proc.recorded
  check(r.code === 0, `the daemon exited ${r.code} on SIGTERM (${r.log}.*)\n${tail(d.proc.stderr())}`)
  check(d.events().at(-1)?.event === "stopped", `the daemon's last event is ${JSON.stringify(d.events().at(-1))}`)
  // `--json`: every line on stderr is one event object (Node 24 included: no runtime warning lines).
  const other = d.proc.stderr().split("\n").filter((l) => l.trim() !== "" && !l.trim().startsWith("{"))
  check(other.length === 0, `the daemon wrote non-JSON lines on stderr:\n${other.slice(0, 5).join("\n")}`)
  s.note(`daemon stopped in ${seconds(Date.now() - t)} on SIGTERM, exit 0`)
}

/** Samples a copy's expiry every 100 ms while the scenario runs. */
const sampleExpiry = (read: () => number | undefined) => {
  let running = true
  let samples = 0
  let minLeftMs = Number.POSITIVE_INFINITY
  const expired: Array<string> = []
  const done = (async () => {
    while (running) {
      let expires: number | undefined
      try {
        expires = read()
      } catch {
        expires = undefined // a read between OpenClaw's own writes; atomic renames make this rare
      }
      const now = Date.now()
      if (expires !== undefined) {
        samples++
        minLeftMs = Math.min(minLeftMs, expires - now)
        if (expires <= now) expired.push(new Date(now).toISOString())
      }
      await sleep(100)
    }
  })()
  return {
    stop: async () => {
      running = false
      await done
      return { samples, minLeftMs, expired }
    }
  }
}

/** Runs `once` back to back for `windowMs`; at least `min` runs. */
const repeatFor = async (windowMs: number, min: number, once: (i: number) => Promise<void>) => {
  const end = Date.now() + windowMs
  let i = 0
  while (Date.now() < end || i < min) await once(++i)
  return i
}

/** Refreshes this scenario saw, by who sent them (qwen-auth's code sends no client tag). */
const byClient = (events: ReadonlyArray<Refresh>) => {
  const counts = new Map<string, number>()
  for (const e of events) counts.set(e.client ?? "qwen-auth", (counts.get(e.client ?? "qwen-auth") ?? 0) + 1)
  return [...counts].map(([k, v]) => `${k}: ${v}`).join(", ") || "none"
}

// =============================================================================

const openclaw324: Scenario = {
  name: "daemon/2026.3.24",
  release: "2026.3.24",
  title: "daemon + openclaw agent over three 20-s lifetimes: OpenClaw never refreshes, its profile never expired, refreshRejected 0",
  emulatorFlags: ["--access-ttl", String(TTL_S)],
  timeoutMs: 6 * 60_000,
  run: async (s) => {
    await s.cliLogin()
    await s.setupOpenclaw()
    const d = await startDaemon(s, node22)
    const profile = sampleExpiry(() => readJson(authProfilesPath(s.home)).profiles?.["qwen-portal:default"]?.expires)
    const before = await s.stats()
    const t0 = Date.now()
    const runs = await repeatFor(WINDOW_MS, 3, async (i) => {
      const r = await s.agent({ anyExit: true })
      check(r.code === 0 && r.stdout.includes(REPLY), `agent run ${i} did not answer (exit ${r.code}):\n${tail(r.stdout)}\n${tail(r.stderr)}`)
    })
    const sampled = await profile.stop()
    const after = await s.stats()
    await stopDaemon(s, d)
    const events = refreshes(await s.emu.events())
    const daemonRefreshes = d.events().filter((e) => e.event === "refreshed").length
    check(after.refreshRejected === 0, `refreshRejected ${after.refreshRejected}`)
    check(events.every((e) => e.client === null && e.status === 200), `refreshes: ${byClient(events)}; statuses ${events.map((e) => e.status).join(",")}`)
    check(after.refreshGrants === daemonRefreshes, `refreshGrants ${after.refreshGrants}, the daemon reported ${daemonRefreshes} refreshes`)
    check(after.refreshGrants - before.refreshGrants >= 3, `only ${after.refreshGrants - before.refreshGrants} refreshes in ${seconds(Date.now() - t0)}`)
    check(sampled.expired.length === 0, `auth-profiles.json held an expired token at ${sampled.expired.slice(0, 3).join(", ")}`)
    check(after.apiUnauthorized === 0, `apiUnauthorized ${after.apiUnauthorized}`)
    s.note(
      `${runs} agent runs answered in ${seconds(Date.now() - t0)}; refreshGrants ${after.refreshGrants} (${byClient(events)}), all the daemon's; ` +
        `auth-profiles.json sampled ${sampled.samples}×, never expired (least time left ${seconds(sampled.minLeftMs)})`
    )
  }
}

const openclaw96: Scenario = {
  name: "daemon/2026.9.6",
  release: "2026.9.6",
  title: "daemon + plugin + openclaw agent over three 60-s lifetimes: every refresh qwen-auth's, refreshRejected 0",
  emulatorFlags: ["--access-ttl", String(TTL_96_S)],
  timeoutMs: 9 * 60_000,
  run: async (s) => {
    await s.initOpenClaw9()
    await s.setupOpenclaw()
    await s.cliLogin()
    // The daemon first, so the login OpenClaw's own login reuses is fresh.
    const d = await startDaemon(s, s.rel.node)
    await s.pty(["models", "auth", "login", "--provider", "qwen-portal"])
    const stored = await sqliteProfile(s.home)
    check(stored?.profile?.access !== undefined, "no qwen-portal:default in OpenClaw's store after its login")
    const before = await s.stats()
    const seen = (await s.emu.events()).length
    const daemonBefore = d.events().filter((e) => e.event === "refreshed").length
    const t0 = Date.now()
    const runs = await repeatFor(3 * TTL_96_S * 1000, 3, async (i) => {
      const r = await s.agent({ anyExit: true })
      check(r.code === 0 && r.stdout.includes(REPLY), `agent run ${i} did not answer (exit ${r.code}):\n${tail(r.stdout)}\n${tail(r.stderr)}`)
    })
    const after = await s.stats()
    await stopDaemon(s, d)
    const events = refreshes((await s.emu.events()).slice(seen))
    const daemonRefreshes = d.events().filter((e) => e.event === "refreshed").length - daemonBefore
    const adopted = d.events().filter((e) => e.event === "adopted").length
    const grants = after.refreshGrants - before.refreshGrants
    const pluginPosts = grants - daemonRefreshes
    check(after.refreshRejected === 0, `refreshRejected ${after.refreshRejected}`)
    check(events.every((e) => e.client === null && e.status === 200), `refreshes: ${byClient(events)}; statuses ${events.map((e) => e.status).join(",")}`)
    check(after.apiUnauthorized === 0, `apiUnauthorized ${after.apiUnauthorized}`)
    const last = await sqliteProfile(s.home)
    check(!String(last?.profile?.access).startsWith("openclaw-oauth-refresh-fence"), "OpenClaw's store holds a refresh fence")
    check(last?.profile?.access !== stored!.profile.access, `OpenClaw's store still holds its first token ${short(stored!.profile.access)}`)
    s.note(
      `${runs} agent runs answered in ${seconds(Date.now() - t0)}; refreshGrants ${grants} (${byClient(events)}): ` +
        `${daemonRefreshes} by the daemon, ${pluginPosts} by the plugin inside OpenClaw (OpenClaw calls refreshOAuth on every run, ` +
        `a 60-s token being under its 5-min threshold; the plugin adopts when the daemon refreshed since OpenClaw last saved, ` +
        `else POSTs); the daemon took up ${adopted} plugin token(s)`
    )
  }
}

const qwenCode012: Scenario = {
  name: "daemon/qwen-code-0.12.0",
  title: "daemon + qwen -p over three lifetimes (70-s tokens, Qwen Code's 30-s buffer): Qwen Code never refreshes, refreshRejected 0",
  emulatorFlags: ["--resource-url", "portal.qwen.ai", "--access-ttl", "70"],
  timeoutMs: 6 * 60_000,
  run: async (s) => {
    const q = new QwenHome(s)
    q.prepare()
    const watch = q.watch()
    await s.cliLogin([])
    const d = await startDaemon(s, node22)
    const creds = sampleExpiry(() => q.creds()?.expiry_date)
    const t0 = Date.now()
    // Three refreshes at 35–42 s before each 70-s token's expiry: about 100 s.
    const runs = await repeatFor(3 * 35_000 + 5_000, 3, async (i) => {
      await q.ask("0.12.0", `daemon ${i}`)
    })
    const sampled = await creds.stop()
    await stopDaemon(s, d)
    const stats = await s.stats()
    const events = refreshes(await s.emu.events())
    const daemonRefreshes = d.events().filter((e) => e.event === "refreshed").length
    check(events.every((e) => e.client === null), `Qwen Code refreshed itself: ${byClient(events)}`)
    check(stats.refreshGrants === daemonRefreshes && daemonRefreshes >= 3, `refreshGrants ${stats.refreshGrants}, daemon refreshes ${daemonRefreshes}`)
    check(sampled.expired.length === 0 && sampled.minLeftMs > 30_000, `oauth_creds.json: least time left ${seconds(sampled.minLeftMs)}, expired at ${sampled.expired.slice(0, 3).join(", ")}`)
    check(!existsSync(q.lockPath), "oauth_creds.lock left behind")
    await q.ordinary(watch)
    s.note(
      `${runs} qwen -p runs answered in ${seconds(Date.now() - t0)}; refreshGrants ${stats.refreshGrants} (${byClient(events)}), all the daemon's; ` +
        `oauth_creds.json never under ${seconds(sampled.minLeftMs)} left (Qwen Code refreshes under 30 s)`
    )
  }
}

/** In the order they run. */
export const daemonScenarios: ReadonlyArray<Scenario> = [openclaw324, openclaw96, qwenCode012]
