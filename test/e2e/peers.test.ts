/**
 * `qwen-auth token` and `status` next to Qwen Code (issue 12), end to end: the built CLI against
 * the emulator process on temp homes. A repaired copy, a spent refresh token replaced, and a live
 * Qwen Code lock waited for (never broken before it is 35 s old), with one line on stderr.
 */
import { describe, expect, it } from "vitest"
import { existsSync, readFileSync, rmSync, utimesSync } from "node:fs"
import { spawn } from "node:child_process"
import { cliPath, nodeBin, repoRoot } from "../support/processes.ts"
import {
  afterThisTest,
  cli,
  emulator,
  envFor,
  explain,
  readJson,
  realTokens,
  tempHome,
  writeProfiles,
  writeQwenCreds,
  writeSecret
} from "./home.ts"

const LONG = 120_000
const HOUR = 3_600_000
const FOREIGN = "11111111-2222-3333-4444-555555555555"

describe("qwen-auth next to Qwen Code", () => {
  it("oauth_creds.json removed after qwen-auth wrote it: status lists it with the command, exit 0; token restores it", async () => {
    const emu = await emulator(["--auto-approve-after", "1", "--interval", "1"])
    const home = tempHome()
    const login = await cli(home, ["login", "--no-browser", "--no-qr"], emu)
    expect(login.code, explain(login)).toBe(0)
    const written = readJson(home.creds)
    rmSync(home.creds)

    const status = await cli(home, ["status", "--json"], emu)
    expect(status.code, explain(status)).toBe(0)
    const report = JSON.parse(status.stdout)
    expect(report.loggedIn).toBe(true)
    expect(report.problems).toContainEqual(expect.stringContaining(home.creds))
    expect(report.problems.join("\n")).toContain("`qwen-auth token`")

    const token = await cli(home, ["token"], emu)
    expect(token.code, explain(token)).toBe(0)
    expect(token.stdout.trim()).toBe(written.access_token)
    expect(readJson(home.creds).refresh_token).toBe(written.refresh_token)
    const after = JSON.parse((await cli(home, ["status", "--json"], emu)).stdout)
    expect(after.problems).toEqual([])
    expect((await emu.stats()).refreshRequests).toBe(0)
  }, LONG)

  it("a login Qwen Code made itself and later removed is not brought back", async () => {
    const emu = await emulator()
    const home = tempHome()
    const tokens = await realTokens(emu)
    writeQwenCreds(home, tokens, Date.now() + HOUR)
    expect((await cli(home, ["token"], emu)).code).toBe(0)
    rmSync(home.creds)
    const token = await cli(home, ["token"], emu)
    expect(token.code, explain(token)).toBe(0)
    expect(existsSync(home.creds)).toBe(false)
    const status = JSON.parse((await cli(home, ["status", "--json"], emu)).stdout)
    expect(status.problems).toEqual([])
  }, LONG)

  it("after Qwen Code refreshed, token adopts its chain and replaces the spent refresh token in OpenClaw's profile", async () => {
    const emu = await emulator()
    const home = tempHome()
    const first = await realTokens(emu)
    writeProfiles(home, first, Date.now() + 60_000)
    // Qwen Code refreshed `first` (spending it) and saved the result in its own file.
    const refreshed = await fetch(`${emu.url}/api/v1/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: first.refresh_token, client_id: "f0304373b74a44d2b584a3fb70ca9e56" })
    }).then((r) => r.json() as Promise<{ access_token: string; refresh_token: string }>)
    writeQwenCreds(home, refreshed, Date.now() + 6 * HOUR)

    const token = await cli(home, ["token"], emu)
    expect(token.code, explain(token)).toBe(0)
    expect(token.stdout.trim()).toBe(refreshed.access_token)
    expect(readJson(home.profiles).profiles["qwen-portal:default"].refresh).toBe(refreshed.refresh_token)
    expect((await emu.stats()).refreshRejected).toBe(0)
  }, LONG)

  it("a Qwen Code lock held for longer than 10 s is waited for, not broken, and the wait is said once", async () => {
    const emu = await emulator()
    const home = tempHome()
    const tokens = await realTokens(emu)
    writeQwenCreds(home, tokens, Date.now() + 60_000) // inside the margin: token must refresh
    const lock = `${home.qwen}/oauth_creds.lock`
    writeSecret(lock, FOREIGN)
    // Qwen Code took it 8 s ago and never touches it while its slow refresh runs.
    const takenAt = new Date(Date.now() - 8_000)
    utimesSync(lock, takenAt, takenAt)
    const child = spawn(nodeBin, [cliPath, "token"], { env: envFor(home, emu), cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] })
    afterThisTest(() => child.kill("SIGKILL"))
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
    // The notice comes after 5 s of waiting; by then the lock is at least 13 s old.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no waiting notice:\n${stderr}`)), 40_000)
      child.stderr.setEncoding("utf8").on("data", (d: string) => {
        stderr += d
        if (stderr.includes("waiting for")) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
    // Older than Qwen Code 0.12.0's 10 s limit, younger than 35 s: still the peer's.
    expect(Date.now() - takenAt.getTime()).toBeGreaterThan(10_000)
    expect(readFileSync(lock, "utf8")).toBe(FOREIGN)
    await new Promise((r) => setTimeout(r, 1_000))
    expect(readFileSync(lock, "utf8")).toBe(FOREIGN)
    rmSync(lock)
    const code = await exited
    const token = { code, stdout, stderr, signal: null }
    expect(token.code, explain(token)).toBe(0)
    const waits = token.stderr.split("\n").filter((l) => l.includes("waiting for"))
    expect(waits, token.stderr).toHaveLength(1)
    expect(waits[0]).toContain(lock)
    expect(token.stdout.trim()).not.toBe(tokens.access_token)
    expect((await emu.stats()).refreshGrants).toBe(1)
  }, LONG)
})
