/**
 * Secrets (issue 6): every command at `--verbose` and `QWEN_AUTH_LOG_LEVEL=debug`, on success and
 * on failure paths. No access, refresh or id token, device_code or code_verifier may appear in
 * any output — except the token `qwen-auth token` exists to print on stdout.
 *
 * Known values (from the files after each command) are matched exactly; unknown ones (device
 * codes, PKCE verifiers: 43-char base64url, like the emulator's tokens) by their shape.
 */
import { afterAll, describe, expect, it } from "vitest"
import { startEmulatorProcess } from "../support/emulator.ts"
import { envFor, makeHome, makeSecrets, runCli, seedLogin, storedTokens } from "./support/home.ts"
import { report } from "./support/seed.ts"

describe("no secret in any output at debug logging", () => {
  const home = makeHome()
  afterAll(() => home.cleanup())

  it("login, status, token, models, logout — successes and failures", async () => {
    const secrets = makeSecrets()
    const emu = await startEmulatorProcess(["--auto-approve-after", "1", "--interval", "1", "--access-ttl", "4"])
    try {
      const env = envFor(home, emu, { QWEN_AUTH_NO_BROWSER: "1" })
      const runs: Array<{ args: string; code: number | null; stdout: string; stderr: string; printsToken: boolean }> = []
      const run = async (args: Array<string>, printsToken = false) => {
        const r = await runCli([...args, "--verbose"], env)
        secrets.add(...storedTokens(home))
        runs.push({ args: args.join(" "), code: r.code, stdout: r.stdout, stderr: r.stderr, printsToken })
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
      const leaks = runs.flatMap((r) => {
        // `token` prints exactly its access token on stdout; nothing else of it may be secret.
        const stdout = r.printsToken ? r.stdout.replace(/^[A-Za-z0-9_-]{43}\n$/, "").replace(/"accessToken":\s*"[^"]*"/, "") : r.stdout
        return [...secrets.find(stdout), ...secrets.find(r.stderr)].map((s) => `${r.args}: ${s}`)
      })
      expect(leaks).toEqual([])
    } finally {
      await emu.stop()
    }
  }, 240_000)
})
