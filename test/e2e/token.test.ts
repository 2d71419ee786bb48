/**
 * `qwen-auth token [--json]` end to end: the built CLI against the emulator process, on temp
 * homes holding real tokens (cli-contract.md "Commands", "Output", "Exit codes").
 */
import { describe, expect, it } from "vitest"
import { spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { cliPath, nodeBin, repoRoot } from "../support/processes.ts"
import {
  afterThisTest,
  cli,
  emulator,
  envFor,
  explain,
  readJson,
  realTokens,
  setStoredExpiry,
  sha256,
  tempHome,
  writeProfiles,
  writeQwenCreds,
  writeSecret
} from "./home.ts"

const LONG = 120_000
const HOUR = 3_600_000

describe("qwen-auth token", () => {
  it("prints only the stored token and a newline while it is fresh, without a refresh", async () => {
    const emu = await emulator()
    const home = tempHome()
    const tokens = await realTokens(emu)
    writeQwenCreds(home, tokens, Date.now() + HOUR)

    const r = await cli(home, ["token"], emu)
    expect(r.code, explain(r)).toBe(0)
    expect(r.stdout).toBe(`${tokens.access_token}\n`)
    expect(r.stderr).toBe("")

    const j = await cli(home, ["token", "--json"], emu)
    expect(j.code, explain(j)).toBe(0)
    const out = JSON.parse(j.stdout)
    expect(out).toEqual({
      accessToken: tokens.access_token,
      expiresAt: new Date(readJson(home.creds).expiry_date).toISOString(),
      baseUrl: `${emu.url}/v1`
    })
    expect(j.stderr).not.toContain(tokens.access_token)

    const stats = await emu.stats()
    expect(stats.refreshRequests).toBe(0)
  }, LONG)

  it("refreshes first inside the refresh margin and stores the new token in both files", async () => {
    const emu = await emulator()
    const home = tempHome()
    const tokens = await realTokens(emu)
    // 100 s left: inside the default 300 s margin, outside the last 30 s.
    writeQwenCreds(home, tokens, Date.now() + 100_000)

    const r = await cli(home, ["token"], emu)
    expect(r.code, explain(r)).toBe(0)
    const printed = r.stdout.trimEnd()
    expect(r.stdout).toBe(`${printed}\n`)
    expect(printed).not.toBe(tokens.access_token)

    const creds = readJson(home.creds)
    expect(creds.access_token).toBe(printed)
    expect(creds.refresh_token).not.toBe(tokens.refresh_token)
    expect(creds.expiry_date).toBeGreaterThan(Date.now() + HOUR)
    expect(readJson(home.profiles).profiles["qwen-portal:default"].access).toBe(printed)
    expect(JSON.stringify(readJson(home.state))).not.toContain(creds.refresh_token)

    const stats = await emu.stats()
    expect(stats.refreshGrants).toBe(1)
    expect(stats.refreshRejected).toBe(0)
  }, LONG)

  it("takes the refresh margin from --refresh-margin over QWEN_AUTH_REFRESH_MARGIN", async () => {
    const emu = await emulator()
    const home = tempHome()
    const tokens = await realTokens(emu)
    writeQwenCreds(home, tokens, Date.now() + 100_000)

    // 100 s left is outside a 60 s margin, from the environment or the flag: no refresh.
    const env = await cli(home, ["token"], emu, { QWEN_AUTH_REFRESH_MARGIN: "60" })
    expect(env.code, explain(env)).toBe(0)
    expect(env.stdout).toBe(`${tokens.access_token}\n`)
    const flag = await cli(home, ["token", "--refresh-margin", "60"], emu)
    expect(flag.stdout).toBe(`${tokens.access_token}\n`)
    expect((await emu.stats()).refreshRequests).toBe(0)

    // The flag wins over the environment: a 200 s margin refreshes.
    const wins = await cli(home, ["token", "--refresh-margin", "200"], emu, { QWEN_AUTH_REFRESH_MARGIN: "60" })
    expect(wins.code, explain(wins)).toBe(0)
    expect(wins.stdout).not.toBe(`${tokens.access_token}\n`)
    expect((await emu.stats()).refreshGrants).toBe(1)
  }, LONG)

  it("prints the current token with a warning when the refresh fails transiently and ≥ 30 s are left", async () => {
    // Every OAuth and API request answers 500: a transient failure.
    const emu = await emulator(["--fault-rate", "1", "--faults", "500"])
    const home = tempHome()
    const tokens = { access_token: "stored-access-token", refresh_token: "stored-refresh-token", resource_url: emu.url }
    writeQwenCreds(home, tokens, Date.now() + 200_000)

    const r = await cli(home, ["token"], emu)
    expect(r.code, explain(r)).toBe(0)
    expect(r.stdout).toBe("stored-access-token\n")
    expect(r.stderr).toMatch(/warning/i)
    expect(r.stderr).not.toContain("stored-access-token")
    expect(r.stderr).not.toContain("stored-refresh-token")
    expect(readJson(home.creds).access_token).toBe("stored-access-token")
    expect((await emu.stats()).faultsInjected).toBeGreaterThan(0)

    const j = await cli(home, ["token", "--json"], emu)
    expect(j.code, explain(j)).toBe(0)
    expect(JSON.parse(j.stdout)).toMatchObject({ accessToken: "stored-access-token", baseUrl: `${emu.url}/v1` })
    expect(j.stderr).toMatch(/warning/i)
  }, LONG)

  it("fails with exit 1 and prints no token when the refresh fails transiently with < 30 s left", async () => {
    const emu = await emulator(["--fault-rate", "1", "--faults", "500"])
    const home = tempHome()
    const tokens = { access_token: "short-access-token", refresh_token: "short-refresh-token", resource_url: emu.url }
    writeQwenCreds(home, tokens, Date.now() + 10_000)

    const r = await cli(home, ["token"], emu)
    expect(r.code, explain(r)).toBe(1)
    expect(r.stdout).toBe("")
    expect(r.stderr).toMatch(/HTTP 500/)
    const j = await cli(home, ["token", "--json"], emu)
    expect(j.code, explain(j)).toBe(1)
    expect(JSON.parse(j.stdout).error.message).toMatch(/refresh/)
    expect(j.stdout).not.toContain("short-access-token")
    // A transient failure deletes nothing and marks nothing refused.
    expect(readJson(home.creds).refresh_token).toBe("short-refresh-token")
    expect(existsSync(home.state) ? readJson(home.state).refusedRefreshTokens ?? [] : []).toEqual([])
  }, LONG)

  it("fails with exit 4 and nothing on stdout when there are no credentials; --json prints one error object", async () => {
    const home = tempHome()
    const r = await cli(home, ["token"])
    expect(r.code, explain(r)).toBe(4)
    expect(r.stdout).toBe("")
    expect(r.stderr).toContain("qwen-auth login")

    const j = await cli(home, ["token", "--json"])
    expect(j.code, explain(j)).toBe(4)
    const out = JSON.parse(j.stdout)
    expect(Object.keys(out)).toEqual(["error"])
    expect(out.error.tag).toBe("LoginRequired")
    expect(typeof out.error.message).toBe("string")
    expect(Object.keys(out.error).sort()).toEqual(["message", "tag"])
  }, LONG)

  it("an expired token without a refresh token: exit 4, and status says needs-login, not refreshable", async () => {
    const emu = await emulator()
    const home = tempHome()
    const profile = { type: "oauth", provider: "qwen-portal", access: "no-refresh-access", expires: Date.now() - 60_000 }
    writeSecret(home.profiles, JSON.stringify({ version: 1, profiles: { "qwen-portal:default": profile } }))

    const r = await cli(home, ["token"], emu)
    expect(r.code, explain(r)).toBe(4)
    expect(r.stdout).toBe("")
    expect(r.stderr).toContain("qwen-auth login")
    const s = await cli(home, ["status", "--json"], emu)
    expect(s.code, explain(s)).toBe(4)
    expect(JSON.parse(s.stdout)).toMatchObject({ loggedIn: false, state: "needs-login", refreshable: false })
    expect((await emu.stats()).refreshRequests).toBe(0)
  }, LONG)

  it("a refused refresh token: exit 4, 'run qwen-auth login', nothing deleted, marked refused, status says needs-login", async () => {
    const emu = await emulator()
    const home = tempHome()
    const tokens = await realTokens(emu)
    const expired = Date.now() - 1000
    writeQwenCreds(home, tokens, expired)
    writeProfiles(home, tokens, expired, { "anthropic:default": { type: "api_key", provider: "anthropic", key: "k" } })
    await emu.revoke()

    const r = await cli(home, ["token"], emu)
    expect(r.code, explain(r)).toBe(4)
    expect(r.stdout).toBe("")
    expect(r.stderr).toMatch(/run `?qwen-auth login/i)
    expect(r.stderr).not.toContain(tokens.refresh_token)

    // Nothing deleted: both files still hold the refused credentials.
    expect(readJson(home.creds).refresh_token).toBe(tokens.refresh_token)
    const profiles = readJson(home.profiles).profiles
    expect(profiles["qwen-portal:default"].refresh).toBe(tokens.refresh_token)
    expect(profiles["anthropic:default"]).toEqual({ type: "api_key", provider: "anthropic", key: "k" })
    const state = readJson(home.state)
    expect(state.refusedRefreshTokens).toContain(sha256(tokens.refresh_token))
    expect(JSON.stringify(state)).not.toContain(tokens.refresh_token)

    const stats = await emu.stats()
    expect(stats.refreshRejected).toBeGreaterThanOrEqual(1)
    expect(stats.refreshGrants).toBe(0)

    const s = await cli(home, ["status", "--json"], emu)
    expect(s.code, explain(s)).toBe(4)
    const status = JSON.parse(s.stdout)
    expect(status.state).toBe("needs-login")
    expect(status.loggedIn).toBe(false)

    // A second `token` does not hammer the server with the refused token.
    const again = await cli(home, ["token", "--json"], emu)
    expect(again.code, explain(again)).toBe(4)
    expect(JSON.parse(again.stdout).error.message).toMatch(/qwen-auth login/)
    expect((await emu.stats()).refreshRequests).toBe(stats.refreshRequests)
    expect(existsSync(home.creds)).toBe(true)
  }, LONG)
})

describe("8 × qwen-auth token at once on just-expired credentials", () => {
  const eight = (home: ReturnType<typeof tempHome>, emu: { url: string }) =>
    Promise.all(Array.from({ length: 8 }, () => cli(home, ["token"], emu)))

  it("makes exactly one refresh grant and prints one token, twice in a row", async () => {
    const emu = await emulator()
    const home = tempHome()
    const tokens = await realTokens(emu)
    writeQwenCreds(home, tokens, Date.now() - 1000)

    const first = await eight(home, emu)
    for (const r of first) expect(r.code, explain(r)).toBe(0)
    const printed = new Set(first.map((r) => r.stdout))
    expect(printed.size, first.map(explain).join("\n---\n")).toBe(1)
    const token1 = [...printed][0]!
    expect(token1).toMatch(/^\S+\n$/)
    expect(token1).not.toBe(`${tokens.access_token}\n`)
    let stats = await emu.stats()
    expect(stats.refreshGrants).toBe(1)
    expect(stats.refreshRejected).toBe(0)
    expect(stats.liveRefreshTokens).toBe(1)
    expect(readJson(home.creds).access_token).toBe(token1.trimEnd())
    expect(readJson(home.profiles).profiles["qwen-portal:default"].access).toBe(token1.trimEnd())

    // Expire the newest token (wherever it is stored) and go again.
    setStoredExpiry(home, Date.now() - 1000)
    const second = await eight(home, emu)
    for (const r of second) expect(r.code, explain(r)).toBe(0)
    const printed2 = new Set(second.map((r) => r.stdout))
    expect(printed2.size, second.map(explain).join("\n---\n")).toBe(1)
    expect([...printed2][0]).not.toBe(token1)
    stats = await emu.stats()
    expect(stats.refreshGrants).toBe(2)
    expect(stats.refreshRejected).toBe(0)
    expect(stats.liveRefreshTokens).toBe(1)
  }, LONG)
})

describe("qwen-auth token when the terminal closes", () => {
  it("SIGHUP while holding Qwen Code's lock cleans up like SIGTERM: lock removed, files intact", async () => {
    const emu = await emulator()
    const home = tempHome()
    const tokens = await realTokens(emu)
    writeQwenCreds(home, tokens, Date.now() + 100_000) // due: token takes the locks to refresh
    const before = readFileSync(home.creds, "utf8")
    const child = spawn(nodeBin, [cliPath, "token"], {
      env: envFor(home, emu, { NODE_ENV: "test", QWEN_AUTH_TEST_PAUSE_AT: "lock:qwen-code:held" }),
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"]
    })
    afterThisTest(() => child.kill("SIGKILL"))
    let stderr = ""
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`never held the lock:\n${stderr}`)), 30_000)
      child.stderr.setEncoding("utf8").on("data", (d: string) => {
        stderr += d
        if (stderr.includes("QWEN_AUTH_PAUSED lock:qwen-code:held")) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
    const lock = `${home.qwen}/oauth_creds.lock`
    expect(existsSync(lock)).toBe(true)
    // The marker is written just before the child stops itself: a SIGCONT sent before the stop
    // would be lost and leave it stopped, so wait until it really is (state T).
    const stopped = () => readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]?.startsWith("T") === true
    for (let i = 0; i < 100 && !stopped(); i++) await new Promise((r) => setTimeout(r, 50))
    child.kill("SIGHUP")
    child.kill("SIGCONT")
    const code = await Promise.race([
      exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`still running 45 s after SIGHUP:\n${stderr}`)), 45_000)
      )
    ])
    // 130: interrupted and cleaned up (a SIGHUP left to Node's default would be a signal exit).
    expect(code, stderr).toBe(130)
    expect(existsSync(lock), stderr).toBe(false)
    expect(readFileSync(home.creds, "utf8")).toBe(before)
    expect(stderr).not.toMatch(/\bat .*\.js:\d+/)
  }, LONG)
})
