/**
 * The interop scenarios: the real OpenClaw 2026.3.24 and 2026.9.6 and the real Qwen Code 0.12.0
 * and 0.24.4 (interop/qwen-code.ts) with the packed qwen-auth, against the emulator, each scenario
 * in a throwaway home with its own emulator. Started by
 * `scripts/interop.ts` (`npm run test:interop`) after the installs, inside a loopback-only network
 * namespace where the machine allows it; every Node process here also loads `interop/guard.cjs`.
 *
 * No scenario is ever skipped: one that cannot run fails, and so does the suite.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, relative } from "node:path"
import { pathToFileURL } from "node:url"
import {
  authProfilesPath,
  check,
  describeRefusal,
  type Emulator,
  ensureDir,
  Failure,
  fileSha,
  guardPath,
  isQwenHost,
  jsonFromFirstBrace,
  killAllStarted,
  node22,
  node24,
  pkgRoot,
  type PtyResult,
  qwenAuthCli,
  readJson,
  readRefusals,
  type Refusal,
  type Release,
  type ReleaseInfo,
  releaseInfo,
  repoRoot,
  run,
  runDir,
  runPty,
  type RunResult,
  seconds,
  short,
  sleep,
  sqliteProfile,
  start,
  type Started,
  startEmulator,
  tail,
  writeText
} from "./lib.ts"
import { daemonScenarios } from "./daemon.ts"
import { qwenCodeScenarios } from "./qwen-code.ts"

// node:sqlite (read-only peeks at 2026.9.6's store) warns once that it is experimental.
process.removeAllListeners("warning")
process.on("warning", (w) => {
  if (!(w.name === "ExperimentalWarning" && /SQLite/i.test(w.message))) console.error(`${w.name}: ${w.message}`)
})

const MODE = process.env.INTEROP_MODE ?? "preload-only"
const SCENARIO_TIMEOUT_MS = 6 * 60_000
const REPLY = "qwen-emulator reply to"

/** qwen-auth's own stderr carries no Node deprecation warning (on Node 24 every command printed DEP0176 once). */
const noNodeWarnings = (label: string, r: { readonly stderr: string; readonly log: string }) =>
  check(!/DeprecationWarning/.test(r.stderr), `\`${label}\` printed a Node deprecation warning (${r.log}.*)\n${tail(r.stderr)}`)

// =============================================================================
// One scenario's session
// =============================================================================

export class Session {
  readonly dir: string
  readonly home: string
  readonly logs: string
  readonly guardLog: string
  readonly notes: Array<string> = []
  /** Refusals to Qwen hosts that are a scenario's expected outcome (every other one fails it). */
  readonly expectedRefusals: Array<{ readonly test: (r: Refusal) => boolean; readonly why: string }> = []
  emu!: Emulator
  private steps = 0

  readonly name: string
  readonly r: ReleaseInfo | undefined

  constructor(name: string, r: ReleaseInfo | undefined) {
    this.name = name
    this.r = r
    this.dir = join(runDir, name)
    rmSync(this.dir, { recursive: true, force: true })
    this.home = ensureDir(join(this.dir, "home"))
    this.logs = ensureDir(join(this.dir, "logs"))
    ensureDir(join(this.dir, "tmp"))
    this.guardLog = join(this.dir, "guard.log")
  }

  get rel(): ReleaseInfo {
    check(this.r !== undefined, "this scenario has no OpenClaw release")
    return this.r
  }

  /** The environment of every program of this scenario: built from scratch, guard preloaded. */
  env(node: string = this.r?.node ?? node22, extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: `${dirname(node)}:/usr/local/bin:/usr/bin:/bin`,
      HOME: this.home,
      LANG: "C",
      TZ: "UTC",
      TMPDIR: join(this.dir, "tmp"),
      NODE_OPTIONS: `--require=${guardPath}`,
      INTEROP_GUARD_LOG: this.guardLog,
      ...(this.emu !== undefined ? { QWEN_OAUTH_BASE_URL: this.emu.url } : {}),
      QWEN_AUTH_NO_BROWSER: "1",
      OPENCLAW_NO_RESPAWN: "1",
      ...extra
    }
  }

  note(text: string) {
    this.notes.push(text)
    console.log(`      · ${text}`)
  }

  private record(label: string, result: RunResult) {
    const n = String(++this.steps).padStart(2, "0")
    const base = join(this.logs, `${n}-${label.replace(/[^\w.-]+/g, "_").slice(0, 60)}`)
    writeText(`${base}.out`, result.stdout)
    writeText(`${base}.err`, result.stderr)
    const how = result.timedOut ? `TIMED OUT after ${seconds(result.ms)}` : `exit ${result.code ?? result.signal}  ${seconds(result.ms)}`
    console.log(`    $ ${label}  → ${how}`)
    return relative(repoRoot, base)
  }

  /** Runs a program; fails the scenario on a timeout or (unless `anyExit`) a non-zero exit. */
  async step(
    label: string,
    argv: ReadonlyArray<string>,
    options: { timeoutMs?: number; env?: Record<string, string>; anyExit?: boolean; cwd?: string } = {}
  ): Promise<RunResult & { log: string }> {
    const result = await run(argv, { env: options.env ?? this.env(), cwd: options.cwd ?? this.home, timeoutMs: options.timeoutMs ?? 120_000 })
    const log = this.record(label, result)
    check(!result.timedOut, `\`${label}\` did not finish within ${seconds(options.timeoutMs ?? 120_000)} (${log}.*)\n${tail(result.stderr)}`)
    if (!options.anyExit) {
      check(result.code === 0, `\`${label}\` exited ${result.code ?? result.signal} (${log}.*)\nstdout:\n${tail(result.stdout)}\nstderr:\n${tail(result.stderr)}`)
    }
    return { ...result, log }
  }

  /** qwen-auth on the Node of this scenario's OpenClaw release (Node 22 without one). */
  async qwenAuth(args: ReadonlyArray<string>, options: { anyExit?: boolean; timeoutMs?: number } = {}) {
    const result = await this.step(`qwen-auth ${args.join(" ")}`, [this.r?.node ?? node22, qwenAuthCli, ...args], options)
    noNodeWarnings(`qwen-auth ${args.join(" ")}`, result)
    return result
  }

  /**
   * Starts a program in the background; its output is recorded under logs/ when it ends (numbered
   * in the order they end). `recorded` fails the scenario on a timeout, never on its exit code.
   */
  spawn(
    label: string,
    argv: ReadonlyArray<string>,
    options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number; keepStdin?: boolean } = {}
  ): Started & { readonly label: string; readonly recorded: Promise<RunResult & { log: string }> } {
    const timeoutMs = options.timeoutMs ?? 120_000
    const started = start(argv, { env: options.env ?? this.env(), cwd: options.cwd ?? this.home, timeoutMs, ...(options.keepStdin ? { keepStdin: true } : {}) })
    const recorded = started.done.then((result) => {
      const log = this.record(label, result)
      check(!result.timedOut, `\`${label}\` did not finish within ${seconds(timeoutMs)} (${log}.*)\n${tail(result.stderr)}`)
      return { ...result, log }
    })
    recorded.catch(() => {})
    return { ...started, label, recorded }
  }

  openclaw(args: ReadonlyArray<string>, options: { anyExit?: boolean; timeoutMs?: number } = {}) {
    return this.step(`openclaw ${args.join(" ")}`, [this.rel.bin, ...args], options)
  }

  async pty(args: ReadonlyArray<string>, timeoutMs = 180_000): Promise<PtyResult> {
    const label = `openclaw ${args.join(" ")} (pty)`
    const result = await runPty([this.rel.bin, ...args], { env: this.env(), cwd: this.home, timeoutMs })
    const log = this.record(label, { ...result, stdout: result.transcript })
    for (const a of result.answers) this.note(`answered "${a.question}" with ${a.key}`)
    check(!result.timedOut, `\`${label}\` did not finish within ${seconds(timeoutMs)} (${log}.*)\n${tail(result.transcript)}`)
    check(result.exitCode === 0, `\`${label}\` exited ${result.exitCode ?? "without its exit line"} (${log}.out)\n${tail(result.transcript)}`)
    return result
  }

  stats() {
    return this.emu.stats()
  }

  refusals(): Array<Refusal> {
    return readRefusals(this.guardLog)
  }

  // --- flows shared by scenarios ---------------------------------------------------------------

  /**
   * An OpenClaw 2026.9.6 home as a user has it once OpenClaw ran: a config and its SQLite state
   * database (`plugins list` with a config present creates it).
   */
  async initOpenClaw9() {
    writeText(join(this.home, ".openclaw/openclaw.json"), "{}\n")
    const list = await this.pluginsList()
    check(existsSync(this.stateDb), `OpenClaw 2026.9.6 created no ${this.stateDb}`)
    return list
  }

  get stateDb() {
    return join(this.home, ".openclaw/state/openclaw.sqlite")
  }

  get agentDb() {
    return join(this.home, ".openclaw/agents/main/agent/openclaw-agent.sqlite")
  }

  /** qwen-auth's own copy of the credentials (`~/.qwen/qwen-auth-credentials.json`). */
  ownCopy(): { access_token: string; refresh_token: string; expiry_date: number } {
    return readJson(join(this.home, ".qwen/qwen-auth-credentials.json"))
  }

  async cliLogin(extra: ReadonlyArray<string> = ["--set-default"]) {
    const r = await this.qwenAuth(["login", "--no-browser", "--json", ...extra])
    const json = JSON.parse(r.stdout)
    check(json.loggedIn === true, `login --json said ${r.stdout}`)
    this.note(`qwen-auth login: reused ${json.reused}, wrote ${json.wrote.map((p: string) => relative(this.home, p)).join(", ")}`)
    return json as { loggedIn: boolean; reused: boolean; expiresAt: string; wrote: Array<string> }
  }

  async setupOpenclaw() {
    const r = await this.qwenAuth(["setup-openclaw", "--openclaw-bin", this.rel.bin, "--json"], { timeoutMs: 300_000 })
    const json = JSON.parse(r.stdout)
    check(json.pluginLoaded === true, `setup-openclaw --json said ${r.stdout}`)
    this.note(`setup-openclaw: method ${json.method}, ${json.changed.length} change(s), ${json.warnings.length} warning(s)`)
    return json as { openclawVersion: string; method: string; changed: Array<string>; pluginLoaded: boolean; warnings: Array<string> }
  }

  /** `qwen-auth doctor --json` with this release as OpenClaw; its checks by id. */
  async doctor() {
    const r = await this.step("qwen-auth doctor --json", [this.r?.node ?? node22, qwenAuthCli, "doctor", "--json"], {
      env: this.env(undefined, { OPENCLAW_BIN: this.rel.bin }),
      anyExit: true,
      timeoutMs: 300_000
    })
    noNodeWarnings("qwen-auth doctor --json", r)
    const json = JSON.parse(r.stdout)
    check(Array.isArray(json.checks), `doctor --json printed ${r.stdout.slice(0, 400)}`)
    return Object.fromEntries(json.checks.map((c: any) => [c.id, c])) as Record<string, { status: string; cause?: string; detail: string; next?: string }>
  }

  async modelsStatus() {
    const r = await this.openclaw(["models", "status", "--json"])
    const { before, json } = jsonFromFirstBrace(r.stdout)
    check(json.ok !== false, `models status --json reported a failure: ${JSON.stringify(json.error ?? json).slice(0, 600)}`)
    check(json.auth !== undefined, `models status --json has no "auth": ${r.stdout.slice(0, 400)}`)
    if (before.length > 0) this.note(`models status printed ${before.length} line(s) before its JSON: ${JSON.stringify(before[0]!.replace(/\u001b\[[0-9;]*m/g, ""))}`)
    return json
  }

  async pluginsList() {
    const r = await this.openclaw(["plugins", "list", "--json"])
    return jsonFromFirstBrace(r.stdout).json as { plugins: Array<any> }
  }

  async agent(options: { anyExit?: boolean } = {}) {
    return this.openclaw(["agent", "--local", "--message", "hi", "--agent", "main"], { timeoutMs: 240_000, ...options })
  }

  /** `qwen-portal:default` in OpenClaw's profile list of `models status --json`. */
  profileOf(status: any) {
    return (status.auth?.oauth?.profiles ?? []).find((p: any) => p.profileId === "qwen-portal:default")
  }

  /** Every `auth-profiles.json` anywhere under `~/.openclaw`. */
  legacyFiles(): Array<string> {
    const found: Array<string> = []
    const walk = (d: string) => {
      if (!existsSync(d)) return
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name)
        if (e.isDirectory()) walk(p)
        else if (e.name === "auth-profiles.json") found.push(p)
      }
    }
    walk(join(this.home, ".openclaw"))
    return found
  }

  async untilExpired(expiresAtMs: number) {
    const wait = expiresAtMs + 1000 - Date.now()
    if (wait > 0) {
      this.note(`waiting ${seconds(wait)} for the access token to expire`)
      await sleep(wait)
    }
  }
}

// =============================================================================
// Scenarios
// =============================================================================

export interface Scenario {
  readonly name: string
  readonly release?: Release
  readonly title: string
  readonly emulatorFlags?: ReadonlyArray<string>
  readonly guardSelfCheck?: boolean
  /** Default: SCENARIO_TIMEOUT_MS. */
  readonly timeoutMs?: number
  readonly run: (s: Session) => Promise<void>
}

const scenarios: Array<Scenario> = []
const both = (make: (release: Release) => Scenario) => ["2026.3.24", "2026.9.6"].forEach((r) => scenarios.push(make(r as Release)))

// --- isolation ------------------------------------------------------------------------------------

const GUARDED_ATTEMPTS = ["fetchQwen", "netConnect", "netNamedConnect", "socketConnect", "httpsGet", "dnsLookup", "dnsResolve", "udp", "worker"]

scenarios.push({
  name: "isolation",
  title: `nothing leaves 127.0.0.1 (${MODE === "netns" ? "network namespace + guard" : "guard only"}), Node 22 and 24`,
  guardSelfCheck: true,
  run: async (s) => {
    for (const node of [node22, node24]) {
      const before = s.refusals().length
      const r = await s.step(`node ${node === node22 ? "22" : "24"} guard-check.mjs (guarded)`, [node, join(repoRoot, "interop/guard-check.mjs")], {
        env: s.env(node)
      })
      const { node: version, attempts } = JSON.parse(r.stdout)
      for (const a of GUARDED_ATTEMPTS) check(/^error /.test(attempts[a]), `${version}: ${a} got "${attempts[a]}" with the guard loaded`)
      check(attempts.loopbackFetch === "ok" && attempts.localhostFetch === "ok", `${version}: loopback broken by the guard: ${JSON.stringify(attempts)}`)
      const logged = s.refusals().slice(before)
      check(logged.length >= GUARDED_ATTEMPTS.length, `${version}: the guard logged ${logged.length} refusals for ${GUARDED_ATTEMPTS.length} attempts`)
      check(logged.some((l) => l.host === "192.0.2.2"), `${version}: the worker thread's connection was not refused by the guard`)
      s.note(`${version}: guard refused all ${GUARDED_ATTEMPTS.length} ways out (worker thread included), loopback works`)
      if (MODE === "netns") {
        const bare = await s.step(`node ${node === node22 ? "22" : "24"} guard-check.mjs (no guard)`, [node, join(repoRoot, "interop/guard-check.mjs")], {
          env: { ...s.env(node), NODE_OPTIONS: "" },
          timeoutMs: 180_000
        })
        const open = JSON.parse(bare.stdout).attempts
        for (const a of GUARDED_ATTEMPTS) check(/^error |^timeout$/.test(open[a]), `${version}: inside the namespace, without the guard, ${a} got "${open[a]}"`)
        s.note(`${version}: without the guard the namespace alone also stops every way out (${[...new Set(GUARDED_ATTEMPTS.map((a) => open[a]))].join(", ")})`)
      }
    }
  }
})

// --- the plugin bundle under both Nodes ---------------------------------------------------------

scenarios.push({
  name: "bundle-import",
  title: "plugin bundle imported under Node 22 and Node 24 (package outside any node_modules chain)",
  run: async (s) => {
    // A copy where walking up finds no node_modules: the bundles must need nothing but node:*.
    const outside = mkdtempSync(join(tmpdir(), "qwen-interop-pkg-"))
    try {
      const copy = join(outside, "qwen-portal-auth")
      cpSync(pkgRoot, copy, { recursive: true })
      const probe = `
        const entry = await import(${JSON.stringify(pathToFileURL(join(copy, "dist/openclaw-plugin.js")).href)});
        const plugin = entry.default;
        const providers = [];
        plugin.register({ registerProvider: (p) => providers.push(p), registerService: () => {} });
        const runtime = await import(${JSON.stringify(pathToFileURL(join(copy, "dist/openclaw-plugin/runtime.js")).href)});
        const p = providers[0];
        console.log(JSON.stringify({ node: process.version, id: plugin.id, providers: providers.map((x) => x.id),
          auth: p?.auth?.map((a) => a.kind), refresh: typeof p?.refreshOAuth, catalog: typeof p?.catalog?.run,
          makeRuntime: typeof runtime.makeRuntime }));`
      for (const node of [node22, node24]) {
        const r = await s.step(`node ${node === node22 ? "22" : "24"} import dist/openclaw-plugin.js`, [node, "--input-type=module", "-e", probe], {
          env: s.env(node)
        })
        const j = JSON.parse(r.stdout.trim().split("\n").pop()!)
        check(j.id === "qwen-portal-auth" && j.providers.join() === "qwen-portal", `${j.node}: ${r.stdout}`)
        check(j.auth?.join() === "device_code" && j.refresh === "function" && j.catalog === "function", `${j.node}: ${r.stdout}`)
        check(j.makeRuntime === "function", `${j.node}: runtime.js exports no makeRuntime: ${r.stdout}`)
        check(!/Warning/.test(r.stderr), `${j.node}: importing the bundle printed a warning:\n${tail(r.stderr)}`)
        const v = await s.step(`node ${node === node22 ? "22" : "24"} cli.js --version`, [node, join(copy, "dist/cli.js"), "--version"], { env: s.env(node) })
        s.note(`${j.node}: plugin ${j.id} registers provider ${j.providers}, runtime loads; qwen-auth --version ${v.stdout.trim()}`)
      }
    } finally {
      rmSync(outside, { recursive: true, force: true })
    }
  }
})

// --- CLI login --------------------------------------------------------------------------------------

both((release) => ({
  name: `${release}/cli-login`,
  release,
  title: release === "2026.3.24" ? "CLI login → models status ok" : "CLI login → OpenClaw untouched and still working",
  run: async (s) => {
    if (release === "2026.3.24") {
      await s.cliLogin()
      check((await s.stats()).deviceGrants === 1, "the login took no device grant")
      const status = await s.modelsStatus()
      const profile = s.profileOf(status)
      check(profile?.status === "ok", `qwen-portal:default is ${JSON.stringify(profile)} in models status`)
      check(status.defaultModel === "qwen-portal/coder-model", `default model ${status.defaultModel}`)
      const stored = readJson(authProfilesPath(s.home)).profiles["qwen-portal:default"]
      check(stored?.access === s.ownCopy().access_token, "auth-profiles.json does not hold qwen-auth's token")
      s.note(`models status: qwen-portal:default ${profile.status}, default ${status.defaultModel}`)
    } else {
      await s.initOpenClaw9()
      const before = { state: fileSha(s.stateDb), agent: fileSha(s.agentDb) }
      const login = await s.cliLogin()
      check(s.legacyFiles().length === 0, `legacy file(s) written: ${s.legacyFiles().join(", ")}`)
      check(fileSha(s.stateDb) === before.state && fileSha(s.agentDb) === before.agent, "qwen-auth changed OpenClaw's SQLite databases")
      const intoStore = login.wrote.filter((p) => /\.sqlite|auth-profiles\.json|\/state\//.test(p))
      check(intoStore.length === 0, `qwen-auth wrote into OpenClaw's store: ${intoStore.join(", ")}`)
      const status = await s.modelsStatus()
      check(s.profileOf(status) === undefined, `OpenClaw has a qwen-portal profile it did not make: ${JSON.stringify(s.profileOf(status))}`)
      check(status.defaultModel === "qwen-portal/coder-model", `default model ${status.defaultModel}`)
      check(fileSha(s.stateDb) === before.state, "state/openclaw.sqlite changed")
      s.note(`SQLite store unchanged, no auth-profiles.json; models status ok (store ${relative(s.home, status.auth.storePath)}, default ${status.defaultModel})`)
    }
  }
}))

// --- CLI refresh -------------------------------------------------------------------------------------

both((release) => ({
  name: `${release}/cli-refresh`,
  release,
  title: release === "2026.3.24" ? "CLI refresh → still ok" : "CLI refresh → still ok, no legacy file",
  emulatorFlags: ["--access-ttl", "6"],
  run: async (s) => {
    if (release === "2026.9.6") await s.initOpenClaw9()
    const sqliteBefore = fileSha(s.stateDb)
    const login = await s.cliLogin()
    const first = s.ownCopy().access_token
    await s.untilExpired(Date.parse(login.expiresAt))
    const tok = JSON.parse((await s.qwenAuth(["token", "--json"])).stdout)
    const stats = await s.stats()
    check(tok.accessToken !== first, "qwen-auth token printed the expired token")
    check(stats.refreshGrants === 1 && stats.refreshRejected === 0, `emulator: refreshGrants ${stats.refreshGrants}, refreshRejected ${stats.refreshRejected}`)
    const status = await s.modelsStatus()
    if (release === "2026.3.24") {
      const stored = readJson(authProfilesPath(s.home)).profiles["qwen-portal:default"]
      check(stored?.access === tok.accessToken, "auth-profiles.json does not hold the refreshed token")
      check(s.profileOf(status) !== undefined, "models status lists no qwen-portal:default")
      s.note(`refreshed (refreshGrants 1); auth-profiles.json has the new token; models status: ${s.profileOf(status).status}`)
    } else {
      check(s.legacyFiles().length === 0, `legacy file(s) written: ${s.legacyFiles().join(", ")}`)
      check(fileSha(s.stateDb) === sqliteBefore, "state/openclaw.sqlite changed")
      s.note("refreshed (refreshGrants 1); no auth-profiles.json, SQLite store unchanged; models status ok")
    }
  }
}))

// --- setup-openclaw ----------------------------------------------------------------------------------

both((release) => ({
  name: `${release}/setup-openclaw`,
  release,
  title: "setup-openclaw → plugin loaded, not the bundled one, other plugins still loaded",
  run: async (s) => {
    const loadedIds = (list: { plugins: Array<any> }) =>
      new Set(list.plugins.filter((p) => p.status === "loaded" && p.id !== "qwen-portal-auth").map((p) => p.id as string))
    // On 2026.9.6 the listing that creates its state database is the "before".
    const before = loadedIds(release === "2026.9.6" ? await s.initOpenClaw9() : await s.pluginsList())
    // doctor's openclaw check reads the real release: before setup our plugin is not the one loaded.
    const doctorBefore = (await s.doctor()).openclaw!
    check(doctorBefore.status === "problem" && doctorBefore.cause === "plugin-not-loaded" && doctorBefore.next === "qwen-auth setup-openclaw",
      `doctor before setup: ${JSON.stringify(doctorBefore)}`)
    check(doctorBefore.detail.includes(`OpenClaw ${release}`), `doctor names no release ${release}: ${doctorBefore.detail}`)
    const setup = await s.setupOpenclaw()
    check(setup.method === (release === "2026.3.24" ? "load-paths" : "plugins-install"), `method ${setup.method}`)
    const after = await s.pluginsList()
    const ours = after.plugins.filter((p) => p.id === "qwen-portal-auth")
    const loaded = ours.filter((p) => p.status === "loaded")
    const folder = realpathSync(join(s.home, ".openclaw/extensions/qwen-portal-auth"))
    check(loaded.length === 1, `qwen-portal-auth loaded ${loaded.length} times: ${JSON.stringify(ours.map((p) => [p.origin, p.status, p.error]))}`)
    check(loaded[0].origin !== "bundled", `the loaded qwen-portal-auth is the bundled one`)
    check(typeof loaded[0].rootDir === "string" && realpathSync(loaded[0].rootDir) === folder, `loaded from ${loaded[0].rootDir}, not ${folder}`)
    check(JSON.stringify(loaded[0].providerIds ?? []).includes("qwen-portal"), `providers ${JSON.stringify(loaded[0].providerIds)}`)
    const bundled = ours.filter((p) => p.origin === "bundled")
    if (release === "2026.3.24") check(bundled.length === 1 && bundled[0].status !== "loaded", `bundled: ${JSON.stringify(bundled)}`)
    const afterIds = loadedIds(after)
    const lost = [...before].filter((id) => !afterIds.has(id))
    check(lost.length === 0, `plugins no longer loaded after setup: ${lost.join(", ")}`)
    check(afterIds.size > 0, "no other plugin is loaded")
    const manifest = readJson(join(folder, "package.json"))
    check(manifest.dependencies === undefined, `the copied package.json lists dependencies: ${JSON.stringify(manifest.dependencies)}`)
    const doctorAfter = (await s.doctor()).openclaw!
    check(doctorAfter.status === "ok", `doctor after setup: ${JSON.stringify(doctorAfter)}`)
    check(doctorAfter.detail.includes(release === "2026.9.6" ? "SQLite" : "OpenClaw 2026.3.24"), `doctor's store: ${doctorAfter.detail}`)
    s.note(`doctor: before setup "${doctorBefore.detail.slice(0, 160)}"; after "${doctorAfter.detail}"`)
    s.note(
      `ours: origin ${loaded[0].origin}, ${relative(s.home, folder)}` +
        (bundled.length > 0 ? `; bundled: ${bundled[0].status} (${bundled[0].error})` : "; no bundled one") +
        `; other plugins loaded: ${before.size} before, ${afterIds.size} after`
    )
  }
}))

// --- OpenClaw's own login, through a pseudo-terminal --------------------------------------------------

both((release) => ({
  name: `${release}/openclaw-login`,
  release,
  title: release === "2026.3.24"
    ? "models auth login (pty) → device login via qwen-auth's plugin"
    : "CLI login, then models auth login (pty) → reused, deviceGrants unchanged",
  run: async (s) => {
    if (release === "2026.9.6") await s.initOpenClaw9()
    await s.setupOpenclaw()
    if (release === "2026.9.6") await s.cliLogin()
    const before = await s.stats()
    const pty = await s.pty(["models", "auth", "login", "--provider", "qwen-portal"])
    const after = await s.stats()
    check(/Qwen OAuth complete/.test(pty.transcript), `no "Qwen OAuth complete" in the transcript:\n${tail(pty.transcript)}`)
    if (release === "2026.3.24") {
      check(pty.transcript.includes(`${s.emu.url}/authorize`), `the login did not show the emulator's verification URL:\n${tail(pty.transcript)}`)
      check(after.deviceGrants === before.deviceGrants + 1, `deviceGrants ${before.deviceGrants} → ${after.deviceGrants}`)
      const stored = readJson(authProfilesPath(s.home)).profiles["qwen-portal:default"]
      check(stored?.access === s.ownCopy().access_token, "OpenClaw's profile and qwen-auth's copy hold different tokens")
      const status = await s.modelsStatus()
      check(s.profileOf(status)?.status === "ok", `qwen-portal:default ${JSON.stringify(s.profileOf(status))}`)
      s.note(`device login through qwen-auth's plugin (deviceGrants ${before.deviceGrants} → ${after.deviceGrants}); auth-profiles.json = qwen-auth's copy`)
    } else {
      check(pty.answers.some((a) => /Use the Qwen login qwen-auth already has/.test(a.question)), "OpenClaw's login did not offer qwen-auth's login")
      check(after.deviceGrants === before.deviceGrants, `deviceGrants ${before.deviceGrants} → ${after.deviceGrants}: not reused`)
      const stored = await sqliteProfile(s.home)
      check(stored?.profile?.access === s.ownCopy().access_token, `OpenClaw's SQLite profile (${stored?.location}) does not hold qwen-auth's token: ${short(stored?.profile?.access)}`)
      const status = await s.modelsStatus()
      check(s.profileOf(status) !== undefined, "models status lists no qwen-portal:default")
      check(s.legacyFiles().length === 0, `legacy file(s): ${s.legacyFiles().join(", ")}`)
      s.note(`reused qwen-auth's login (deviceGrants ${before.deviceGrants} → ${after.deviceGrants}); SQLite store (${stored!.location}) holds it; status ${s.profileOf(status).status}`)
    }
  }
}))

// --- expiry -----------------------------------------------------------------------------------------

scenarios.push({
  name: "2026.3.24/expired-bundled-refresh",
  release: "2026.3.24",
  title: "expired token, nothing of qwen-auth running → bundled refresh fails offline; qwen-auth token recovers",
  emulatorFlags: ["--access-ttl", "30"],
  run: async (s) => {
    const login = await s.cliLogin()
    await s.setupOpenclaw()
    await s.untilExpired(Date.parse(login.expiresAt))
    const before = await s.stats()
    const refusedBefore = s.refusals().length
    const failed = await s.agent({ anyExit: true })
    const after = await s.stats()
    const refused = s.refusals().slice(refusedBefore)
    // The one expected refusal: OpenClaw 2026.3.24's bundled refresher calls chat.qwen.ai (hard-coded);
    // the wrapper `exec`s node, so the OpenClaw process is the child this run started.
    s.expectedRefusals.push({
      test: (r) => r.pid === failed.pid && r.host === "chat.qwen.ai" && r.port === "443",
      why: "OpenClaw 2026.3.24's bundled refresher"
    })
    check(failed.code !== 0 && !failed.stdout.includes(REPLY), `the agent answered with an expired token and no way to refresh:\n${tail(failed.stdout)}`)
    check(/OAuth token refresh failed for qwen-portal/.test(failed.stdout + failed.stderr), `no refresh failure reported:\n${tail(failed.stderr)}`)
    check(after.refreshRequests === before.refreshRequests, `emulator refreshRequests ${before.refreshRequests} → ${after.refreshRequests}`)
    check(after.apiCalls === before.apiCalls, `emulator apiCalls ${before.apiCalls} → ${after.apiCalls}`)
    check(refused.length > 0 && refused.every((r) => r.host === "chat.qwen.ai" && r.port === "443" && r.pid === failed.pid),
      `refusals during the agent run: ${refused.map(describeRefusal).join("; ") || "none"}`)
    s.note(`bundled refresher: ${refused.length} refused connection(s) to chat.qwen.ai:443 (expected), emulator refreshRequests unchanged (${after.refreshRequests})`)
    const tok = JSON.parse((await s.qwenAuth(["token", "--json"])).stdout)
    const healed = await s.stats()
    check(healed.refreshGrants === after.refreshGrants + 1 && healed.refreshRejected === 0, `refreshGrants ${after.refreshGrants} → ${healed.refreshGrants}, refreshRejected ${healed.refreshRejected}`)
    const stored = readJson(authProfilesPath(s.home)).profiles["qwen-portal:default"]
    check(stored?.access === tok.accessToken && stored.expires > Date.now(), "auth-profiles.json does not hold the refreshed token")
    const refusedBeforeSecond = s.refusals().length
    const answered = await s.agent()
    check(answered.stdout.includes(REPLY), `the agent did not answer after qwen-auth token:\n${tail(answered.stdout)}\n${tail(answered.stderr)}`)
    check(s.refusals().length === refusedBeforeSecond, `refusals during the second agent run: ${s.refusals().slice(refusedBeforeSecond).map(describeRefusal).join("; ")}`)
    s.note("qwen-auth token refreshed it into auth-profiles.json; the next agent run answered")
  }
})

scenarios.push({
  name: "2026.9.6/expiry-refresh",
  release: "2026.9.6",
  title: "expired token → OpenClaw refreshes through the plugin → refreshRejected stays 0",
  emulatorFlags: ["--access-ttl", "30"],
  run: async (s) => {
    await s.initOpenClaw9()
    await s.setupOpenclaw()
    await s.pty(["models", "auth", "login", "--provider", "qwen-portal"])
    // OpenClaw's login leaves the default model alone ("current default unchanged").
    await s.qwenAuth(["models", "set", "qwen-portal/coder-model"])
    const first = await sqliteProfile(s.home)
    check(first?.profile?.access !== undefined, "no qwen-portal:default in OpenClaw's store after its login")
    await s.untilExpired(first.profile.expires)
    const before = await s.stats()
    const answered = await s.agent()
    const after = await s.stats()
    check(answered.stdout.includes(REPLY), `the agent did not answer:\n${tail(answered.stdout)}\n${tail(answered.stderr)}`)
    check(after.refreshGrants >= before.refreshGrants + 1, `refreshGrants ${before.refreshGrants} → ${after.refreshGrants}: OpenClaw did not refresh`)
    check(after.refreshRejected === 0, `refreshRejected ${after.refreshRejected}`)
    check(after.apiUnauthorized === 0 && after.apiCalls > before.apiCalls, `apiCalls ${before.apiCalls} → ${after.apiCalls}, apiUnauthorized ${after.apiUnauthorized}`)
    const stored = await sqliteProfile(s.home)
    check(stored?.profile?.access !== first.profile.access && stored!.profile.expires > first.profile.expires, `OpenClaw's store still has ${short(stored?.profile?.access)}`)
    check(!String(stored!.profile.access).startsWith("openclaw-oauth-refresh-fence"), "OpenClaw's store holds a refresh fence")
    // qwen-auth goes on from the rotated token (the plugin saved it to qwen-auth's copies too).
    await s.qwenAuth(["token", "--json"])
    const last = await s.stats()
    check(last.refreshRejected === 0, `qwen-auth token afterwards: refreshRejected ${last.refreshRejected}`)
    s.note(`OpenClaw refreshed through the plugin (refreshGrants ${before.refreshGrants} → ${after.refreshGrants}), saved it (${stored!.location}); qwen-auth token after it: refreshGrants ${last.refreshGrants}, refreshRejected 0`)
  }
})

// --- agent ------------------------------------------------------------------------------------------

both((release) => ({
  name: `${release}/agent`,
  release,
  title: "openclaw agent --local --message hi answers through the emulator's API",
  run: async (s) => {
    if (release === "2026.9.6") {
      await s.initOpenClaw9()
      await s.setupOpenclaw()
      await s.cliLogin()
      await s.pty(["models", "auth", "login", "--provider", "qwen-portal"])
    } else {
      await s.cliLogin()
      await s.setupOpenclaw()
    }
    const before = await s.stats()
    const r = await s.agent()
    const after = await s.stats()
    const reply = r.stdout.split("\n").find((l) => l.includes(REPLY))
    check(reply !== undefined, `no emulator reply in the agent's output:\n${tail(r.stdout)}\n${tail(r.stderr)}`)
    check(after.apiCalls > before.apiCalls && after.apiUnauthorized === 0, `apiCalls ${before.apiCalls} → ${after.apiCalls}, apiUnauthorized ${after.apiUnauthorized}`)
    check(after.refreshRequests === before.refreshRequests, `a refresh happened (${before.refreshRequests} → ${after.refreshRequests})`)
    s.note(`reply: ${JSON.stringify(reply.trim())} (apiCalls ${before.apiCalls} → ${after.apiCalls})`)
  }
}))

// --- Qwen Code ----------------------------------------------------------------------------------------

scenarios.push(...qwenCodeScenarios)

// --- the daemon next to each host (interop/daemon.ts) -------------------------------------------

scenarios.push(...daemonScenarios)

// =============================================================================
// Runner
// =============================================================================

interface Outcome {
  readonly name: string
  readonly title: string
  readonly ok: boolean
  readonly ms: number
  readonly error?: string
  readonly refusals: ReadonlyArray<Refusal>
  /** How many of them were the scenario's expected outcome. */
  readonly expected: number
}

class TimeoutFailure extends Failure {}

const withTimeout = <A>(p: Promise<A>, ms: number, what: string) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new TimeoutFailure(`${what} did not finish within ${seconds(ms)}`)), ms).unref())
  ])

const runScenario = async (scenario: Scenario): Promise<Outcome> => {
  const started = Date.now()
  console.log(`\n▶ ${scenario.name}: ${scenario.title}`)
  const s = new Session(scenario.name, scenario.release === undefined ? undefined : releaseInfo(scenario.release))
  let error: string | undefined
  try {
    s.emu = await startEmulator(scenario.emulatorFlags ?? [], s.env(node22), join(s.logs, "emulator.log"))
    await withTimeout(scenario.run(s), scenario.timeoutMs ?? SCENARIO_TIMEOUT_MS, scenario.name)
  } catch (e) {
    error = e instanceof Failure ? e.message : (e as Error)?.stack ?? String(e)
    // A scenario that ran out of time may still have programs running: end them (only ours).
    if (e instanceof TimeoutFailure) killAllStarted()
  } finally {
    await s.emu?.stop()
    // Programs a failed scenario left running in the background (only ours).
    killAllStarted()
  }
  const refusals = s.refusals()
  if (!scenario.guardSelfCheck) {
    const unexpected = refusals.filter((r) => isQwenHost(r.host) && !s.expectedRefusals.some((e) => e.test(r)))
    if (unexpected.length > 0) {
      error = `${error ? `${error}\n` : ""}refused connection(s) to a Qwen host: ${unexpected.map(describeRefusal).join("; ")}`
    }
    for (const r of refusals.filter((r) => !isQwenHost(r.host))) s.note(`refused (not a Qwen host): ${describeRefusal(r)}`)
  }
  const ms = Date.now() - started
  console.log(error === undefined ? `  ✔ ${scenario.name}  ${seconds(ms)}` : `  ✘ ${scenario.name}  ${seconds(ms)}\n${indent(error)}\n    (logs: ${relative(repoRoot, s.dir)})`)
  const expected = refusals.filter((r) => s.expectedRefusals.some((e) => e.test(r))).length
  return { name: scenario.name, title: scenario.title, ok: error === undefined, ms, ...(error !== undefined ? { error } : {}), refusals, expected }
}

const indent = (text: string) => text.split("\n").map((l) => `    ${l}`).join("\n")

const main = async () => {
  const only = process.env.INTEROP_ONLY
  const chosen = only ? scenarios.filter((s) => s.name.includes(only)) : scenarios
  if (only) console.log(`INTEROP_ONLY=${only}: ${chosen.length} of ${scenarios.length} scenarios (a partial run fails the suite)`)
  rmSync(runDir, { recursive: true, force: true })
  ensureDir(runDir)
  for (const bin of ["script", "/usr/bin/env"]) {
    check(bin.startsWith("/") ? existsSync(bin) : process.env.PATH?.split(":").some((d) => existsSync(join(d, bin))), `${bin} is missing`)
  }
  const started = Date.now()
  const outcomes: Array<Outcome> = []
  for (const scenario of chosen) outcomes.push(await runScenario(scenario))
  const total = Date.now() - started

  const width = Math.max(...outcomes.map((o) => o.name.length))
  console.log(`\nInterop summary (isolation: ${MODE === "netns" ? "network namespace with only loopback + guard preload" : "guard preload only"})`)
  console.log(`  ${"scenario".padEnd(width)}  result  time     refusals`)
  for (const o of outcomes) {
    const qwen = o.refusals.filter((r) => isQwenHost(r.host)).length
    const refusalText = o.refusals.length === 0
      ? "0"
      : o.name === "isolation"
      ? `${o.refusals.length} (the guard's self-check)`
      : `${o.refusals.length} (${qwen} to Qwen hosts, ${o.expected} expected)`
    console.log(`  ${o.name.padEnd(width)}  ${o.ok ? "pass  " : "FAIL  "}  ${seconds(o.ms).padStart(7)}  ${refusalText}`)
  }
  console.log(`  ${"scenarios total".padEnd(width)}          ${seconds(total).padStart(7)}`)
  const failed = outcomes.filter((o) => !o.ok).length + (only ? 1 : 0)
  for (const o of outcomes.filter((o) => !o.ok)) console.log(`\nFAILED ${o.name}:\n${indent(o.error ?? "")}`)
  console.log(`\ninterop: ${outcomes.filter((o) => o.ok).length} passed, ${failed} failed`)
  process.exitCode = failed === 0 ? 0 : 1
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killAllStarted()
    process.exit(130)
  })
}

await main().catch((e) => {
  killAllStarted()
  console.error(e)
  process.exitCode = 1
})
