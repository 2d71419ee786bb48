/**
 * Start-up levers that defer work `status` does not need (docs/benchmarks.md): Node builtins it
 * never calls, and the JSON5 parser for a config that is plain JSON. Judged by what a run loads,
 * never by time; each case also checks the output a user sees.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { makeTempDir } from "../support/processes.ts"
import { qwenCodeHome } from "../support/qwenCodeHome.ts"
import { traced } from "../support/startupTrace.ts"

const root = makeTempDir("qwen-auth-startup-lazy-")
afterAll(root.cleanup)

let n = 0
/** A home with valid Qwen Code credentials and, if given, this `openclaw.json` text. */
const homeWith = (openclawJson?: string): string => {
  const home = qwenCodeHome(join(root.path, `home-${n++}`), { access: "lazy-test-access", refresh: "lazy-test-refresh" })
  if (openclawJson !== undefined) {
    mkdirSync(join(home, ".openclaw"), { recursive: true, mode: 0o700 })
    writeFileSync(join(home, ".openclaw/openclaw.json"), openclawJson)
  }
  return home
}

/** Runs `status --json`. */
const status = (home: string) => traced(root.path, home, ["status", "--json"])

/** In ConfigFile.ts's reading of json5's errors (the JSON5 path only). */
const JSON5_MESSAGE = "JSON5: "

const withDefaultModel = { agents: { defaults: { model: { primary: "qwen-portal/coder-model" } } } }

describe("start-up: deferred work", () => {
  it("status loads neither node:crypto nor node:child_process nor node:readline", async () => {
    const { r, builtins } = await status(homeWith())
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ loggedIn: true, state: "fresh" })
    expect(builtins).toContain("NativeModule fs") // the list is real
    expect(builtins).not.toContain("NativeModule crypto")
    expect(builtins).not.toContain("NativeModule child_process")
    expect(builtins).not.toContain("NativeModule readline")
  })

  it("status reads a plain-JSON openclaw.json without loading the JSON5 parser", async () => {
    const { r, files, ran } = await status(homeWith(JSON.stringify(withDefaultModel, null, 2)))
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ loggedIn: true, defaultModel: "qwen-portal/coder-model", problems: [] })
    expect(ran("qwen-auth/store/CredentialStore")).toBe(true) // the loaded code is really listed
    expect(files).not.toContain("cli/vendor/json5.cjs")
    expect(ran(JSON5_MESSAGE)).toBe(false) // ConfigFile.ts's JSON5 reader is in the bundle, not run
  })

  it("status still reads JSON5 syntax and names a broken file, loading the parser for them", async () => {
    const json5 = `// written by hand\n{ agents: { defaults: { model: { primary: 'qwen-portal/coder-model', }, }, }, }\n`
    const ok = await status(homeWith(json5))
    expect(ok.r.code, ok.r.stderr).toBe(0)
    expect(JSON.parse(ok.r.stdout)).toMatchObject({ defaultModel: "qwen-portal/coder-model", problems: [] })
    expect(ok.files).toContain("cli/vendor/json5.cjs")

    const broken = await status(homeWith("{ agents: "))
    expect(broken.r.code, broken.r.stderr).toBe(0) // the credentials are fine; the config is a problem
    const report = JSON.parse(broken.r.stdout)
    expect(report.defaultModel).toBeNull()
    expect(report.problems.join("\n")).toMatch(/openclaw\.json.*not valid JSON5 \(line 1, column \d+: /)
  })
})
