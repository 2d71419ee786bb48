/**
 * The Qwen Code scenarios of the interop suite: the real Qwen Code 0.12.0 (the last release
 * before Qwen OAuth was switched off) and 0.24.4 (the current one, which refuses Qwen OAuth)
 * next to the packed qwen-auth, sharing `~/.qwen/oauth_creds.json` and `oauth_creds.lock`.
 *
 * How Qwen Code runs here (facts from its published code, hosts.md):
 * - `HOME` is the scenario's throwaway home (0.12.0 ignores `QWEN_HOME`), the environment is built
 *   from scratch, `QWEN_CODE_NO_RELAUNCH=true` keeps one process per run, the working directory
 *   is an empty project folder `<scenario>/work`.
 * - `NODE_OPTIONS=--require=interop/qwen-code-preload.cjs`: the guard, plus the global `fetch`
 *   sent from `https://chat.qwen.ai` (hard-coded OAuth host) and from `https://portal.qwen.ai`
 *   (what Qwen Code builds from the emulator's `resource_url: portal.qwen.ai`, as Qwen's server
 *   answers) to the emulator, tagged `x-emulator-client: qwen-code <release> pid <pid>` so the
 *   emulator's events tell Qwen Code's refreshes and API calls from qwen-auth's. The preload also
 *   logs (without changing them) Qwen Code's operations on `oauth_creds.lock`.
 * - `~/.qwen/settings.json` turns off Qwen Code's usage statistics (`privacy.usageStatisticsEnabled`),
 *   which would otherwise post to `*.rum.aliyuncs.com` (a Qwen host: the guard refuses it and the
 *   suite fails on any refusal to a Qwen host).
 *
 * Every ordinary scenario ends by checking: emulator `refreshRejected` 0, no credential file in
 * `~/.qwen` deleted while it ran, no `oauth_creds.lock` left.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"
import {
  check,
  digest,
  type EmulatorEvent,
  ensureDir,
  Failure,
  node22,
  qwenAuthCli,
  qwenCodeBin,
  type QwenCodeRelease,
  type QwenDirWatch,
  qwenPreloadPath,
  readJson,
  type RunResult,
  seconds,
  sha256,
  short,
  sleep,
  type Stats,
  tail,
  watchQwenDir,
  writeText
} from "./lib.ts"
import type { Scenario, Session } from "./suite.ts"

const REPLY = "qwen-emulator reply to: "
/** What Qwen's server puts in `resource_url`; Qwen Code calls `https://portal.qwen.ai/v1`. */
const API_HOST = "portal.qwen.ai"
const BASE_FLAGS = ["--resource-url", API_HOST] as const
/** The credential files in `~/.qwen` whose deletion fails an ordinary scenario. */
const CREDENTIAL_FILES = ["oauth_creds.json", "qwen-auth-credentials.json", "qwen-auth.json"] as const
/** The message 0.24.4 refuses Qwen OAuth with (validateAuthMethod, chunks/chunk-WH7PDTZL.js). */
const DISCONTINUED = "Qwen OAuth free tier was discontinued on 2026-04-15"

// =============================================================================
// A Qwen Code home
// =============================================================================

/** One line of the preload's log (interop/qwen-code-preload.cjs). */
interface QwenLogEntry {
  readonly ms: number
  readonly pid: number
  readonly event: "start" | "exit" | "rewrite" | "lock-create" | "lock-unlink" | "lock-rename-aside"
  readonly method?: string
  readonly from?: string
  readonly to?: string
  readonly result?: string
  readonly id?: string
  readonly holder?: string
  readonly via?: string
  readonly code?: number
}

interface Credentials {
  readonly access_token: string
  readonly refresh_token: string
  readonly token_type: string
  readonly expiry_date: number
  readonly resource_url?: string
}

export class QwenHome {
  readonly s: Session
  constructor(s: Session) {
    this.s = s
  }

  get dir() {
    return join(this.s.home, ".qwen")
  }
  get work() {
    return join(this.s.dir, "work")
  }
  get logFile() {
    return join(this.s.dir, "qwen-code.log")
  }
  get lockPath() {
    return join(this.dir, "oauth_creds.lock")
  }

  /** `~/.qwen` (0700, as qwen-auth creates it) with settings that keep usage statistics off. */
  prepare(settingsVersion = 3) {
    ensureDir(this.dir)
    writeText(join(this.dir, "settings.json"), `${JSON.stringify({ $version: settingsVersion, privacy: { usageStatisticsEnabled: false } }, null, 2)}\n`)
    ensureDir(this.work)
  }

  /** Qwen Code's environment: scrubbed (no qwen-auth or OpenClaw variables), preload, no relaunch. */
  env(release: QwenCodeRelease): Record<string, string> {
    const { QWEN_OAUTH_BASE_URL: _o, QWEN_AUTH_NO_BROWSER: _b, OPENCLAW_NO_RESPAWN: _r, ...base } = this.s.env(node22)
    return {
      ...base,
      NODE_OPTIONS: `--require=${qwenPreloadPath}`,
      QWEN_CODE_NO_RELAUNCH: "true",
      INTEROP_QWEN_REWRITE: JSON.stringify({ "https://chat.qwen.ai": this.s.emu.url, [`https://${API_HOST}`]: this.s.emu.url }),
      INTEROP_QWEN_LOG: this.logFile,
      INTEROP_QWEN_CODE_RELEASE: release
    }
  }

  /** `qwen -p PROMPT --auth-type qwen-oauth`, to completion; checks the emulator's reply unless `anyExit`. */
  async ask(release: QwenCodeRelease, prompt: string, options: { anyExit?: boolean; timeoutMs?: number } = {}) {
    const r = await this.s.step(`qwen ${release} -p ${prompt}`, [qwenCodeBin(release), "-p", prompt, "--auth-type", "qwen-oauth"], {
      env: this.env(release),
      cwd: this.work,
      timeoutMs: options.timeoutMs ?? 120_000,
      ...(options.anyExit ? { anyExit: true } : {})
    })
    if (!options.anyExit) this.checkReply(r, prompt)
    return r
  }

  /** The same, in the background. */
  spawnAsk(release: QwenCodeRelease, prompt: string, timeoutMs = 150_000) {
    return this.s.spawn(`qwen ${release} -p ${prompt}`, [qwenCodeBin(release), "-p", prompt, "--auth-type", "qwen-oauth"], {
      env: this.env(release),
      cwd: this.work,
      timeoutMs
    })
  }

  checkReply(r: RunResult & { log?: string }, prompt: string) {
    check(r.code === 0, `qwen -p ${JSON.stringify(prompt)} exited ${r.code ?? r.signal} (${r.log ?? ""})\nstdout:\n${tail(r.stdout)}\nstderr:\n${tail(r.stderr)}`)
    check(r.stdout.includes(`${REPLY}${prompt}`), `qwen -p ${JSON.stringify(prompt)} did not print the emulator's reply:\nstdout:\n${tail(r.stdout)}\nstderr:\n${tail(r.stderr)}`)
  }

  log(): Array<QwenLogEntry> {
    return existsSync(this.logFile)
      ? readFileSync(this.logFile, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as QwenLogEntry)
      : []
  }

  creds(): Credentials | undefined {
    const path = join(this.dir, "oauth_creds.json")
    return existsSync(path) ? readJson(path) : undefined
  }

  own(): Credentials | undefined {
    const path = join(this.dir, "qwen-auth-credentials.json")
    return existsSync(path) ? readJson(path) : undefined
  }

  watch(): QwenDirWatch {
    return watchQwenDir(this.dir, CREDENTIAL_FILES)
  }

  /** `qwen-auth token --json` in the background. */
  spawnToken(label = "qwen-auth token --json", timeoutMs = 150_000) {
    return this.s.spawn(label, [node22, qwenAuthCli, "token", "--json"], { timeoutMs })
  }

  /**
   * The checks every ordinary scenario ends with: `refreshRejected` 0, no credential file deleted
   * while `watch` ran, no lock left.
   */
  async ordinary(watch: QwenDirWatch) {
    watch.stop()
    const stats = await this.s.stats()
    check(stats.refreshRejected === 0, `emulator refreshRejected ${stats.refreshRejected}: a spent refresh token was presented`)
    check(watch.deletions().length === 0, `credential file(s) deleted: ${watch.deletions().map((d) => d.file).join(", ")}`)
    if (existsSync(this.lockPath)) {
      throw new Failure(`${relative(this.s.home, this.lockPath)} left behind (holder ${JSON.stringify(readFileSync(this.lockPath, "utf8"))})`)
    }
  }
}

// =============================================================================
// Small things
// =============================================================================

const isQwenCode = (e: EmulatorEvent) => e.client?.startsWith("qwen-code ") === true
const who = (e: EmulatorEvent) => (e.client === null ? "qwen-auth" : e.client)
const refreshes = (events: ReadonlyArray<EmulatorEvent>) => events.filter((e): e is Extract<EmulatorEvent, { kind: "refresh" }> => e.kind === "refresh")
const apiCalls = (events: ReadonlyArray<EmulatorEvent>) => events.filter((e): e is Extract<EmulatorEvent, { kind: "api" }> => e.kind === "api")
const tokenJson = (r: RunResult) => {
  try {
    return JSON.parse(r.stdout) as { accessToken: string; expiresAt: string; baseUrl: string }
  } catch {
    throw new Failure(`qwen-auth token --json printed no JSON (exit ${r.code}):\n${tail(r.stdout)}\n${tail(r.stderr)}`)
  }
}
const counters = (s: Stats) => `refreshRequests ${s.refreshRequests}, refreshGrants ${s.refreshGrants}, refreshRejected ${s.refreshRejected}, apiCalls ${s.apiCalls}, apiUnauthorized ${s.apiUnauthorized}, deviceGrants ${s.deviceGrants}`
const statDelta = (a: Stats, b: Stats) =>
  (["deviceGrants", "refreshRequests", "refreshGrants", "refreshRejected", "apiCalls", "apiUnauthorized"] as const)
    .map((k) => `${k} ${a[k]}→${b[k]}`)
    .join(", ")

/** Where the refresh token a refresh presented came from, in words. */
const origin = (e: Extract<EmulatorEvent, { kind: "refresh" }>, events: ReadonlyArray<EmulatorEvent>) => {
  const before = events.filter((x) => x.at <= e.at && x !== e)
  const spentBy = refreshes(before).find((x) => x.status === 200 && x.refreshToken === e.refreshToken)
  if (spentBy !== undefined) return `a refresh token ${who(spentBy)} had already rotated (spent at ${new Date(spentBy.at).toISOString().slice(11, 23)})`
  const login = before.find((x) => x.kind === "device-grant" && x.issuedRefresh === e.refreshToken)
  if (login !== undefined) return `the refresh token of ${who(login)}'s login`
  const refreshed = refreshes(before).find((x) => x.issuedRefresh === e.refreshToken)
  if (refreshed !== undefined) return `the refresh token ${who(refreshed)}'s refresh had issued`
  return "a refresh token the emulator never issued"
}

/** Whether the emulator's API accepts `token` (`GET /v1/models`, not counted against the quota). */
const live = async (s: Session, token: string) =>
  (await fetch(`${s.emu.url}/v1/models`, { headers: { authorization: `Bearer ${token}`, "x-emulator-client": "interop-suite probe" } })).status === 200

/** Waits until `test` holds (polling every 100 ms); false on timeout. */
const until = async (test: () => boolean | Promise<boolean>, timeoutMs: number) => {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await test()) return true
    await sleep(100)
  }
  return await test()
}

/** Several assertions evaluated together: all failures are reported, not only the first. */
class Checks {
  readonly failed: Array<string> = []
  expect(condition: unknown, message: string) {
    if (!condition) this.failed.push(message)
  }
  done(context = "") {
    if (this.failed.length > 0) throw new Failure(`${this.failed.length} assertion(s) failed:\n${this.failed.map((f) => `- ${f}`).join("\n")}${context === "" ? "" : `\n${context}`}`)
  }
}

/** Every file under `dir` (relative path → sha256, mtime, inode). */
const snapshot = (dir: string) => {
  const files = new Map<string, { sha: string; mtimeMs: number; ino: number }>()
  const walk = (d: string) => {
    if (!existsSync(d)) return
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.isFile()) {
        const st = statSync(p)
        files.set(relative(dir, p), { sha: sha256(readFileSync(p)), mtimeMs: st.mtimeMs, ino: st.ino })
      }
    }
  }
  walk(dir)
  return files
}

const lockStory = (q: QwenHome, since: number) =>
  q.log().filter((e) => e.ms >= since && e.event.startsWith("lock-")).map((e) =>
    `${seconds(e.ms - since)} pid ${e.pid} ${e.event}${e.via ? ` (${e.via})` : ""}: ${e.result}${e.holder !== undefined ? `, holder ${short(e.holder)}` : ""}${e.id !== undefined ? `, id ${short(e.id)}` : ""}`
  )

// =============================================================================
// Scenarios
// =============================================================================

const V12: QwenCodeRelease = "0.12.0"

const cliLoginThenQwen: Scenario = {
  name: "qwen-code-0.12.0/cli-login",
  title: "qwen-auth login → qwen -p hi --auth-type qwen-oauth answers with qwen-auth's token",
  emulatorFlags: BASE_FLAGS,
  run: async (s) => {
    const q = new QwenHome(s)
    q.prepare()
    const watch = q.watch()
    await s.cliLogin([])
    const creds = q.creds()
    check(creds !== undefined, "qwen-auth login wrote no ~/.qwen/oauth_creds.json")
    check(creds.access_token === s.ownCopy().access_token, "oauth_creds.json and qwen-auth's copy hold different tokens")
    check(creds.resource_url === API_HOST && creds.token_type === "Bearer", `oauth_creds.json: resource_url ${creds.resource_url}, token_type ${creds.token_type}`)
    const before = await s.stats()
    await q.ask(V12, "hi")
    const after = await s.stats()
    const events = await s.emu.events()
    const qwenApi = apiCalls(events).filter(isQwenCode)
    check(after.refreshRequests === 0 && after.deviceGrants === 1, `emulator: ${counters(after)}`)
    check(qwenApi.length > 0, "no API call from Qwen Code reached the emulator")
    check(qwenApi.every((e) => e.status === 200 && e.accessToken === digest(creds.access_token)), `Qwen Code's API calls: ${JSON.stringify(qwenApi)}`)
    const rewrites = q.log().filter((e) => e.event === "rewrite")
    check(rewrites.every((e) => e.from?.startsWith(`https://${API_HOST}/v1/`)), `Qwen Code called more than the API: ${rewrites.map((e) => e.from).join(", ")}`)
    s.note(`Qwen Code answered through ${API_HOST} → emulator (${qwenApi.length} API call(s), ${statDelta(before, after)}), with qwen-auth's token, no OAuth call of its own`)
    await q.ordinary(watch)
  }
}

const ownLoginAdopted: Scenario = {
  name: "qwen-code-0.12.0/own-login-adopted",
  title: "Qwen Code's own device login (qwen -p without credentials) → qwen-auth token prints that token, status --json ok",
  emulatorFlags: BASE_FLAGS,
  run: async (s) => {
    const q = new QwenHome(s)
    q.prepare()
    const watch = q.watch()
    // 0.12.0 under -p with no credentials runs its device flow without a terminal (the box on
    // stderr, polls every 2 s); the emulator approves at the first accepted poll.
    const r = await q.ask(V12, "hi")
    check(r.stderr.includes("Qwen OAuth Device Authorization") && r.stderr.includes(`${s.emu.url}/authorize?user_code=`), `no device authorization box on stderr:\n${tail(r.stderr)}`)
    const events = await s.emu.events()
    const grants = events.filter((e) => e.kind === "device-grant")
    check(grants.length === 1 && isQwenCode(grants[0]!), `device grants: ${JSON.stringify(grants)}`)
    const creds = q.creds()
    check(creds !== undefined, "Qwen Code's login wrote no ~/.qwen/oauth_creds.json")
    check(grants[0]!.kind === "device-grant" && grants[0]!.issuedAccess === digest(creds.access_token), "oauth_creds.json does not hold the token Qwen Code's login got")
    const mode = (statSync(join(q.dir, "oauth_creds.json")).mode & 0o777).toString(8)
    const before = await s.stats()
    const tok = tokenJson(await s.qwenAuth(["token", "--json"]))
    const after = await s.stats()
    check(tok.accessToken === creds.access_token, `qwen-auth token printed ${short(tok.accessToken)}, not Qwen Code's ${short(creds.access_token)}`)
    check(after.refreshRequests === before.refreshRequests && after.deviceGrants === before.deviceGrants, `qwen-auth token called the server: ${statDelta(before, after)}`)
    check(s.ownCopy().access_token === creds.access_token, "qwen-auth's copy does not hold the adopted token")
    const status = await s.qwenAuth(["status", "--json"])
    const json = JSON.parse(status.stdout)
    check(json.loggedIn === true && json.state === "fresh", `status --json: loggedIn ${json.loggedIn}, state ${json.state}`)
    s.note(`Qwen Code's login wrote oauth_creds.json mode ${mode}; qwen-auth token adopted it with no call (${statDelta(before, after)}); status: ${json.state}, source ${json.source}, problems ${JSON.stringify(json.problems)}; oauth_creds.json now mode ${(statSync(join(q.dir, "oauth_creds.json")).mode & 0o777).toString(8)}`)
    await q.ordinary(watch)
  }
}

const refreshAdoption: Scenario = {
  name: "qwen-code-0.12.0/refresh-adoption",
  title: "expired → qwen-auth token refreshes → qwen -p uses it, no refresh; expired → qwen -p refreshes → qwen-auth token adopts, no POST",
  // Logins expire after 2 s; refreshed tokens live 50 s (Qwen Code refreshes under 30 s left).
  emulatorFlags: [...BASE_FLAGS, "--login-access-ttl", "2", "--access-ttl", "50"],
  run: async (s) => {
    const q = new QwenHome(s)
    q.prepare()
    const watch = q.watch()
    const login = await s.cliLogin([])
    await s.untilExpired(Date.parse(login.expiresAt))
    // 1. qwen-auth refreshes, Qwen Code adopts.
    const b0 = await s.stats()
    const tok = tokenJson(await s.qwenAuth(["token", "--json"]))
    const b1 = await s.stats()
    check(b1.refreshGrants === b0.refreshGrants + 1, `qwen-auth token did not refresh: ${statDelta(b0, b1)}`)
    const first = refreshes(await s.emu.events()).at(-1)!
    check(first.client === null && first.issuedAccess === digest(tok.accessToken), `the refresh was not qwen-auth's: ${JSON.stringify(first)}`)
    check(q.creds()?.access_token === tok.accessToken, "qwen-auth's refresh did not reach oauth_creds.json")
    const mark = Date.now()
    await q.ask(V12, "after qwen-auth refreshed")
    const b2 = await s.stats()
    check(b2.refreshRequests === b1.refreshRequests, `Qwen Code refreshed although qwen-auth just had: ${statDelta(b1, b2)}`)
    const used = apiCalls(await s.emu.events()).filter((e) => isQwenCode(e) && e.at >= mark - 1000)
    check(used.length > 0 && used.every((e) => e.status === 200 && e.accessToken === digest(tok.accessToken)), `Qwen Code's API calls did not use qwen-auth's new token: ${JSON.stringify(used)}`)
    s.note(`1. qwen-auth refreshed (${statDelta(b0, b1)}); qwen -p used that token with no refresh of its own (${statDelta(b1, b2)})`)
    // 2. Qwen Code refreshes, qwen-auth adopts.
    await s.untilExpired(Date.parse(tok.expiresAt))
    await q.ask(V12, "after expiry")
    const b3 = await s.stats()
    check(b3.refreshGrants === b2.refreshGrants + 1, `qwen -p did not refresh the expired token: ${statDelta(b2, b3)}`)
    const second = refreshes(await s.emu.events()).at(-1)!
    check(isQwenCode(second) && second.status === 200, `the second refresh was not Qwen Code's: ${JSON.stringify(second)}`)
    const creds = q.creds()
    check(creds !== undefined && digest(creds.access_token) === second.issuedAccess, "oauth_creds.json does not hold Qwen Code's new token")
    const tok2 = tokenJson(await s.qwenAuth(["token", "--json"]))
    const b4 = await s.stats()
    check(b4.refreshRequests === b3.refreshRequests, `qwen-auth token POSTed although Qwen Code had refreshed: ${statDelta(b3, b4)}`)
    check(tok2.accessToken === creds.access_token, `qwen-auth token printed ${short(tok2.accessToken)}, not Qwen Code's ${short(creds.access_token)}`)
    check(s.ownCopy().access_token === creds.access_token, "qwen-auth's copy does not hold Qwen Code's new token")
    s.note(`2. qwen -p refreshed (${statDelta(b2, b3)}); qwen-auth token adopted it with no POST (${statDelta(b3, b4)})`)
    await q.ordinary(watch)
  }
}

const longSession: Scenario = {
  name: "qwen-code-0.12.0/long-session",
  title: "a running Qwen Code session (stream-json on stdin) picks up qwen-auth's refresh",
  emulatorFlags: [...BASE_FLAGS, "--access-ttl", "45"],
  run: async (s) => {
    const q = new QwenHome(s)
    q.prepare()
    const watch = q.watch()
    const login = await s.cliLogin([])
    const tokA = s.ownCopy().access_token
    // 0.12.0 keeps running non-interactively with --input-format stream-json: one user message
    // per stdin line, one "result" line per answer, until stdin ends.
    const session = s.spawn(
      "qwen 0.12.0 --input-format stream-json --output-format stream-json",
      [qwenCodeBin(V12), "--input-format", "stream-json", "--output-format", "stream-json", "--auth-type", "qwen-oauth"],
      { env: q.env(V12), cwd: q.work, keepStdin: true, timeoutMs: 240_000 }
    )
    const results = (out: string) => out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).filter((m) => m.type === "result")
    const say = async (text: string, n: number) => {
      session.write(`${JSON.stringify({ type: "user", message: { role: "user", content: text } })}\n`)
      const ok = await session.waitForStdout((out) => results(out).length >= n, 90_000)
      check(ok, `the session gave no result for ${JSON.stringify(text)}:\n${tail(session.stdout())}\n${tail(session.stderr())}`)
      const result = results(session.stdout())[n - 1]
      check(result.is_error === false && String(result.result).includes(`${REPLY}${text}`), `the session answered ${JSON.stringify(text)} with ${JSON.stringify(result).slice(0, 400)}`)
    }
    await say("first message", 1)
    const api1 = apiCalls(await s.emu.events()).filter(isQwenCode)
    check(api1.length > 0 && api1.every((e) => e.accessToken === digest(tokA)), `first answer: ${JSON.stringify(api1)}`)
    await s.untilExpired(Date.parse(login.expiresAt))
    const b0 = await s.stats()
    const tok = tokenJson(await s.qwenAuth(["token", "--json"]))
    const b1 = await s.stats()
    check(b1.refreshGrants === b0.refreshGrants + 1, `qwen-auth token did not refresh: ${statDelta(b0, b1)}`)
    const mark = Date.now()
    await say("second message", 2)
    const b2 = await s.stats()
    const api2 = apiCalls(await s.emu.events()).filter((e) => isQwenCode(e) && e.at >= mark - 1000)
    check(b2.refreshRequests === b1.refreshRequests, `the session refreshed by itself: ${statDelta(b1, b2)}`)
    check(api2.length > 0 && api2.every((e) => e.status === 200 && e.accessToken === digest(tok.accessToken)), `second answer did not use qwen-auth's new token: ${JSON.stringify(api2)}`)
    session.endInput()
    const end = await session.recorded
    check(end.code === 0, `the session exited ${end.code ?? end.signal} when its input ended`)
    s.note(`one process (pid ${session.pid}) answered with token A, then, after qwen-auth's refresh (${statDelta(b0, b1)}), with qwen-auth's token (${statDelta(b1, b2)}); exit ${end.code} on end of input`)
    await q.ordinary(watch)
  }
}

/**
 * When a process of a contention round starts: `ms` after the round starts, or after an event of
 * the round's Qwen Code processes (a Qwen Code process takes ~3-8 s to reach its token, depending
 * on the machine's load, so a fixed offset alone cannot make qwen-auth meet it at the lock):
 * - `qwen-lock`: a Qwen Code process has taken `oauth_creds.lock` (seen by the preload);
 * - `qwen-refresh`: a Qwen Code refresh is being held at the (1.5 s slow) token endpoint.
 */
type Start = { readonly ms: number; readonly after?: "qwen-lock" | "qwen-refresh" }
const at = (ms: number): Start => ({ ms })
const afterEvent = (after: "qwen-lock" | "qwen-refresh", ms: number): Start => ({ ms, after })

/** The 3 qwen-auth and 3 Qwen Code processes of each round and when they start. */
const CONTENTION_ROUNDS: ReadonlyArray<{ readonly name: string; readonly auth: ReadonlyArray<Start>; readonly qwen: ReadonlyArray<Start> }> = [
  { name: "all at once", auth: [at(0), at(0), at(0)], qwen: [at(0), at(0), at(0)] },
  {
    name: "Qwen Code first, qwen-auth 0/0.2/0.4 s after a Qwen Code process took the lock",
    auth: [afterEvent("qwen-lock", 0), afterEvent("qwen-lock", 200), afterEvent("qwen-lock", 400)],
    qwen: [at(0), at(300), at(600)]
  },
  { name: "qwen-auth first, Qwen Code 0.5/1/1.5 s later", auth: [at(0), at(100), at(200)], qwen: [at(500), at(1000), at(1500)] },
  { name: "interleaved every 0.8 s", auth: [at(800), at(2400), at(4000)], qwen: [at(0), at(1600), at(3200)] },
  {
    name: "one Qwen Code first, the other five while its refresh is at the server",
    auth: [afterEvent("qwen-refresh", 0), afterEvent("qwen-refresh", 0), afterEvent("qwen-refresh", 300)],
    qwen: [at(0), afterEvent("qwen-refresh", 0), afterEvent("qwen-refresh", 300)]
  }
]

const contention: Scenario = {
  name: "qwen-code-0.12.0/contention",
  title: `${CONTENTION_ROUNDS.length} rounds of 3 qwen-auth token + 3 qwen -p at once on an expired token`,
  // Each round starts from a new login (`qwen-auth login --force`) whose token lives 2 s, so the
  // round starts on an expired token without waiting; the round's refresh gives a 6 h token, so
  // no process of the round sees it inside its refresh margin. Refreshes take 1.5 s (a server's
  // latency), so the processes of a round meet at the lock.
  emulatorFlags: [...BASE_FLAGS, "--login-access-ttl", "2", "--refresh-delay", "1500"],
  timeoutMs: 8 * 60_000,
  run: async (s) => {
    const q = new QwenHome(s)
    q.prepare()
    let n = 0
    for (const round of CONTENTION_ROUNDS) {
      n++
      const login = JSON.parse((await s.qwenAuth(["login", "--force", "--no-browser", "--json"])).stdout) as { expiresAt: string }
      await s.untilExpired(Date.parse(login.expiresAt))
      const t0 = Date.now()
      const before = await s.stats()
      const seen = (await s.emu.events()).length
      const watch = q.watch()
      const launches = [
        ...round.auth.map((when, i) => ({ when, make: () => q.spawnToken(`round ${n} qwen-auth token --json #${i + 1}`) })),
        ...round.qwen.map((when, i) => ({ when, make: () => q.spawnAsk(V12, `round ${n} qwen ${i + 1}`) }))
      ]
      const reached = {
        "qwen-lock": () => q.log().some((e) => e.ms >= t0 && e.event === "lock-create" && e.result === "created"),
        "qwen-refresh": async () => (await s.stats()).refreshesHeld > before.refreshesHeld
      }
      const triggers: Array<string> = []
      const procs = await Promise.all(launches.map(async (l) => {
        if (l.when.after !== undefined) {
          const ok = await until(reached[l.when.after], 60_000)
          check(ok, `round ${n}: the trigger ${l.when.after} never happened`)
          triggers.push(`${l.when.after} at +${seconds(Date.now() - t0)}`)
        }
        await sleep(l.when.ms)
        return l.make()
      }))
      const done = await Promise.all(procs.map((p) => p.recorded))
      watch.stop()
      const after = await s.stats()
      const events = (await s.emu.events()).slice(seen)
      const c = new Checks()
      const grants = refreshes(events).filter((e) => e.status === 200)
      c.expect(after.refreshGrants - before.refreshGrants === 1, `refresh grants this round: ${after.refreshGrants - before.refreshGrants} (want exactly 1): ${refreshes(events).map((e) => `${who(e)} → ${e.status}`).join(", ")}`)
      c.expect(after.refreshRejected === 0, `refreshRejected ${after.refreshRejected}`)
      c.expect(watch.deletions().length === 0, `deleted: ${watch.deletions().map((d) => `${d.file} at +${seconds(d.at - t0)}`).join(", ")}`)
      c.expect(!existsSync(q.lockPath), "oauth_creds.lock left behind")
      const live = grants.at(-1)?.issuedAccess
      for (const [i, r] of done.entries()) {
        const p = procs[i]!
        c.expect(r.code === 0, `${p.label} exited ${r.code ?? r.signal}: ${tail(r.stderr, 6)}`)
        if (p.label.includes("qwen-auth")) {
          const printed = r.code === 0 ? digest(tokenJson(r).accessToken) : "none"
          c.expect(printed === live, `${p.label} printed token ${printed}, the round's live token is ${live}`)
        } else if (r.code === 0) {
          c.expect(r.stdout.includes(`${REPLY}round ${n} qwen`), `${p.label} printed no reply`)
        }
      }
      const qwenApi = apiCalls(events).filter(isQwenCode)
      c.expect(qwenApi.length >= 3 && qwenApi.every((e) => e.status === 200 && e.accessToken === live), `Qwen Code's API calls: ${qwenApi.map((e) => `${e.status} ${e.accessToken}`).join(", ")} (live ${live})`)
      const creds = q.creds()
      const own = q.own()
      c.expect(creds !== undefined && digest(creds.access_token) === live, `oauth_creds.json holds ${creds === undefined ? "nothing" : digest(creds.access_token)}, not ${live}`)
      c.expect(own !== undefined && digest(own.access_token) === live, `qwen-auth-credentials.json holds ${own === undefined ? "nothing" : digest(own.access_token)}, not ${live}`)
      const roundLog = q.log().filter((e) => e.ms >= t0)
      const waits = roundLog.filter((e) => e.event === "lock-create" && e.result === "EEXIST").length
      const qwenLocks = new Set(roundLog.filter((e) => e.event === "lock-create" && e.result === "created").map((e) => e.id))
      const holders = [...new Set(watch.lockHistory().map((h) => h.holder).filter((h): h is string => h !== null && h !== ""))]
      s.note(
        `round ${n} (${round.name}): ${seconds(Date.now() - t0)}; refreshed by ${grants.map(who).join(", ") || "nobody"}; ` +
          `POSTs ${after.refreshRequests - before.refreshRequests}, grants ${after.refreshGrants - before.refreshGrants}, rejected ${after.refreshRejected - before.refreshRejected}; ` +
          `lock taken ${holders.filter((h) => qwenLocks.has(h)).length}× by Qwen Code, ${holders.filter((h) => !qwenLocks.has(h)).length}× by qwen-auth; ` +
          `Qwen Code found it taken ${waits}×; Qwen Code API calls ${qwenApi.length}` +
          (triggers.length > 0 ? `; ${[...new Set(triggers.map((t) => t.replace(/ at .*/, "")))].map((k) => triggers.find((t) => t.startsWith(k))).join(", ")}` : "")
      )
      c.done(`round ${n} (${round.name})`)
    }
  }
}

const slowServer: Scenario = {
  name: "qwen-code-0.12.0/slow-refresh-live-lock",
  title: "refreshes answered after 15 s: qwen -p refreshes, qwen-auth token 1.5 s later must wait on Qwen Code's live lock and adopt its token",
  emulatorFlags: [...BASE_FLAGS, "--login-access-ttl", "2", "--refresh-delay", "15000"],
  timeoutMs: 4 * 60_000,
  run: async (s) => {
    const q = new QwenHome(s)
    q.prepare()
    const login = await s.cliLogin([])
    await s.untilExpired(Date.parse(login.expiresAt))
    const watch = q.watch()
    const t0 = Date.now()
    const qwen = q.spawnAsk(V12, "slow server")
    const held = await until(async () => (await s.stats()).refreshesHeld >= 1, 60_000)
    check(held, `Qwen Code's refresh never reached the emulator:\n${tail(qwen.stderr())}`)
    const heldAt = Date.now()
    await sleep(1500)
    const auth = q.spawnToken()
    const [rq, ra] = await Promise.all([qwen.recorded, auth.recorded])
    watch.stop()
    const stats = await s.stats()
    const events = await s.emu.events()
    const log = q.log().filter((e) => e.ms >= t0)
    const qwenLock = log.find((e) => e.event === "lock-create" && e.result === "created")
    const qwenRelease = log.find((e) => e.event === "lock-unlink" && e.via === "fs.promises.unlink")
    const qwenRefresh = refreshes(events).find(isQwenCode)
    const c = new Checks()
    c.expect(qwenLock !== undefined, "Qwen Code never took oauth_creds.lock")
    // Qwen Code's lock must stay its own from its creation until the server processed its refresh
    // ("" is the instant between the exclusive create and the write of the id).
    const end = qwenRefresh?.at ?? qwenRelease?.ms ?? Date.now()
    const during = watch.lockHistory().filter((h) => qwenLock !== undefined && h.at >= qwenLock.ms && h.at < end)
    const foreign = during.filter((h) => h.holder !== null && h.holder !== "" && h.holder !== qwenLock?.id)
    const vanished = during.filter((h) => h.holder === null)
    c.expect(foreign.length === 0 && vanished.length === 0,
      `Qwen Code's live lock was broken while its refresh was in flight: ${[...vanished.map((h) => `removed at +${seconds(h.at - t0)}`), ...foreign.map((h) => `taken by ${short(h.holder)} at +${seconds(h.at - t0)}`)].join(", ")}`)
    c.expect(watch.staleRenames().length === 0, `stale-lock takeovers (${watch.staleRenames().map((r) => `${r.name} at +${seconds(r.at - t0)}`).join(", ")})`)
    c.expect(qwenRelease === undefined || qwenRelease.holder === qwenLock?.id, `when Qwen Code released its lock the file held ${short(qwenRelease?.holder)}, not its own ${short(qwenLock?.id)}`)
    c.expect(stats.refreshRejected === 0, `refreshRejected ${stats.refreshRejected}`)
    c.expect(qwenRefresh?.status === 200, `Qwen Code's refresh: ${JSON.stringify(qwenRefresh)}`)
    c.expect(rq.code === 0 && rq.stdout.includes(`${REPLY}slow server`), `qwen -p exited ${rq.code ?? rq.signal}:\n${tail(rq.stdout, 5)}\n${tail(rq.stderr, 8)}`)
    c.expect(ra.code === 0, `qwen-auth token exited ${ra.code ?? ra.signal}:\n${tail(ra.stderr, 8)}`)
    const printed = ra.code === 0 ? digest(tokenJson(ra).accessToken) : undefined
    c.expect(printed !== undefined && printed === qwenRefresh?.issuedAccess, `qwen-auth token printed ${printed}, Qwen Code's new token is ${qwenRefresh?.issuedAccess}`)
    c.expect(watch.deletions().length === 0, `deleted: ${watch.deletions().map((d) => `${d.file} at +${seconds(d.at - t0)}`).join(", ")}`)
    c.expect(!existsSync(q.lockPath), "oauth_creds.lock left behind")
    const story = [
      `Qwen Code's refresh held from +${seconds(heldAt - t0)}; qwen-auth started at +${seconds(auth.startedAt - t0)}`,
      ...refreshes(events).map((e) => `refresh by ${who(e)} at +${seconds(e.at - t0)} → ${e.status}`),
      ...lockStory(q, t0),
      `lock holders seen: ${watch.lockHistory().filter((h) => h.holder !== "").map((h) => `${h.holder === null ? "none" : short(h.holder)}@+${seconds(Math.max(0, h.at - t0))}`).join(" ")}`,
      `emulator: ${counters(stats)}, refreshesHeld ${stats.refreshesHeld}`,
      `qwen-auth stderr: ${ra.stderr.trim().split("\n").slice(-3).join(" | ") || "(empty)"}`
    ]
    for (const line of story) s.note(line)
    c.done()
  }
}

const interruptedPeer: Scenario = {
  name: "qwen-code-0.12.0/interrupted-peer",
  title: "qwen-auth token mid-refresh holds the lock; qwen -p waiting on it gets SIGINT (its handler deletes the lock): qwen-auth loses nothing",
  // 8 s: slow, but under qwen-auth's own 10 s refresh timeout, so its refresh completes.
  emulatorFlags: [...BASE_FLAGS, "--login-access-ttl", "2", "--refresh-delay", "8000"],
  timeoutMs: 4 * 60_000,
  run: async (s) => {
    const q = new QwenHome(s)
    q.prepare()
    const login = await s.cliLogin([])
    await s.untilExpired(Date.parse(login.expiresAt))
    const watch = q.watch()
    const t0 = Date.now()
    const auth = q.spawnToken()
    const held = await until(async () => (await s.stats()).refreshesHeld >= 1 && existsSync(q.lockPath), 30_000)
    check(held, `qwen-auth's refresh never reached the emulator under the lock:\n${tail(auth.stderr())}`)
    const authLock = readFileSync(q.lockPath, "utf8")
    const qwen = q.spawnAsk(V12, "interrupted")
    const waiting = await until(() => q.log().some((e) => e.ms >= t0 && e.event === "lock-create" && e.result === "EEXIST"), 20_000)
    check(waiting, `Qwen Code never found qwen-auth's lock taken:\n${tail(qwen.stderr())}`)
    const sigintAt = Date.now()
    qwen.signal("SIGINT")
    const ra = await auth.recorded
    const rq = await qwen.recorded
    watch.stop()
    const stats = await s.stats()
    const events = await s.emu.events()
    const log = q.log().filter((e) => e.ms >= t0)
    const unlinks = log.filter((e) => e.event === "lock-unlink" && e.result === "removed")
    const qwenRefreshes = refreshes(events).filter(isQwenCode)
    const own = q.own()
    // What happened, recorded whatever the outcome.
    for (
      const line of [
        `qwen-auth's lock ${short(authLock)} held, its refresh at the emulator; SIGINT to qwen -p (pid ${qwen.pid}) at +${seconds(sigintAt - t0)}`,
        `qwen -p ended ${rq.code !== null ? `with exit ${rq.code}` : `by ${rq.signal}`} ${seconds(rq.ms - (sigintAt - qwen.startedAt))} after SIGINT`,
        ...unlinks.map((e) => `Qwen Code (pid ${e.pid}) unlinked oauth_creds.lock via ${e.via} at +${seconds(e.ms - t0)}; it held ${e.holder === authLock ? "qwen-auth's id" : short(e.holder)}`),
        ...refreshes(events).map((e) => `refresh by ${who(e)} at +${seconds(e.at - t0)} → ${e.status}`),
        `credential files deleted: ${watch.deletions().map((d) => `${d.file} at +${seconds(d.at - t0)}`).join(", ") || "none"}; lock left: ${existsSync(q.lockPath)}`,
        `emulator: ${counters(stats)}, liveRefreshTokens ${stats.liveRefreshTokens}`,
        `qwen-auth token exit ${ra.code}; stderr: ${ra.stderr.trim().split("\n").slice(-3).join(" | ") || "(empty)"}`
      ]
    ) s.note(line)
    const qwenLogins = events.filter((e) => e.kind === "device-grant" && isQwenCode(e))
    if (qwenLogins.length > 0) {
      s.note(`Qwen Code then ran a new device login by itself (${qwenLogins.length}; the emulator approves every device code, a real user would have to approve it in a browser; its access token, like every login's in this scenario, lived 2 s) and wrote the new chain to oauth_creds.json`)
    }
    s.note(`qwen -p ${rq.stdout.includes(`${REPLY}interrupted`) ? "still answered its prompt" : "printed no answer"} after SIGINT`)
    for (const e of qwenRefreshes) s.note(`Qwen Code's refresh at +${seconds(e.at - t0)} → ${e.status}: it presented ${origin(e, events)}`)
    const c = new Checks()
    c.expect(ra.code === 0, `qwen-auth token exited ${ra.code ?? ra.signal} (4 = "log in again")`)
    c.expect(!/log in again/i.test(ra.stdout + ra.stderr), `qwen-auth token said "log in again":\n${tail(ra.stderr, 6)}`)
    // The live chain: the refresh token of the last granted refresh that no later grant consumed.
    const grants = refreshes(events).filter((e) => e.status === 200)
    const spent = new Set(grants.map((e) => e.refreshToken))
    const liveChain = grants.filter((e) => !spent.has(e.issuedRefresh)).map((e) => e.issuedRefresh)
    c.expect(own !== undefined, "qwen-auth-credentials.json is gone")
    if (own !== undefined) {
      c.expect(liveChain.includes(digest(own.refresh_token)), `qwen-auth-credentials.json holds refresh token ${digest(own.refresh_token)}, the live one is ${liveChain.join(", ") || "none"}`)
      c.expect(grants.some((e) => e.issuedAccess === digest(own.access_token)) && own.expiry_date > Date.now(), `qwen-auth-credentials.json holds access token ${digest(own.access_token)}, not a live one`)
      if (ra.code === 0) c.expect(tokenJson(ra).accessToken === own.access_token, "qwen-auth token printed another token than its own copy holds")
    }
    if (own !== undefined) c.expect(await live(s, own.access_token), "the access token in qwen-auth-credentials.json is refused by the API")
    c.done(`(details in the notes above; logs ${relative(s.home, s.logs)})`)
    // Afterwards qwen-auth still works from what it kept.
    const again = await s.qwenAuth(["token", "--json"], { anyExit: true })
    check(again.code === 0 && !/log in again/i.test(again.stderr), `qwen-auth token afterwards exited ${again.code}:\n${tail(again.stderr, 6)}`)
    const next = tokenJson(again).accessToken
    check(await live(s, next), "qwen-auth token afterwards printed a token the API refuses")
    s.note(`qwen-auth token afterwards: exit 0, a live token (${next === own!.access_token ? "the one it kept" : "Qwen Code's new login, adopted"})`)
  }
}

const refusesQwenOAuth: Scenario = {
  name: "qwen-code-0.24.4/refuses-qwen-oauth",
  title: `0.24.4 refuses --auth-type qwen-oauth at start-up ("${DISCONTINUED}"), touches no credential file, no lock, no server`,
  emulatorFlags: BASE_FLAGS,
  run: async (s) => {
    const q = new QwenHome(s)
    q.prepare(4)
    await s.cliLogin([])
    const before = snapshot(q.dir)
    const stats0 = await s.stats()
    const events0 = (await s.emu.events()).length
    const watch = q.watch()
    const r = await q.ask("0.24.4", "hi", { anyExit: true })
    watch.stop()
    const after = snapshot(q.dir)
    const stats1 = await s.stats()
    const c = new Checks()
    c.expect(r.code !== 0, `qwen 0.24.4 -p exited 0:\n${tail(r.stdout)}`)
    c.expect(r.stderr.includes(DISCONTINUED), `no "${DISCONTINUED}" on stderr:\n${tail(r.stderr)}`)
    c.expect(!r.stdout.includes(REPLY), "0.24.4 answered through the emulator")
    const changed = [...before].filter(([path, b]) => {
      const a = after.get(path)
      return a === undefined || a.sha !== b.sha || a.mtimeMs !== b.mtimeMs || a.ino !== b.ino
    }).map(([path]) => `${path}${after.has(path) ? "" : " (deleted)"}`)
    c.expect(changed.length === 0, `files that were in ~/.qwen before changed: ${changed.join(", ")}`)
    c.expect(watch.lockHistory().every((h) => h.holder === null) && !existsSync(q.lockPath), `oauth_creds.lock appeared: ${JSON.stringify(watch.lockHistory())}`)
    c.expect(JSON.stringify(stats1) === JSON.stringify(stats0), `emulator counters changed: ${statDelta(stats0, stats1)}`)
    c.expect((await s.emu.events()).length === events0, "the emulator saw requests")
    c.expect(q.log().every((e) => e.event !== "rewrite"), `Qwen Code called out: ${q.log().filter((e) => e.event === "rewrite").map((e) => e.from).join(", ")}`)
    const created = [...after.keys()].filter((p) => !before.has(p))
    const message = r.stderr.split("\n").filter((l) => l.includes("discontinued"))
    s.note(`exit ${r.code}; stderr: ${message.map((l) => JSON.stringify(l.trim())).join(" / ")}`)
    s.note(`files 0.24.4 created under ~/.qwen (its own bookkeeping): ${created.join(", ") || "none"}`)
    c.done()
  }
}

/** In the order they run. */
export const qwenCodeScenarios: ReadonlyArray<Scenario> = [
  cliLoginThenQwen,
  ownLoginAdopted,
  refreshAdoption,
  longSession,
  contention,
  slowServer,
  interruptedPeer,
  refusesQwenOAuth
]
