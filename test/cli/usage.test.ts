/**
 * Usage errors and `--json` failures of the built CLI (cli-contract.md "Output", "Exit codes"):
 * exit 2 with a short stderr message and nothing on stdout (or exactly one error object with
 * `--json`), never effect/cli's help dump or a stack trace.
 */
import { afterAll, describe, expect, it } from "vitest"
import { mkdirSync, readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { makeTempDir, type RunResult, runCli, scrubbedEnv } from "../support/processes.ts"

const home = makeTempDir("qwen-auth-usage-")
afterAll(home.cleanup)
const run = (args: ReadonlyArray<string>) => runCli(args, { env: scrubbedEnv(home.path), timeoutMs: 60_000 })
const explain = (r: RunResult) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`

/** stdout holds exactly one JSON object `{"error": {"tag", "message"}}`; returns it. */
const oneErrorObject = (r: RunResult): { tag: string; message: string } => {
  const out = JSON.parse(r.stdout)
  expect(Object.keys(out)).toEqual(["error"])
  expect(Object.keys(out.error).sort()).toEqual(["message", "tag"])
  expect(typeof out.error.tag).toBe("string")
  expect(out.error.message).toMatch(/\S/)
  return out.error
}

const expectShortUsageError = (r: RunResult, mention: string) => {
  expect(r.code, explain(r)).toBe(2)
  expect(r.stdout).toBe("")
  expect(r.stderr).toContain(mention)
  expect(r.stderr).not.toContain("USAGE")
  expect(r.stderr).not.toMatch(/\bat .*:\d+:\d+/)
  expect(r.stderr.trimEnd().split("\n").length).toBeLessThanOrEqual(3)
}

describe("usage errors", () => {
  const cases: ReadonlyArray<readonly [string, ReadonlyArray<string>, string]> = [
    ["an unknown command", ["frobnicate"], "frobnicate"],
    ["an unknown flag", ["status", "--bogus"], "--bogus"],
    ["an unknown flag on token", ["token", "--frob"], "--frob"],
    ["an unknown models subcommand", ["models", "delete"], "delete"],
    ["a missing argument", ["models", "set"], "ref"],
    ["a bad flag value", ["status", "--refresh-margin", "soon"], "refresh-margin"],
    ["a negative refresh margin", ["token", "--refresh-margin", "-5"], "refresh-margin"],
    ["a flag without its value", ["status", "--qwen-home"], "--qwen-home"],
    ["an extra argument", ["token", "now"], "now"],
    // effect/cli's interactive wizard would prompt; the contract never prompts without a TTY.
    ["the wizard built-in", ["login", "--wizard"], "--wizard"],
    ["the log-level built-in", ["status", "--log-level", "debug"], "--log-level"]
  ]
  for (const [what, args, mention] of cases) {
    it(`${what} exits 2 with a short message on stderr and nothing on stdout`, async () => {
      expectShortUsageError(await run(args), mention)
    })
  }

  it("with --json, prints exactly one error object on stdout", async () => {
    for (const args of [["status", "--bogus", "--json"], ["frobnicate", "--json"], ["logout", "--json", "--everything"]]) {
      const r = await run(args)
      expect(r.code, explain(r)).toBe(2)
      const error = oneErrorObject(r)
      expect(error.tag).toBe("UsageError")
    }
  })

  it("--help of a command prints its help on stdout and exits 0", async () => {
    const r = await run(["token", "--help"])
    expect(r.code, explain(r)).toBe(0)
    expect(r.stdout).toContain("qwen-auth token")
    expect(r.stdout).not.toMatch(/--wizard|--completions|--log-level/)
    expect(r.stderr).toBe("")
  })
})

describe("--json failures", () => {
  it("token --json without credentials: one error object, exit 4", async () => {
    const r = await run(["token", "--json"])
    expect(r.code, explain(r)).toBe(4)
    expect(oneErrorObject(r).tag).toBe("LoginRequired")
  })

  it("models list --json on an unparseable config: one error object naming the file, exit 1", async () => {
    const dir = makeTempDir("qwen-auth-usage-config-")
    try {
      const config = join(dir.path, ".openclaw/openclaw.json")
      mkdirSync(join(dir.path, ".openclaw"))
      writeFileSync(config, "{ models: ")
      const r = await runCli(["models", "list", "--json"], { env: scrubbedEnv(dir.path), timeoutMs: 60_000 })
      expect(r.code, explain(r)).toBe(1)
      expect(oneErrorObject(r).message).toContain(config)
      expect(readdirSync(join(dir.path, ".openclaw"))).toEqual(["openclaw.json"])
    } finally {
      dir.cleanup()
    }
  })
})
