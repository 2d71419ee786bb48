/**
 * Start-up fixes (docs/benchmarks.md): the bundle loads only what a command needs, and keeps
 * Node's compile cache without ever failing for it. Speed itself is measured by `npm run bench`;
 * these tests check what makes it fast, by the files a run loads.
 */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { makeTempDir, runNode, cliPath, scrubbedEnv } from "../support/processes.ts"
import { qwenCodeHome } from "../support/qwenCodeHome.ts"
import { traced as trace } from "../support/startupTrace.ts"

const root = makeTempDir("qwen-auth-startup-")
afterAll(root.cleanup)

const home = qwenCodeHome(join(root.path, "home"), { access: "startup-test-access", refresh: "startup-test-refresh" })

const traced = (args: ReadonlyArray<string>) => trace(root.path, home, args)

describe("start-up", () => {
  it("answers --version without loading Effect or any command", async () => {
    const { r, files, text } = await traced(["--version"])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^qwen-auth v\d+\.\d+\.\d+\n$/)
    expect(files).toContain("cli.js")
    expect(text).not.toContain("effect/cli/")
  })

  it("runs status without the HTTP client, the token actor or other commands", async () => {
    const { r, text } = await traced(["status", "--json"])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ loggedIn: true, state: "fresh" })
    expect(text).toContain("qwen-auth/store/CredentialStore")
    expect(text).not.toContain("llhttp") // undici
    expect(text).not.toContain("qwen-auth/token/TokenManager")
    expect(text).not.toContain("uqr") // the login command's QR codes
    // A plain status skips effect/cli's command runner (StatusFast.ts).
    expect(text).not.toContain("~effect/cli/Command")
  })

  it("still runs status through effect/cli when the arguments need it (help)", async () => {
    const { r, text } = await traced(["status", "--help"])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain("qwen-auth status")
    expect(text).toContain("~effect/cli/Command")
  })

  it("builds effect/cli's grapheme segmenter only when text is measured (help), not for status", async () => {
    const status = await traced(["status", "--json"])
    expect(status.r.code, status.r.stderr).toBe(0)
    expect(status.segmenters).toBe(0)

    const help = await traced(["--help"])
    expect(help.r.code, help.r.stderr).toBe(0)
    expect(help.r.stdout).toContain("USAGE")
    expect(help.r.stdout).toContain("status")
    expect(help.r.stdout).toContain("token")
    expect(help.segmenters).toBeGreaterThan(0)
  })

  it("keeps compiled code in node-compile-cache under the OS temp folder", async () => {
    const tmp = join(root.path, "tmp")
    mkdirSync(tmp)
    const r = await runNode(cliPath, ["status", "--json"], { env: scrubbedEnv(home, { TMPDIR: tmp }) })
    expect(r.code, r.stderr).toBe(0)
    expect(readdirSync(tmp)).toContain("node-compile-cache")
  })

  it("still works when the compile cache folder cannot be created", async () => {
    const blocker = join(root.path, "not-a-dir")
    writeFileSync(blocker, "")
    // A path under a regular file cannot be created, even by root.
    const r = await runNode(cliPath, ["status", "--json"], { env: scrubbedEnv(home, { TMPDIR: join(blocker, "tmp") }) })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toBe("")
    expect(JSON.parse(r.stdout)).toMatchObject({ loggedIn: true })
  })
})
