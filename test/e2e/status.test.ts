/**
 * `qwen-auth status [--json]` end to end on temp homes: the schema of cli-contract.md (every
 * field always present), exit 0/4/1, problems of a malformed other source, and read-only-ness
 * (bytes, modes and mtimes unchanged; no refresh at the emulator).
 */
import { describe, expect, it } from "vitest"
import { chmodSync } from "node:fs"
import {
  cli,
  emulator,
  explain,
  type Home,
  realTokens,
  tempHome,
  treeSnapshot,
  writeProfiles,
  writeQwenCreds,
  writeSecret
} from "./home.ts"

const LONG = 120_000
const HOUR = 3_600_000
const FIELDS = [
  "baseUrl",
  "daemon",
  "defaultModel",
  "expiresAt",
  "expiresInSeconds",
  "files",
  "loggedIn",
  "problems",
  "refreshable",
  "source",
  "state"
]

const fakeTokens = (url: string) => ({ access_token: "status-access", refresh_token: "status-refresh", resource_url: url })

const statusJson = async (home: Home, emu?: { url: string }) => {
  const r = await cli(home, ["status", "--json"], emu)
  let json: any
  expect(() => (json = JSON.parse(r.stdout)), explain(r)).not.toThrow()
  expect(Object.keys(json).sort()).toEqual(FIELDS)
  return { r, json }
}

/** Runs `status` and `status --json` and checks neither changed a byte, mode or mtime in `home`. */
const expectReadOnly = async (home: Home, emu?: { url: string }) => {
  const before = treeSnapshot(home.path)
  const human = await cli(home, ["status"], emu)
  const json = await cli(home, ["status", "--json"], emu)
  expect(treeSnapshot(home.path)).toEqual(before)
  return { human, json }
}

describe("qwen-auth status", () => {
  it("reports fresh credentials with every field, exit 0, and a human report", async () => {
    const home = tempHome()
    const url = "http://127.0.0.1:9"
    const expires = Date.now() + HOUR
    writeQwenCreds(home, fakeTokens(url), expires)
    writeSecret(home.config, JSON.stringify({ agents: { defaults: { model: { primary: "qwen-portal/coder-model" } } } }))

    const { r, json } = await statusJson(home)
    expect(r.code, explain(r)).toBe(0)
    expect(json).toMatchObject({
      loggedIn: true,
      state: "fresh",
      source: "qwen-code",
      expiresAt: new Date(expires).toISOString(),
      refreshable: true,
      baseUrl: `${url}/v1`,
      defaultModel: "qwen-portal/coder-model",
      problems: []
    })
    expect(json.expiresInSeconds).toBeGreaterThan(3000)
    expect(json.expiresInSeconds).toBeLessThanOrEqual(3600)
    const creds = json.files.find((f: any) => f.path === home.creds)
    expect(creds).toEqual({ path: home.creds, exists: true, mode: "600", ok: true, problem: null })
    expect(json.files.find((f: any) => f.path === home.profiles)).toEqual({
      path: home.profiles,
      exists: false,
      mode: null,
      ok: true,
      problem: null
    })
    expect(r.stdout).not.toContain("status-access")
    expect(r.stdout).not.toContain("status-refresh")

    const human = await cli(home, ["status"])
    expect(human.code, explain(human)).toBe(0)
    expect(human.stdout).toContain("Logged in to Qwen")
    expect(human.stdout).toContain(home.creds)
    expect(human.stdout).toContain("qwen-portal/coder-model")
    expect(human.stdout).not.toContain("status-access")
  }, LONG)

  it("prints the object with nulls and exits 4 when there are no credentials", async () => {
    const home = tempHome()
    const { r, json } = await statusJson(home)
    expect(r.code, explain(r)).toBe(4)
    expect(json).toMatchObject({
      loggedIn: false,
      state: "logged-out",
      source: null,
      expiresAt: null,
      expiresInSeconds: null,
      refreshable: null,
      baseUrl: null,
      defaultModel: null,
      problems: []
    })
    expect(json.files.map((f: any) => f.exists)).not.toContain(true)

    const human = await cli(home, ["status"])
    expect(human.code).toBe(4)
    expect(human.stdout).toContain("qwen-auth login")
  }, LONG)

  it("tells expiring and expired-but-refreshable apart, both exit 0", async () => {
    const home = tempHome()
    writeQwenCreds(home, fakeTokens("http://127.0.0.1:9"), Date.now() + 100_000)
    const expiring = await statusJson(home)
    expect(expiring.r.code, explain(expiring.r)).toBe(0)
    expect(expiring.json.state).toBe("expiring")

    writeQwenCreds(home, fakeTokens("http://127.0.0.1:9"), Date.now() - 60_000)
    const expired = await statusJson(home)
    expect(expired.r.code, explain(expired.r)).toBe(0)
    expect(expired.json).toMatchObject({ state: "expired-refreshable", loggedIn: true, refreshable: true })
    expect(expired.json.expiresInSeconds).toBeLessThan(0)
  }, LONG)

  it("lists a malformed other source under problems and still exits 0 on the good one", async () => {
    const home = tempHome()
    writeProfiles(home, fakeTokens("http://127.0.0.1:9"), Date.now() + HOUR)
    writeSecret(home.creds, "{\"access_token\": ")

    const { r, json } = await statusJson(home)
    expect(r.code, explain(r)).toBe(0)
    expect(json).toMatchObject({ loggedIn: true, source: "openclaw" })
    expect(json.problems.some((p: string) => p.includes(home.creds)), JSON.stringify(json.problems)).toBe(true)
    const bad = json.files.find((f: any) => f.path === home.creds)
    expect(bad).toMatchObject({ exists: true, ok: false })
    expect(bad.problem).toMatch(/JSON/)
  }, LONG)

  it("exits 1 naming the file when the only source is malformed", async () => {
    const home = tempHome()
    writeSecret(home.creds, "not json at all")
    const r = await cli(home, ["status"])
    expect(r.code, explain(r)).toBe(1)
    expect(r.stderr).toContain(home.creds)
    expect(r.stderr.split("\n").filter((l) => l.trim() !== "").length).toBeLessThanOrEqual(3)
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/)

    const j = await cli(home, ["status", "--json"])
    expect(j.code, explain(j)).toBe(1)
    // status --json always prints the status object, with the unusable file under problems.
    const out = JSON.parse(j.stdout)
    expect(out).toMatchObject({ loggedIn: false, state: "needs-login", source: null, expiresAt: null })
    expect(out.problems.join("\n")).toContain(home.creds)
    expect(out.files).toEqual([expect.objectContaining({ path: home.creds, exists: true, ok: false })])
    expect(j.stderr).toContain(home.creds)
  }, LONG)

  it("an expiry no date can hold (1e300) is a malformed file, never an internal error, for status, token and login", async () => {
    const home = tempHome()
    writeSecret(home.creds, JSON.stringify({ access_token: "a", refresh_token: "r", token_type: "Bearer", expiry_date: 1e300 }))
    const j = await cli(home, ["status", "--json"])
    expect(j.code, explain(j)).toBe(1)
    const out = JSON.parse(j.stdout)
    expect(out.loggedIn).toBe(false)
    expect(out.problems.join("\n")).toContain("expiry_date")
    for (const args of [["status"], ["token"], ["login", "--no-browser", "--no-qr"]]) {
      const r = await cli(home, args)
      expect(r.code, explain(r)).toBe(1)
      expect(r.stderr).toContain(home.creds)
      expect(r.stderr).not.toMatch(/internal error|Invalid time value|\bat .*\.js:\d+/)
    }
  }, LONG)

  it("never writes: bytes, modes and mtimes stay, nothing is refreshed or created", async () => {
    const emu = await emulator()
    const tokens = await realTokens(emu)

    // Expired but refreshable, in both files, one with a loose mode, plus a config.
    const expired = tempHome()
    writeQwenCreds(expired, tokens, Date.now() - 60_000)
    writeProfiles(expired, tokens, Date.now() - 60_000, { "openai:default": { type: "api_key", provider: "openai", key: "x" } })
    writeSecret(expired.config, "{ // comment\n agents: { defaults: { model: { primary: 'qwen' } } }, }\n")
    chmodSync(expired.creds, 0o644)
    const a = await expectReadOnly(expired, emu)
    expect(a.json.code, explain(a.json)).toBe(0)
    expect(JSON.parse(a.json.stdout).state).toBe("expired-refreshable")

    // A malformed source next to a good one; a malformed only source.
    const mixed = tempHome()
    writeProfiles(mixed, tokens, Date.now() + HOUR)
    writeSecret(mixed.creds, "[1, 2")
    expect((await expectReadOnly(mixed, emu)).json.code).toBe(0)
    const broken = tempHome()
    writeSecret(broken.creds, "[1, 2")
    expect((await expectReadOnly(broken, emu)).json.code).toBe(1)

    // An empty home: no folder appears.
    const empty = tempHome()
    expect((await expectReadOnly(empty, emu)).json.code).toBe(4)
    expect(treeSnapshot(empty.path)).toEqual({})

    const stats = await emu.stats()
    expect(stats.refreshRequests).toBe(0)
    expect(stats.apiCalls).toBe(0)
  }, LONG)
})
