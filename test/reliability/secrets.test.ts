/**
 * Secrets (issues 6 and 13): every command at `--verbose` and `QWEN_AUTH_LOG_LEVEL=debug`, on
 * success and on failure paths, against the emulator and against a server that echoes every secret
 * it received in every field. No access, refresh or id token, device_code or code_verifier may
 * appear in any output — except the current access token, as the whole of `qwen-auth token`'s
 * stdout (or its `accessToken` field), and nowhere else.
 *
 * Known values (from the files after each command, and every form field the echoing server
 * received) are matched exactly; unknown ones (device codes, PKCE verifiers: 43-char base64url,
 * like the emulator's tokens) by their shape.
 */
import { readFileSync } from "node:fs"
import { randomBytes } from "node:crypto"
import { afterAll, describe, expect, it } from "vitest"
import { startEmulatorProcess } from "../support/emulator.ts"
import { scrubbedEnv } from "../support/processes.ts"
import { deviceAnswer, DEVICE_PATH, echoOf, seedTokens, startHostile, TOKEN_PATH } from "./support/hostile.ts"
import { envFor, type Home, makeHome, makeSecrets, runCli, type Secrets, seedLogin, storedTokens } from "./support/home.ts"
import { report } from "./support/seed.ts"

/** The access token the files hold now: the one `token` may print. */
const currentAccess = (home: Home): string | undefined => {
  try {
    return JSON.parse(readFileSync(home.creds, "utf8")).access_token
  } catch {
    return undefined
  }
}

interface Run {
  readonly args: string
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  /** `token`'s run: the access token current after it, the only secret its stdout may hold. */
  readonly printed: string | undefined
}

/**
 * The leaks in `runs`. The exception is exact: `token`'s stdout may be the current access token
 * and a newline, or JSON whose `accessToken` is that token; any other token-shaped line is a leak.
 */
const leaksIn = (runs: ReadonlyArray<Run>, secrets: Secrets) =>
  runs.flatMap((r) => {
    let stdout = r.stdout
    if (r.printed !== undefined) {
      stdout = stdout === `${r.printed}\n` ? "" : stdout.replace(`"accessToken": ${JSON.stringify(r.printed)}`, "\"accessToken\": \"\"")
    }
    return [...secrets.find(stdout), ...secrets.find(r.stderr)].map((s) => `${r.args}: ${s}`)
  })

describe("no secret in any output at debug logging", () => {
  const home = makeHome()
  afterAll(() => home.cleanup())

  it("login, status, token, models, logout — successes and failures", async () => {
    const secrets = makeSecrets()
    const emu = await startEmulatorProcess(["--auto-approve-after", "1", "--interval", "1", "--access-ttl", "4"])
    try {
      const env = envFor(home, emu, { QWEN_AUTH_NO_BROWSER: "1" })
      const runs: Array<Run> = []
      const run = async (args: Array<string>, printsToken = false) => {
        const r = await runCli([...args, "--verbose"], env)
        secrets.add(...storedTokens(home))
        runs.push({ args: args.join(" "), code: r.code, stdout: r.stdout, stderr: r.stderr, printed: printsToken ? currentAccess(home) : undefined })
        return r
      }
      const login = await run(["login", "--no-browser", "--no-qr"])
      expect(login.code, login.stderr).toBe(0)
      await run(["status"])
      await run(["status", "--json"])
      await run(["token"], true)
      await run(["token", "--json"], true)
      // Into the refresh window: `token` refreshes (a rotation) at debug level.
      await new Promise((r) => setTimeout(r, 2_500))
      await run(["token"], true)
      await run(["models", "list"])
      await run(["models", "list", "--json"])
      await run(["models", "set", "qwen"])
      await run(["login", "--no-browser", "--no-qr", "--json"])
      await run(["login", "--no-browser", "--no-qr", "--force", "--json"])
      // Failure paths: the server refuses every token.
      await emu.revoke()
      await new Promise((r) => setTimeout(r, 2_500))
      await run(["token"], true)
      await run(["token", "--json"], true)
      await run(["status", "--json"])
      // A Qwen Code login the server never issued (refused), and a broken file.
      const seeded = await seedLogin(home, emu, secrets)
      // The scanner itself must see a token and a token-shaped value.
      expect(secrets.find(`debug: ${seeded.refresh_token}`)).toHaveLength(1)
      expect(secrets.find(`device_code=${"Q".repeat(43)}`)).toHaveLength(1)
      await run(["logout"])
      await run(["status"])
      await run(["logout", "--all", "--json"])
      await run(["token"], true)
      await run(["login", "--no-browser", "--no-qr", "--timeout", "1s"])
      report("secrets", { commands: runs.length, exitCodes: runs.map((r) => `${r.args}=${r.code}`) })
      // The exception really is exact: another token-shaped line on token's stdout is a leak.
      const other = randomBytes(32).toString("base64url")
      expect(leaksIn([{ args: "token", code: 0, stdout: `${other}\n`, stderr: "", printed: currentAccess(home) }], secrets))
        .toHaveLength(1)
      expect(leaksIn(runs, secrets)).toEqual([])
    } finally {
      await emu.stop()
    }
  }, 240_000)
})

describe("no secret in any output when the server echoes every secret it received", () => {
  const homes: Array<Home> = []
  afterAll(() => homes.forEach((h) => h.cleanup()))

  it("login and token, with and without --json: error, error_description, a 429 message and an HTML 4xx body", async () => {
    const secrets = makeSecrets()
    const issuedDevice = randomBytes(32).toString("base64url")
    const issuedAccess = randomBytes(32).toString("base64url")
    const issuedRefresh = randomBytes(32).toString("base64url")
    secrets.add(issuedDevice, issuedAccess, issuedRefresh)
    /** What the server answers next; each answer echoes the secrets of the request it answers. */
    let mode = 0
    const answers = [
      (sent: ReadonlyArray<string>) => ({ status: 400, body: { error: `invalid_request ${sent.join(" ")}`, error_description: echoOf(sent) } }),
      (sent: ReadonlyArray<string>) => ({ status: 429, headers: { "retry-after": "999999999999" }, body: { message: echoOf(sent) } }),
      (sent: ReadonlyArray<string>) => ({ status: 403, body: `<html><body><h1>Forbidden</h1><p>${echoOf(sent)}</p></body></html>` }),
      (sent: ReadonlyArray<string>) => ({ status: 400, body: { error: "invalid_grant", error_description: echoOf(sent) } }),
      (sent: ReadonlyArray<string>) => ({ status: 401, body: { error: "invalid_client", error_description: echoOf(sent) } })
    ]
    const server = await startHostile((req, s) => {
      if (req.path === DEVICE_PATH) return deviceAnswer(s, issuedDevice)
      if (req.path !== TOKEN_PATH) return undefined
      // What this request carried; a refresh also echoes the access token it replaces.
      const sent = [req.form["device_code"], req.form["code_verifier"], req.form["refresh_token"]]
        .filter((v): v is string => v !== undefined)
      if (req.form["refresh_token"] !== undefined) sent.push(issuedAccess)
      return answers[mode]!(sent)
    })
    try {
      const runs: Array<Run> = []
      for (mode = 0; mode < answers.length; mode++) {
        for (const json of [false, true]) {
          const home = makeHome("qwen-auth-rel-echo-")
          homes.push(home)
          // Inside the refresh margin with minutes left: `token` refreshes first.
          seedTokens(home, issuedAccess, issuedRefresh, Date.now() + 120_000)
          const env = scrubbedEnv(home.path, { QWEN_OAUTH_BASE_URL: server.url, QWEN_AUTH_LOG_LEVEL: "debug", QWEN_AUTH_NO_BROWSER: "1" })
          const extra = json ? ["--json"] : []
          // The 429 is a slow-down while polling (the login goes on): such a login gives up at --timeout.
          const login = await runCli(["login", "--force", "--no-browser", "--no-qr", "--timeout", "3s", ...extra, "--verbose"], env)
          runs.push({ args: `[${mode}] login ${extra.join(" ")}`, code: login.code, stdout: login.stdout, stderr: login.stderr, printed: undefined })
          const token = await runCli(["token", ...extra, "--verbose"], env)
          runs.push({ args: `[${mode}] token ${extra.join(" ")}`, code: token.code, stdout: token.stdout, stderr: token.stderr, printed: currentAccess(home) })
          expect(token.code, token.stderr).not.toBe(0)
          secrets.add(...storedTokens(home))
        }
      }
      secrets.add(...server.received())
      expect(server.polls().length).toBeGreaterThan(0)
      expect(server.refreshes().length).toBeGreaterThan(0)
      expect(server.received()).toContain(issuedRefresh)
      report("secrets-echo", { commands: runs.length, exitCodes: runs.map((r) => `${r.args}=${r.code}`) })
      expect(leaksIn(runs, secrets)).toEqual([])
    } finally {
      await server.stop()
    }
  }, 240_000)
})
