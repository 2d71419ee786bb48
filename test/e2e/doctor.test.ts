/**
 * `qwen-auth doctor [--json]` end to end: the built CLI against the emulator in each of its modes
 * (normal, discontinued, moved, reject-client, tokens revoked, unreachable), checking what a user
 * sees: the cause and next step per check, the exit code, the JSON schema, that no file changes
 * except through the one refresh a rejected token calls for, and that doctor's probe never counts
 * as a rejected refresh at the emulator.
 */
import { chmodSync, mkdirSync, readFileSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runNode } from "../support/processes.ts"
import {
  cli,
  emulator,
  envFor,
  explain,
  type Home,
  openClawTools,
  readJson,
  realTokens,
  tempHome,
  treeSnapshot,
  writeQwenCreds,
  writeSecret
} from "./home.ts"

const HOUR = 3_600_000
const IDS = ["files", "oauth-server", "api", "openclaw", "qwen-code", "daemon"]
const CAUSES = new Set([
  "login-required", "service-rejects-tokens", "endpoint-not-found", "client-refused", "quota-exhausted", "throttled",
  "unreachable", "untrusted-endpoint", "server-error", "unexpected-answer", "refresh-failed", "file-problem",
  "copy-behind", "openclaw-failed", "plugin-not-loaded", "daemon-stopped"
])

let fakeOpenClaw: string
let installedCli: string
let tools: { cleanup: () => void }
beforeAll(() => {
  // setup-openclaw copies the plugin only from an installed package.
  const t = openClawTools("qwen-auth-doctor-")
  tools = t
  installedCli = t.installedCli
  fakeOpenClaw = t.fakeBin
})
afterAll(() => tools.cleanup())

type Emu = Awaited<ReturnType<typeof emulator>>

const setMode = async (emu: Emu, mode: string) => {
  const res = await fetch(`${emu.url}/__emulator/mode?set=${mode}`, { method: "POST" })
  expect(res.status).toBe(204)
}

/** No OpenClaw on this machine unless a test brings the fake one. */
const NO_OPENCLAW = { OPENCLAW_BIN: "/nonexistent/openclaw" }

/** Runs `doctor --json`, checks the schema of every answer, and returns the checks by id. */
const doctor = async (home: Home, emu: { url: string } | undefined, env: Record<string, string> = NO_OPENCLAW) => {
  const r = await cli(home, ["doctor", "--json"], emu, env)
  let json: any
  expect(() => (json = JSON.parse(r.stdout)), explain(r)).not.toThrow()
  expect(Object.keys(json).sort()).toEqual(["checks", "ok"])
  expect(json.checks.map((c: any) => c.id)).toEqual(IDS)
  for (const c of json.checks) {
    expect(["ok", "problem", "skipped"]).toContain(c.status)
    expect(typeof c.detail).toBe("string")
    if (c.status === "problem") {
      expect(Object.keys(c).sort()).toEqual(["cause", "detail", "id", "next", "status"])
      expect(CAUSES.has(c.cause), c.cause).toBe(true)
      expect(c.next).not.toMatch(/\n/)
    } else {
      expect(Object.keys(c).sort()).toEqual(["detail", "id", "status"])
    }
  }
  expect(json.ok).toBe(!json.checks.some((c: any) => c.status === "problem"))
  const by = Object.fromEntries(json.checks.map((c: any) => [c.id, c])) as Record<string, any>
  return { r, json, by }
}

/** A home logged in with real tokens from `emu` (Qwen Code's file, as a Qwen Code login leaves it). */
const loggedIn = async (emu: Emu) => {
  const home = tempHome()
  const tokens = await realTokens(emu)
  writeQwenCreds(home, tokens, Date.now() + 6 * HOUR)
  // One run of `token` writes qwen-auth's own copy, so the files agree before doctor looks.
  const t = await cli(home, ["token"], emu)
  expect(t.code, explain(t)).toBe(0)
  return { home, tokens }
}

const noSecrets = (text: string, tokens: { access_token: string; refresh_token: string }) => {
  expect(text).not.toContain(tokens.access_token)
  expect(text).not.toContain(tokens.refresh_token)
  expect(text).not.toContain("qwen-auth-doctor-probe-")
}

describe("qwen-auth doctor", () => {
  it("finds nothing wrong with a good login against a working server: exit 0, no file touched, probe not counted as rejected", async () => {
    const emu = await emulator()
    const { home, tokens } = await loggedIn(emu)
    const before = treeSnapshot(home.path)
    const statsBefore = await emu.stats()
    const { r, json, by } = await doctor(home, emu)
    expect(r.code, explain(r)).toBe(0)
    expect(json.ok).toBe(true)
    expect(by.files.status).toBe("ok")
    expect(by["oauth-server"]).toMatchObject({ status: "ok" })
    expect(by["oauth-server"].detail).toContain("invalid_grant")
    expect(by.api.status).toBe("ok")
    expect(by.api.detail).toMatch(/HTTP 200 \(models: .*coder-model/)
    expect(by.openclaw.status).toBe("skipped")
    expect(by["qwen-code"].status).toBe("ok")
    expect(treeSnapshot(home.path)).toEqual(before)
    const stats = await emu.stats()
    expect(stats.refreshRejected).toBe(0)
    expect(stats.refreshUnknown - statsBefore.refreshUnknown).toBe(1)
    expect(stats.refreshGrants).toBe(statsBefore.refreshGrants)
    expect(stats.deviceAuthorizations).toBe(statsBefore.deviceAuthorizations)
    noSecrets(r.stdout + r.stderr, tokens)

    const human = await cli(home, ["doctor"], emu, NO_OPENCLAW)
    expect(human.code, explain(human)).toBe(0)
    expect(human.stdout).toMatch(/^ok +files +/m)
    expect(human.stdout).toMatch(/^skipped +openclaw +OpenClaw not found/m)
    expect(human.stdout).toContain("No problems found.")
  })

  it("names service-rejects-tokens when the service is discontinued, after one persisted refresh", async () => {
    const emu = await emulator()
    const { home, tokens } = await loggedIn(emu)
    await setMode(emu, "discontinued")
    const statsBefore = await emu.stats()
    const credsBefore = readJson(home.creds)
    const { r, by } = await doctor(home, emu)
    expect(r.code, explain(r)).toBe(1)
    expect(by.api).toMatchObject({ status: "problem", cause: "service-rejects-tokens", next: "openclaw models auth login --provider openrouter" })
    expect(by.api.detail).toContain("2026-04-15")
    expect(by.api.detail).toContain("invalid access token or token expired")
    expect(by.api.detail).toMatch(/issued \d+ s earlier/)
    // The OAuth server itself still works in this mode.
    expect(by["oauth-server"].status).toBe("ok")
    const stats = await emu.stats()
    // Exactly the one forced refresh, and it was persisted: the files hold the new chain.
    expect(stats.refreshGrants - statsBefore.refreshGrants).toBe(1)
    expect(stats.refreshRejected).toBe(0)
    expect(stats.apiUnauthorized - statsBefore.apiUnauthorized).toBe(2)
    const credsAfter = readJson(home.creds)
    expect(credsAfter.refresh_token).not.toBe(credsBefore.refresh_token)
    expect(readJson(home.own).refresh_token ?? readJson(home.own).refreshToken).toBeDefined()
    noSecrets(r.stdout + r.stderr, tokens)
    noSecrets(r.stdout + r.stderr, credsAfter)

    // Run again: the same answer, one more refresh at most, still nothing rejected.
    const again = await doctor(home, emu)
    expect(again.r.code).toBe(1)
    expect(again.by.api.cause).toBe("service-rejects-tokens")
    expect((await emu.stats()).refreshRejected).toBe(0)

    const human = await cli(home, ["doctor"], emu, NO_OPENCLAW)
    expect(human.code).toBe(1)
    expect(human.stdout).toMatch(/^problem +api +service-rejects-tokens: /m)
    expect(human.stdout).toMatch(/^ +next: openclaw models auth login --provider openrouter$/m)
  })

  it("names endpoint-not-found when the OAuth endpoints answer 404 with an HTML page", async () => {
    const emu = await emulator()
    const { home } = await loggedIn(emu)
    await setMode(emu, "moved")
    const before = treeSnapshot(home.path)
    const { r, by } = await doctor(home, emu)
    expect(r.code, explain(r)).toBe(1)
    expect(by["oauth-server"]).toMatchObject({ status: "problem", cause: "endpoint-not-found" })
    expect(by["oauth-server"].detail).toContain("HTTP 404")
    expect(by["oauth-server"].detail).toContain("HTML page")
    expect(by["oauth-server"].next).toMatch(/^qwen-auth doctor --oauth-base-url /)
    // The token is fresh: the API is still asked, and still answers.
    expect(by.api.status).toBe("ok")
    expect(treeSnapshot(home.path)).toEqual(before)
    expect((await emu.stats()).refreshRejected).toBe(0)
  })

  it("names client-refused when the server rejects the client id", async () => {
    const emu = await emulator()
    const { home } = await loggedIn(emu)
    await setMode(emu, "reject-client")
    const before = treeSnapshot(home.path)
    const { r, by } = await doctor(home, emu)
    expect(r.code, explain(r)).toBe(1)
    expect(by["oauth-server"]).toMatchObject({ status: "problem", cause: "client-refused" })
    expect(by["oauth-server"].detail).toContain("invalid_client")
    expect(by["oauth-server"].next).toMatch(/^qwen-auth doctor --client-id /)
    expect(treeSnapshot(home.path)).toEqual(before)
    expect((await emu.stats()).refreshRejected).toBe(0)
  })

  it("exits 4 with login-required when the server revoked the login (the one refusal is the user's token, not the probe)", async () => {
    const emu = await emulator()
    const { home } = await loggedIn(emu)
    await emu.revoke()
    const { r, by } = await doctor(home, emu)
    expect(r.code, explain(r)).toBe(4)
    expect(by.api).toMatchObject({ status: "problem", cause: "login-required", next: "qwen-auth login" })
    expect(by["oauth-server"].status).toBe("ok")
    const stats = await emu.stats()
    // Revoked tokens were issued by the emulator: the refresh of the user's token counts, the probe does not.
    expect(stats.refreshRejected).toBeGreaterThanOrEqual(1)
    expect(stats.refreshUnknown).toBe(1)
    // No credentials deleted.
    expect(readJson(home.creds).refresh_token).toBeDefined()
  })

  it("exits 4 when nobody is logged in, and 1 (unreachable, naming host and route) when the server is not there either", async () => {
    const emu = await emulator()
    const home = tempHome()
    const { r, by } = await doctor(home, emu)
    expect(r.code, explain(r)).toBe(4)
    expect(by.files).toMatchObject({ status: "problem", cause: "login-required", next: "qwen-auth login" })
    expect(by.api.status).toBe("skipped")
    expect(by["qwen-code"].status).toBe("skipped")

    const closed = await doctor(home, { url: "http://127.0.0.1:9" })
    expect(closed.r.code, explain(closed.r)).toBe(1)
    expect(closed.by["oauth-server"]).toMatchObject({ status: "problem", cause: "unreachable" })
    expect(closed.by["oauth-server"].detail).toContain("host 127.0.0.1:9, direct (no proxy)")
    expect(closed.by["oauth-server"].detail).toContain("ECONNREFUSED")
  })

  it("names a file it cannot parse without touching it, and a loose mode with its chmod", async () => {
    const emu = await emulator()
    const { home } = await loggedIn(emu)
    mkdirSync(home.agent, { recursive: true })
    const broken = "{ not json"
    writeSecret(home.profiles, broken)
    const { r, by } = await doctor(home, emu)
    expect(r.code, explain(r)).toBe(1)
    expect(by.files).toMatchObject({ status: "problem", cause: "file-problem" })
    expect(by.files.detail).toContain(home.profiles)
    expect(readFileSync(home.profiles, "utf8")).toBe(broken)

    const other = await loggedIn(emu)
    chmodSync(other.home.creds, 0o644)
    const loose = await doctor(other.home, emu)
    expect(loose.by.files).toMatchObject({ status: "problem", cause: "file-problem", next: `chmod 600 ${other.home.creds}` })
    expect(loose.r.code).toBe(1)
  })

  it("reports OpenClaw's release, store and whether qwen-auth's plugin is loaded", async () => {
    const emu = await emulator()
    const { home } = await loggedIn(emu)
    const env = { OPENCLAW_BIN: fakeOpenClaw, OPENCLAW_FAKE_VERSION: "2026.9.6" }
    const before = await doctor(home, emu, env)
    expect(before.by.openclaw).toMatchObject({ status: "problem", cause: "plugin-not-loaded", next: "qwen-auth setup-openclaw" })
    expect(before.by.openclaw.detail).toContain("OpenClaw 2026.9.6")
    const setup = await runNode(installedCli, ["setup-openclaw"], { env: envFor(home, emu, env), timeoutMs: 60_000 })
    expect(setup.code, explain(setup)).toBe(0)
    const after = await doctor(home, emu, env)
    expect(after.by.openclaw.status, JSON.stringify(after.by.openclaw)).toBe("ok")
    expect(after.by.openclaw.detail).toMatch(/OpenClaw 2026\.9\.6, .*plugin loaded/)
    expect(after.r.code).toBe(0)
  })
})
