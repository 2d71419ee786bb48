import { readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { VERSION } from "../../src/internal/version.ts"
import { makeTempDir, repoRoot, runCli, scrubbedEnv } from "../support/processes.ts"

const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string }
const home = makeTempDir()
afterAll(home.cleanup)

describe("qwen-auth bundle", () => {
  it("keeps the source version equal to package.json", () => {
    expect(VERSION).toBe(pkg.version)
  })

  it("prints its version from the bundle", async () => {
    const r = await runCli(["--version"], { env: scrubbedEnv(home.path) })
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe(`qwen-auth v${pkg.version}`)
  })

  it("prints help on stdout", async () => {
    const r = await runCli(["--help"], { env: scrubbedEnv(home.path) })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("qwen-auth")
    expect(r.stdout).toContain("USAGE")
  })
})
