/**
 * A hostile OAuth server driven through the real built CLI (issue 13). The server echoes every
 * secret it received (device code, PKCE verifier, refresh token, the access token it issued) in
 * every field it controls — `error`, `error_description`, a 429 `message`, HTML 4xx bodies — puts
 * terminal escapes in every printed field (`user_code`, `verification_uri`, `error`,
 * `resource_url`'s path), offers odd URLs (plain http, userinfo) and bare 429s while polling.
 * `login`, `token` and `status` run with and without `--json`, at `--verbose`; every stdout and
 * stderr is scanned for each secret by value and for escape bytes, and the files written for
 * terminal bytes. The only secret any output may hold is the current access token, as the whole
 * of `token`'s stdout.
 */
import { randomBytes } from "node:crypto"
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { scrubbedEnv } from "../support/processes.ts"
import {
  deviceAnswer,
  DEVICE_PATH,
  echoOf,
  ESCAPES,
  filesHolding,
  type HostileHandler,
  type HostileServer,
  leaks,
  type Output,
  seedTokens,
  startHostile,
  tokenAnswer,
  TOKEN_PATH
} from "./support/hostile.ts"
import { type Home, makeHome, runCli } from "./support/home.ts"

const token = () => randomBytes(32).toString("base64url")

const homes: Array<Home> = []
const servers: Array<HostileServer> = []
afterAll(async () => {
  for (const s of servers) await s.stop()
  for (const h of homes) h.cleanup()
})

const freshHome = () => {
  const home = makeHome("qwen-auth-hostile-")
  homes.push(home)
  return home
}

const hostile = async (handler: HostileHandler) => {
  const server = await startHostile(handler)
  servers.push(server)
  return server
}

/** A folder with a fake `xdg-open` that records the URL it was asked to open (never opens it). */
const fakeBrowser = (home: Home) => {
  const bin = join(home.path, "bin")
  mkdirSync(bin, { recursive: true })
  const record = join(home.path, "opened.txt")
  writeFileSync(join(bin, "xdg-open"), `#!/bin/sh\nprintf '%s\\n' "$1" >> '${record}'\n`)
  chmodSync(join(bin, "xdg-open"), 0o755)
  return { bin, opened: () => (existsSync(record) ? readFileSync(record, "utf8") : undefined) }
}

const envOf = (home: Home, server: HostileServer, browser?: ReturnType<typeof fakeBrowser>) => {
  const env = scrubbedEnv(home.path, { QWEN_OAUTH_BASE_URL: server.url, QWEN_AUTH_LOG_LEVEL: "debug" })
  return browser === undefined
    ? { ...env, QWEN_AUTH_NO_BROWSER: "1" }
    : { ...env, PATH: `${browser.bin}:${env.PATH}`, DISPLAY: ":0" }
}

/** Runs the CLI at `--verbose`, labelled for the leak report. */
const run = async (label: string, args: ReadonlyArray<string>, env: Record<string, string>, allowedOnStdout?: string) => {
  const r = await runCli([...args, "--verbose"], env, 60_000)
  const output: Output = { label: `${label}: ${args.join(" ")} (exit ${r.code})`, stdout: r.stdout, stderr: r.stderr, allowedOnStdout }
  return { ...r, output }
}

/** Every secret the server has seen or issued. */
const secretsOf = (server: HostileServer, issued: ReadonlyArray<string>) => [...new Set([...server.received(), ...issued])]

// -------------------------------------------------------------------------------------------------
// login: polls that echo the device code and the verifier

describe("login against a server echoing the device code and PKCE verifier", () => {
  const DEVICE = token()
  /** Poll answers, each built from the form the poll carried. */
  const answers: ReadonlyArray<[string, (form: Readonly<Record<string, string>>, polls: number) => { status: number; headers?: Record<string, string>; body?: unknown }]> = [
    ["error and error_description", (f) => ({
      status: 400,
      body: { error: `invalid_request ${f["device_code"]} ${f["code_verifier"]}`, error_description: echoOf([f["device_code"]!, f["code_verifier"]!]) }
    })],
    ["an HTML 403", (f) => ({ status: 403, body: `<html><body><h1>Forbidden</h1><pre>${echoOf([f["device_code"]!, f["code_verifier"]!])}</pre></body></html>` })],
    ["a 5xx (retried, a warning line) then an unbounded error of escapes", (f, n) =>
      n === 1
        ? { status: 503, body: { error: "temporarily_unavailable", error_description: echoOf([f["device_code"]!, f["code_verifier"]!]) } }
        : { status: 400, body: { error: `${ESCAPES}${"x".repeat(5000)}`, error_description: `${ESCAPES}${"y".repeat(5000)}` } }],
    ["invalid_client", (f) => ({ status: 401, body: { error: "invalid_client", error_description: echoOf([f["code_verifier"]!, f["device_code"]!]) } })],
    ["access_denied", (f) => ({ status: 400, body: { error: "access_denied", error_description: echoOf([f["device_code"]!]) } })],
    ["invalid_grant", (f) => ({ status: 400, body: { error: "invalid_grant", error_description: echoOf([f["code_verifier"]!]) } })],
    ["a 429 quota message", (f) => ({ status: 429, body: { error: "insufficient_quota", error_description: `quota exceeded ${echoOf([f["device_code"]!])}` } })],
    ["a 200 with an access token full of escapes", () => tokenAnswer(`AT${ESCAPES}`, token())]
  ]

  for (const [what, answer] of answers) {
    it(`${what}: no secret and no escape byte in any output`, async () => {
      // With and without --json, side by side (separate homes and servers).
      await Promise.all([false, true].map(async (json) => {
        const outputs: Array<Output> = []
        const home = freshHome()
        let polls = 0
        const server = await hostile((req, s) => {
          if (req.path === DEVICE_PATH) return deviceAnswer(s, DEVICE)
          if (req.path === TOKEN_PATH) return answer(req.form, ++polls)
          return undefined
        })
        const r = await run(what, ["login", "--no-browser", "--no-qr", ...(json ? ["--json"] : [])], envOf(home, server))
        expect(r.code, r.output.label + r.stderr).not.toBe(0)
        expect(server.polls().length).toBeGreaterThan(0)
        if (json) expect(() => JSON.parse(r.stdout), r.stdout).not.toThrow()
        outputs.push(r.output)
        // Nothing was saved from a failed login.
        expect(existsSync(home.creds)).toBe(false)
        expect(leaks(outputs, secretsOf(server, [DEVICE]))).toEqual([])
      }))
    })
  }
})

// -------------------------------------------------------------------------------------------------
// login: bare 429s, and a resource_url path full of escapes

describe("login against a server rate-limiting the polls", () => {
  it("a bare 429 while polling backs off like slow_down (+5 s) instead of ending the login", async () => {
    const home = freshHome()
    const DEVICE = token()
    const access = token()
    const refresh = token()
    let polls = 0
    const server = await hostile((req, s) => {
      if (req.path === DEVICE_PATH) return deviceAnswer(s, DEVICE)
      if (req.path !== TOKEN_PATH) return undefined
      // A gateway's rate limit: no body at all, an absurd Retry-After. (A 429 echoing the secrets
      // while polling: secrets.test.ts; Retry-After honoured and capped: Poller.test.ts.)
      polls++
      if (polls === 1) return { status: 429, headers: { "retry-after": "999999999999" }, body: "" }
      return tokenAnswer(access, refresh, { resource_url: `${s.url}/v1${ESCAPES}` })
    })
    const r = await run("429", ["login", "--no-browser", "--no-qr", "--json"], envOf(home, server))
    expect(r.code, r.stderr).toBe(0)
    const times = server.polls().map((p) => p.atMs)
    expect(times).toHaveLength(2)
    // interval 1 s → 6 s (RFC 8628 slow_down); the absurd Retry-After is not honoured.
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(5_500)
    expect(times[1]! - times[0]!).toBeLessThan(30_000)
    expect(r.stderr).toContain("Qwen asked to poll more slowly")
    expect(r.stderr).not.toContain("999999999999")
    const status = await run("429", ["status"], envOf(home, server))
    const statusJson = await run("429", ["status", "--json"], envOf(home, server))
    expect(status.code).toBe(0)
    const outputs = [r.output, status.output, statusJson.output]
    expect(leaks(outputs, secretsOf(server, [DEVICE, access, refresh]))).toEqual([])
    // The resource_url path is kept as a URL, percent-encoded, in every file (openclaw.json too).
    expect(filesHolding(home.path)).toEqual([])
    const config = JSON.parse(readFileSync(join(home.path, ".openclaw/openclaw.json"), "utf8"))
    expect(config.models.providers["qwen-portal"].baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1%1B\[2J/)
    expect(JSON.parse(r.stdout).baseUrl).toBe(config.models.providers["qwen-portal"].baseUrl)
  }, 90_000)
})

// -------------------------------------------------------------------------------------------------
// login: hostile device answers

describe("login against hostile device answers", () => {
  const cases: ReadonlyArray<{
    what: string
    device: (s: HostileServer) => Record<string, unknown>
    poll?: Record<string, unknown>
    code: number
    says: string
    shown: boolean
  }> = [
    { what: "a user_code full of escapes", device: () => ({ user_code: `BCDF${ESCAPES}` }), code: 1, says: "user_code", shown: false },
    { what: "a lower-case, over-long user_code", device: () => ({ user_code: "enter-this-code-at-evil-example" }), code: 1, says: "user_code", shown: false },
    { what: "a plain-http verification_uri", device: () => ({ verification_uri: "http://evil.example/authorize" }), code: 1, says: "verification_uri", shown: false },
    {
      what: "a verification_uri_complete with userinfo",
      device: () => ({ verification_uri_complete: "https://chat.qwen.ai@evil.example/authorize?user_code=BCDF-GHJK" }),
      code: 1,
      says: "verification_uri_complete",
      shown: false
    },
    { what: "a javascript: verification_uri_complete", device: () => ({ verification_uri_complete: "javascript:alert(1)" }), code: 1, says: "verification_uri_complete", shown: false },
    {
      what: "verification URIs carrying escapes (shown and opened percent-encoded)",
      device: (s) => ({ verification_uri: `${s.url}/authorize${ESCAPES}`, verification_uri_complete: `${s.url}/a?c=\u202eKGHJ-FDCB\u202c&x=\u009b2J` }),
      poll: { error: "access_denied", error_description: ESCAPES },
      code: 4,
      says: "denied",
      shown: true
    },
    {
      what: "a login whose resource_url carries userinfo",
      device: () => ({}),
      poll: { access_token: token(), refresh_token: token(), token_type: "Bearer", expires_in: 3600, resource_url: "https://user:pw@portal.qwen.ai" },
      code: 1,
      says: "user name or password",
      shown: true
    }
  ]

  for (const c of cases) {
    it(`${c.what}: exit ${c.code}, nothing unsafe shown or opened`, async () => {
      await Promise.all([false, true].map(async (json) => {
        const outputs: Array<Output> = []
        const home = freshHome()
        const browser = fakeBrowser(home)
        const DEVICE = token()
        const server = await hostile((req, s) => {
          if (req.path === DEVICE_PATH) return deviceAnswer(s, DEVICE, c.device(s))
          if (req.path === TOKEN_PATH) return c.poll?.["access_token"] ? { status: 200, body: c.poll } : { status: 400, body: c.poll ?? {} }
          return undefined
        })
        const r = await run(c.what, ["login", "--no-qr", ...(json ? ["--json"] : [])], envOf(home, server, browser))
        expect(r.code, r.stderr).toBe(c.code)
        expect(r.stderr).toContain(c.says)
        expect(r.stderr.includes("To log in to Qwen"), r.stderr).toBe(c.shown)
        const opened = browser.opened()
        if (!c.shown) {
          expect(opened, "the browser was opened").toBeUndefined()
          expect(server.polls()).toHaveLength(0)
        } else {
          expect(opened).toBeDefined()
          outputs.push({ label: `${c.what}: the URL opened`, stdout: opened ?? "", stderr: "" })
        }
        expect(r.stderr).not.toContain("pw@")
        expect(r.stdout).not.toContain("pw@")
        // Nothing was saved from a refused login.
        expect(existsSync(home.creds)).toBe(false)
        outputs.push(r.output)
        expect(leaks(outputs, secretsOf(server, [DEVICE]))).toEqual([])
      }))
    })
  }

  it("a device endpoint error of escapes and 5,000 characters is escaped and cut", async () => {
    const home = freshHome()
    const server = await hostile((req) =>
      req.path === DEVICE_PATH ? { status: 400, body: { error: `${ESCAPES}${"e".repeat(5000)}`, error_description: `${ESCAPES}${"d".repeat(5000)}` } } : undefined
    )
    const outputs: Array<Output> = []
    for (const json of [false, true]) {
      const r = await run("device error", ["login", "--no-browser", "--no-qr", ...(json ? ["--json"] : [])], envOf(home, server))
      expect(r.code).toBe(1)
      expect(r.stderr.length, r.stderr).toBeLessThan(2_000)
      expect(r.stderr).not.toContain("e".repeat(250))
      outputs.push(r.output)
    }
    expect(leaks(outputs, [])).toEqual([])
  })
})

// -------------------------------------------------------------------------------------------------
// token and status: refreshes that echo the refresh token and the access token

describe("token and status against a refresh echoing the secrets", () => {
  const answers: ReadonlyArray<[string, (rt: string, at: string) => { status: number; headers?: Record<string, string>; body?: unknown }, "fails" | "prints"]> = [
    ["error and error_description", (rt, at) => ({ status: 400, body: { error: `invalid_request ${rt}`, error_description: echoOf([rt, at]) } }), "fails"],
    ["a 429 message with an absurd Retry-After", (rt, at) => ({ status: 429, headers: { "retry-after": "999999999999" }, body: { message: echoOf([rt, at]) } }), "fails"],
    ["a 429 HTML body", (rt) => ({ status: 429, body: `<html><body>Too many requests for ${rt} ${ESCAPES}</body></html>` }), "fails"],
    ["an HTML 403", (rt, at) => ({ status: 403, body: `<html><body><pre>${echoOf([rt, at])}</pre></body></html>` }), "fails"],
    ["an unbounded error of escapes", (rt) => ({ status: 400, body: { error: `${ESCAPES}${rt}${"x".repeat(5000)}` } }), "fails"],
    ["invalid_grant", (rt, at) => ({ status: 400, body: { error: "invalid_grant", error_description: echoOf([rt, at]) } }), "fails"],
    ["a 5xx (the current token is printed with a warning)", (rt, at) => ({ status: 502, body: { error_description: echoOf([rt, at]) } }), "prints"],
    ["a 200 whose access token carries escapes", () => tokenAnswer(`AT${ESCAPES}`, token()), "fails"],
    ["a 200 whose token_type carries CR/LF", () => tokenAnswer(token(), token(), { token_type: "Bearer\r\nX-Evil: 1" }), "fails"]
  ]

  for (const [what, answer, outcome] of answers) {
    it(`${what}: no secret and no escape byte in token, token --json, status, status --json`, async () => {
      const home = freshHome()
      const access = token()
      const refresh = token()
      // Inside the refresh margin with minutes left: `token` refreshes first.
      seedTokens(home, access, refresh, Date.now() + 120_000)
      const server = await hostile((req) =>
        req.path === TOKEN_PATH ? answer(req.form["refresh_token"] ?? "", access) : undefined
      )
      const env = envOf(home, server)
      const outputs: Array<Output> = []
      for (const args of [["token"], ["token", "--json"], ["status"], ["status", "--json"]]) {
        const isToken = args[0] === "token"
        const r = await run(what, args, env, isToken ? access : undefined)
        if (isToken) {
          if (outcome === "prints") {
            expect(r.code, r.stderr).toBe(0)
            expect(r.stderr).toContain("refresh failed")
          } else {
            expect(r.code, r.stderr).not.toBe(0)
            expect(r.stdout.includes(access), r.stdout).toBe(false)
          }
          if (args.includes("--json")) expect(() => JSON.parse(r.stdout), r.stdout).not.toThrow()
        }
        outputs.push(r.output)
      }
      expect(server.refreshes().length).toBeGreaterThan(0)
      // Whatever was saved (a rotated refresh token is kept) holds no terminal byte.
      expect(filesHolding(home.path)).toEqual([])
      expect(leaks(outputs, secretsOf(server, [access, refresh]))).toEqual([])
    })
  }
})

// -------------------------------------------------------------------------------------------------
// Files: escapes in what other programs wrote

describe("status and token on files carrying escapes", () => {
  it("a resource_url, a baseUrl and a default model full of escapes are shown escaped", async () => {
    const home = freshHome()
    const server = await hostile(() => undefined)
    seedTokens(home, token(), token(), Date.now() + 3_600_000, { resource_url: `http://127.0.0.1:1/v1${ESCAPES}` })
    const config = join(home.path, ".openclaw/openclaw.json")
    writeFileSync(config, JSON.stringify({
      agents: { defaults: { model: { primary: `qwen-portal/${ESCAPES}` } } },
      models: { providers: { "qwen-portal": { baseUrl: `https://portal.qwen.ai/v1${ESCAPES}` } } }
    }))
    const outputs: Array<Output> = []
    for (const args of [["status"], ["status", "--json"]]) {
      const r = await run("files", args, envOf(home, server))
      expect(r.code, r.stderr).toBe(0)
      if (args.includes("--json")) {
        // The same values, as JSON escapes: a program reading the JSON gets what the file held.
        expect(JSON.parse(r.stdout).baseUrl).toBe(`https://portal.qwen.ai/v1${ESCAPES}`)
      } else {
        expect(r.stdout).toContain("\\u001b[2J")
      }
      outputs.push(r.output)
    }
    expect(leaks(outputs, [])).toEqual([])
  })

  it("token never prints a stored access token outside RFC 6750's charset", async () => {
    const home = freshHome()
    const server = await hostile(() => undefined)
    const bad = `${token()}\u001b]0;pwned\u0007\nexport EVIL=1`
    seedTokens(home, bad, token(), Date.now() + 3_600_000)
    const outputs: Array<Output> = []
    for (const args of [["token"], ["token", "--json"]]) {
      const r = await run("file token", args, envOf(home, server))
      expect(r.code, r.stderr).toBe(4)
      expect(r.stdout).not.toContain("EVIL")
      outputs.push(r.output)
    }
    expect(leaks(outputs, [bad.slice(0, 43)])).toEqual([])
  })
})
