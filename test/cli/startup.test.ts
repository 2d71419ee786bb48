/**
 * Start-up fixes (docs/benchmarks.md): the bundle loads only what a command needs, and keeps
 * Node's compile cache without ever failing for it. Speed itself is measured by `npm run bench`;
 * these tests check what makes it fast, by the files a run loads.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { makeTempDir, repoRoot, runNode, cliPath, scrubbedEnv } from "../support/processes.ts"

const preload = join(repoRoot, "test/fixtures/record-loads.mjs")
const root = makeTempDir("qwen-auth-startup-")
afterAll(root.cleanup)

const home = join(root.path, "home")
mkdirSync(join(home, ".qwen"), { recursive: true, mode: 0o700 })
writeFileSync(join(home, ".qwen/oauth_creds.json"), JSON.stringify({
  access_token: "startup-test-access",
  token_type: "Bearer",
  refresh_token: "startup-test-refresh",
  expiry_date: Date.now() + 6 * 3_600_000
}), { mode: 0o600 })

let n = 0
/** Runs the CLI with the preload; returns the result and what it loaded. */
const traced = async (args: ReadonlyArray<string>, extraEnv: Record<string, string> = {}) => {
  const log = join(root.path, `loads-${n++}.txt`)
  writeFileSync(log, "")
  const r = await runNode("--import", [preload, cliPath, ...args], {
    env: scrubbedEnv(home, { QWEN_AUTH_TEST_LOADS: log, ...extraEnv })
  })
  const lines = readFileSync(log, "utf8").split("\n").filter((l) => l !== "")
  const files = lines.filter((l) => l.startsWith("load ")).map((l) => fileURLToPath(l.slice(5)))
  return { r, files, segmenters: lines.filter((l) => l === "segmenter").length }
}

const loadedText = (files: ReadonlyArray<string>) => files.map((f) => readFileSync(f, "utf8")).join("\n")

describe("start-up", () => {
  it("answers --version without loading Effect or any command", async () => {
    const { r, files } = await traced(["--version"])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^qwen-auth v\d+\.\d+\.\d+\n$/)
    expect(files).toContain(cliPath)
    expect(loadedText(files)).not.toContain("effect/cli/")
  })

  it("runs status without the HTTP client, the token actor or other commands", async () => {
    const { r, files } = await traced(["status", "--json"])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ loggedIn: true, state: "fresh" })
    const text = loadedText(files)
    expect(text).toContain("qwen-auth/store/CredentialStore")
    expect(text).not.toContain("llhttp") // undici
    expect(text).not.toContain("qwen-auth/token/TokenManager")
    expect(text).not.toContain("uqr") // the login command's QR codes
    // A plain status skips effect/cli's command runner (StatusFast.ts).
    expect(text).not.toContain("~effect/cli/Command")
  })

  it("still runs status through effect/cli when the arguments need it (help)", async () => {
    const { r, files } = await traced(["status", "--help"])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain("qwen-auth status")
    expect(loadedText(files)).toContain("~effect/cli/Command")
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
