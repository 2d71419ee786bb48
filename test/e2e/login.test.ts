/**
 * `qwen-auth login` end to end: the built CLI as a child process against the emulator process
 * (real time, loopback only), in a temp HOME with a scrubbed environment. Files are checked
 * against files.md, modes included.
 */
import { describe, expect, it } from "vitest"
import { spawn } from "node:child_process"
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import JSON5 from "json5"
import type { EmulatorProcess } from "../support/emulator.ts"
import { cliPath, nodeBin, repoRoot, type RunResult, runCli, scrubbedEnv } from "../support/processes.ts"
import { qwenProvider } from "../support/filesMd.ts"
import { insertedOnly } from "../store/openclaw/fixtures.ts"
import { afterThisTest, emulator, type Home, tempHome } from "./home.ts"

const HINT = "Default model available: qwen-portal/coder-model (use --set-default to apply)"
const LONG = 120_000

const login = (home: Home, emu: EmulatorProcess, args: ReadonlyArray<string> = [], timeoutMs = 90_000) =>
  runCli(["login", "--no-browser", ...args], {
    env: scrubbedEnv(home.path, { QWEN_OAUTH_BASE_URL: emu.url }),
    timeoutMs
  })

const readJson = (path: string): any => JSON.parse(readFileSync(path, "utf8"))
const mode = (path: string) => (statSync(path).mode & 0o777).toString(8)

const explain = (r: RunResult) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`

/** The provider entry files.md specifies, for an emulator at `url`. */
const provider = (url: string) => qwenProvider(`${url}/v1`)

/** The URL and code come first on stderr (RFC 8628 §3.3.1), before any other line. */
const expectDeviceFirst = (r: RunResult, url: string) => {
  const lines = r.stderr.split("\n")
  expect(lines[0]).toContain(`${url}/authorize`)
  expect(lines[1]).toMatch(/code: [A-Z0-9]{4}-[A-Z0-9]{4}$/)
}

/** No secret from the stored files appears in `text`. */
const expectNoSecrets = (text: string, home: Home) => {
  const creds = readJson(home.creds)
  for (const secret of [creds.access_token, creds.refresh_token]) {
    expect(typeof secret).toBe("string")
    expect(text).not.toContain(secret)
  }
}

describe("qwen-auth login (device flow against the emulator)", () => {
  it("logs in from an empty home and writes every file as files.md says", async () => {
    const emu = await emulator(["--auto-approve-after", "1", "--interval", "1"])
    const home = tempHome()
    const startedAt = Date.now()
    const r = await login(home, emu)
    expect(r.code, explain(r)).toBe(0)
    expect(r.stdout).toBe("")
    expectDeviceFirst(r, emu.url)
    expect(r.stderr).toContain("Not opening a browser (--no-browser)")
    expect(r.stderr).toContain("Logged in to Qwen")
    expect(r.stderr).toContain(HINT)
    // Not a terminal: no escape codes, no QR code.
    expect(r.stderr).not.toMatch(/\u001b/)
    expect(r.stderr).not.toContain("▀")

    const creds = readJson(home.creds)
    expect(creds.token_type).toBe("Bearer")
    expect(creds.resource_url).toBe(emu.url)
    expect(creds.access_token).toMatch(/\S+/)
    expect(creds.refresh_token).toMatch(/\S+/)
    expect(Number.isInteger(creds.expiry_date)).toBe(true)
    // Epoch milliseconds, about 6 h ahead (the emulator's default access TTL).
    expect(creds.expiry_date).toBeGreaterThan(startedAt + 21_600_000 - 120_000)
    expect(creds.expiry_date).toBeLessThan(Date.now() + 21_600_000 + 1_000)

    expect(readJson(home.profiles)).toEqual({
      version: 1,
      profiles: {
        "qwen-portal:default": {
          type: "oauth",
          provider: "qwen-portal",
          access: creds.access_token,
          refresh: creds.refresh_token,
          expires: creds.expiry_date
        }
      }
    })

    expect(readJson(home.config)).toEqual({
      plugins: { entries: { "qwen-portal-auth": { enabled: true } } },
      models: { providers: { "qwen-portal": provider(emu.url) } },
      agents: { defaults: { models: { "qwen-portal/coder-model": { alias: "qwen" }, "qwen-portal/vision-model": {} } } },
      auth: { profiles: { "qwen-portal:default": { provider: "qwen-portal", mode: "oauth" } } }
    })
    expect(readJson(home.models).providers["qwen-portal"]).toEqual(provider(emu.url))

    const state = readJson(home.state)
    expect(state.version).toBe(1)
    expect(state.issuedLifetimeSeconds).toBe(21600)
    expect(state.lastWrittenBaseUrl).toBe(`${emu.url}/v1`)
    expect(JSON.stringify(state)).not.toContain(creds.refresh_token)

    for (const file of [home.creds, home.state, home.profiles, home.config, home.models]) expect(mode(file)).toBe("600")
    for (const dir of [home.qwen, home.openclaw, join(home.openclaw, "agents"), join(home.openclaw, "agents/main"), home.agent]) {
      expect(mode(dir)).toBe("700")
    }
    expectNoSecrets(r.stderr, home)

    const stats = await emu.stats()
    expect(stats.deviceAuthorizations).toBe(1)
    expect(stats.deviceGrants).toBe(1)
    expect(stats.slowDowns).toBe(0)
  }, LONG)

  it("--json prints exactly one object listing what it wrote, and no token", async () => {
    const emu = await emulator(["--auto-approve-after", "1", "--interval", "1"])
    const home = tempHome()
    const r = await login(home, emu, ["--json", "--set-default", "--provider", "qwen-portal"])
    expect(r.code, explain(r)).toBe(0)
    const out = JSON.parse(r.stdout)
    const creds = readJson(home.creds)
    expect(out).toEqual({
      loggedIn: true,
      reused: false,
      expiresAt: new Date(creds.expiry_date).toISOString(),
      baseUrl: `${emu.url}/v1`,
      defaultModel: "qwen-portal/coder-model",
      wrote: expect.arrayContaining([home.profiles, home.creds, home.config, home.models]),
      pendingConfig: []
    })
    // Credentials first.
    expect(out.wrote.indexOf(home.profiles)).toBeLessThan(out.wrote.indexOf(home.config))
    expect(r.stderr).not.toContain(HINT)
    expectNoSecrets(r.stdout + r.stderr, home)
    expect(readJson(home.config).agents.defaults.model).toEqual({ primary: "qwen-portal/coder-model" })
  }, LONG)

  it("merges into a JSON5 config in place: keeps other providers, comments and its default; --set-default changes it", async () => {
    const emu = await emulator(["--auto-approve-after", "1", "--interval", "1"])
    const home = tempHome()
    mkdirSync(home.openclaw, { recursive: true })
    const original = `// my OpenClaw config
{
  models: {
    providers: {
      anthropic: { baseUrl: "https://api.anthropic.com", api: "anthropic-messages", models: [], }, // trailing commas
    },
  },
  agents: { defaults: { model: { primary: "anthropic/claude-opus", fallbacks: ["anthropic/claude-haiku"] } } },
  gateway: { port: 18789 },
}
`
    writeFileSync(home.config, original, { mode: 0o644 })

    const first = await login(home, emu)
    expect(first.code, explain(first)).toBe(0)
    expect(first.stderr).toContain(HINT)
    // Edited in place: the user's text is all still there, comments included.
    const text = readFileSync(home.config, "utf8")
    expect(insertedOnly(original, text), text).toBe(true)
    const config = JSON5.parse(text)
    expect(config.models.providers.anthropic).toEqual({ baseUrl: "https://api.anthropic.com", api: "anthropic-messages", models: [] })
    expect(config.models.providers["qwen-portal"]).toEqual(provider(emu.url))
    expect(config.gateway).toEqual({ port: 18789 })
    expect(config.agents.defaults.model).toEqual({ primary: "anthropic/claude-opus", fallbacks: ["anthropic/claude-haiku"] })
    expect(config.agents.defaults.models["qwen-portal/coder-model"]).toEqual({ alias: "qwen" })
    // The original (with its comments) is kept next to it, with its mode; the config keeps its mode.
    expect(readFileSync(`${home.config}.qwen-auth.bak`, "utf8")).toBe(original)
    expect(mode(`${home.config}.qwen-auth.bak`)).toBe("644")
    expect(mode(home.config)).toBe("644")

    // A second run reuses the login (no second device flow) and applies the default.
    const second = await login(home, emu, ["--set-default", "--json"])
    expect(second.code, explain(second)).toBe(0)
    expect(second.stderr).toContain("Already logged in")
    expect(second.stderr).not.toContain("/authorize")
    const out = JSON.parse(second.stdout)
    expect(out.reused).toBe(true)
    expect(out.defaultModel).toBe("qwen-portal/coder-model")
    expect(out.wrote).toContain(home.config)
    const after = JSON5.parse(readFileSync(home.config, "utf8"))
    expect(after.agents.defaults.model).toEqual({ primary: "qwen-portal/coder-model", fallbacks: ["anthropic/claude-haiku"] })
    expect(after.models.providers.anthropic).toEqual(config.models.providers.anthropic)
    expect((await emu.stats()).deviceAuthorizations).toBe(1)
  }, LONG)

  it("never polls sooner than a slow_down asked: the emulator counts exactly the forced ones", async () => {
    const emu = await emulator(["--auto-approve-after", "1", "--interval", "1", "--slow-down-polls", "2"])
    const home = tempHome()
    const r = await login(home, emu)
    expect(r.code, explain(r)).toBe(0)
    expect(r.stderr).toContain("Qwen asked to poll more slowly")
    const stats = await emu.stats()
    expect(stats.slowDowns).toBe(2)
    expect(stats.deviceGrants).toBe(1)
  }, LONG)

  it("a denied login exits 4 and writes nothing", async () => {
    const emu = await emulator(["--deny", "--interval", "1"])
    const home = tempHome()
    const r = await login(home, emu)
    expect(r.code, explain(r)).toBe(4)
    expect(r.stderr).toContain("denied")
    expect(r.stdout).toBe("")
    for (const file of [home.creds, home.profiles, home.config, home.models, home.state]) {
      expect(() => statSync(file)).toThrow()
    }
  }, LONG)

  it("an expired device code exits 3 and writes nothing; --json reports the error", async () => {
    const emu = await emulator(["--device-code-ttl", "2", "--interval", "1"])
    const home = tempHome()
    const r = await login(home, emu, ["--json"])
    expect(r.code, explain(r)).toBe(3)
    expect(JSON.parse(r.stdout)).toEqual({ error: { tag: "ExpiredToken", message: expect.stringContaining("expired") } })
    for (const file of [home.creds, home.profiles, home.config]) expect(() => statSync(file)).toThrow()
  }, LONG)

  it("--timeout gives up before the code expires, with exit 3", async () => {
    const emu = await emulator(["--interval", "1"])
    const home = tempHome()
    const r = await login(home, emu, ["--timeout", "2s"])
    expect(r.code, explain(r)).toBe(3)
    expect(r.stderr).toContain("--timeout reached")
    expect(() => statSync(home.profiles)).toThrow()
  }, LONG)

  it("reuses a valid Qwen Code login without a device flow and writes the OpenClaw profile", async () => {
    const emu = await emulator(["--auto-approve-after", "1", "--interval", "1"])
    const home = tempHome()
    mkdirSync(home.qwen, { recursive: true, mode: 0o700 })
    const expiry = Date.now() + 3 * 3600 * 1000
    writeFileSync(
      home.creds,
      JSON.stringify({
        access_token: "qwen-code-access-e2e",
        token_type: "Bearer",
        refresh_token: "qwen-code-refresh-e2e",
        resource_url: "portal.qwen.ai",
        expiry_date: expiry,
        custom_field: "kept"
      }),
      { mode: 0o600 }
    )
    const r = await login(home, emu, ["--json"])
    expect(r.code, explain(r)).toBe(0)
    expect(r.stderr).toContain("Already logged in")
    const out = JSON.parse(r.stdout)
    expect(out).toMatchObject({
      loggedIn: true,
      reused: true,
      expiresAt: new Date(expiry).toISOString(),
      baseUrl: "https://portal.qwen.ai/v1"
    })
    expect(out.wrote).toEqual(expect.arrayContaining([home.profiles, home.config, home.models]))
    expectNoSecrets(r.stdout + r.stderr, home)
    expect(readJson(home.profiles).profiles["qwen-portal:default"]).toEqual({
      type: "oauth",
      provider: "qwen-portal",
      access: "qwen-code-access-e2e",
      refresh: "qwen-code-refresh-e2e",
      expires: expiry
    })
    expect(readJson(home.creds).custom_field).toBe("kept")
    expect(readJson(home.config).models.providers["qwen-portal"].baseUrl).toBe("https://portal.qwen.ai/v1")
    expect(mode(home.profiles)).toBe("600")
    const stats = await emu.stats()
    expect(stats.deviceAuthorizations).toBe(0)
    expect(stats.tokenPolls).toBe(0)

    // --force runs the device flow anyway and replaces the login everywhere.
    const forced = await login(home, emu, ["--force", "--json"])
    expect(forced.code, explain(forced)).toBe(0)
    expect(JSON.parse(forced.stdout).reused).toBe(false)
    expectDeviceFirst(forced, emu.url)
    const creds = readJson(home.creds)
    expect(creds.access_token).not.toBe("qwen-code-access-e2e")
    expect(creds.custom_field).toBe("kept")
    expect(readJson(home.profiles).profiles["qwen-portal:default"].access).toBe(creds.access_token)
    expect((await emu.stats()).deviceAuthorizations).toBe(1)
  }, LONG)

  it("refuses an unparsable openclaw.json before any device flow and leaves it byte-identical", async () => {
    const emu = await emulator(["--auto-approve-after", "1", "--interval", "1"])
    const home = tempHome()
    mkdirSync(home.openclaw, { recursive: true })
    const broken = "{ models: { providers: { \n  oops\n}\n"
    writeFileSync(home.config, broken)
    const r = await login(home, emu)
    expect(r.code, explain(r)).toBe(1)
    expect(r.stderr).toContain(home.config)
    expect(r.stderr).not.toContain("/authorize")
    expect(readFileSync(home.config, "utf8")).toBe(broken)
    for (const file of [home.creds, home.profiles, home.models]) expect(() => statSync(file)).toThrow()
    expect((await emu.stats()).deviceAuthorizations).toBe(0)
  }, LONG)
})

describe("qwen-auth login interrupted", () => {
  it("Ctrl-C while waiting for approval exits 130 and writes nothing", async () => {
    const emu = await emulator(["--interval", "1"])
    const home = tempHome()
    const child = spawn(nodeBin, [cliPath, "login", "--no-browser"], {
      env: scrubbedEnv(home.path, { QWEN_OAUTH_BASE_URL: emu.url }),
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"]
    })
    afterThisTest(() => child.kill("SIGKILL"))
    let stderr = ""
    let stdout = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`never started waiting:\n${stderr}`)), 30_000)
      child.stderr.setEncoding("utf8").on("data", (d: string) => {
        stderr += d
        if (stderr.includes("Waiting for approval")) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
    // Let it poll a few times, then interrupt.
    await new Promise((r) => setTimeout(r, 2_500))
    expect((await emu.stats()).tokenPolls).toBeGreaterThan(0)
    child.kill("SIGINT")
    expect(await exited).toBe(130)
    expect(stdout).toBe("")
    for (const file of [home.creds, home.profiles, home.config, home.models, home.state]) {
      expect(() => statSync(file)).toThrow()
    }
  }, LONG)
})

describe("qwen-auth login usage errors", () => {
  const usage = async (args: ReadonlyArray<string>) => {
    const home = tempHome()
    const r = await runCli(["login", ...args], {
      env: scrubbedEnv(home.path, { QWEN_OAUTH_BASE_URL: "http://127.0.0.1:9" })
    })
    expect(r.code, explain(r)).toBe(2)
    expect(r.stdout).toBe("")
    return r
  }

  it("rejects a malformed --timeout with exit 2", async () => {
    const r = await usage(["--timeout", "soon"])
    expect(r.stderr).toContain("--timeout")
  })

  it("accepts only --provider qwen-portal", async () => {
    const r = await usage(["--provider", "openai"])
    expect(r.stderr).toContain("--provider")
  })
})
