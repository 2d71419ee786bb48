/**
 * The load order of the fast paths (docs/benchmarks.md, issue 16): `status` and a fresh-token
 * `token` load their own bundle and its shared chunks, and nothing the start-up profile showed
 * they do not need — effect/cli's command runner, the token actor, undici, json5,
 * proper-lockfile, the Effect modules only the package barrel dragged in, and the builtins of
 * hashing, spawning, TLS and HTTP. Judged by the files and builtins a run loads, never by time;
 * each case also checks what the user sees.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { writeAgentStore } from "../support/openclawSqlite.ts"
import { cliPath, makeTempDir, repoRoot, runNode, scrubbedEnv } from "../support/processes.ts"

const preload = join(repoRoot, "test/fixtures/record-loads.mjs")
const builtinsPreload = "data:text/javascript,process.on('exit',()=>process.getBuiltinModule('node:fs')" +
  ".writeFileSync(process.env.QWEN_AUTH_TEST_BUILTINS,process.moduleLoadList.join('\\n')))"
const dist = join(repoRoot, "dist")

const root = makeTempDir("qwen-auth-startup-fast-")
afterAll(root.cleanup)

const ACCESS = "fast-path-access"
const expires = Date.now() + 6 * 3_600_000

/** A home whose copies all agree (seeded by one `token` run), with a daemon record. */
const seededHome = async (name: string, sqlite: boolean): Promise<string> => {
  const home = join(root.path, name)
  mkdirSync(join(home, ".qwen"), { recursive: true, mode: 0o700 })
  writeFileSync(join(home, ".qwen/oauth_creds.json"), JSON.stringify({
    access_token: ACCESS,
    token_type: "Bearer",
    refresh_token: "fast-path-refresh",
    expiry_date: expires
  }), { mode: 0o600 })
  if (sqlite) {
    writeAgentStore(join(home, ".openclaw/agents/main/agent/openclaw-agent.sqlite"), {
      access: ACCESS,
      refresh: "fast-path-refresh",
      expires
    })
  }
  writeFileSync(join(home, ".qwen/qwen-auth-daemon.json"), JSON.stringify({
    pid: 1,
    startedAt: new Date().toISOString(),
    lastRefreshAt: null,
    nextRefreshAt: new Date(expires - 300_000).toISOString(),
    lastError: null
  }), { mode: 0o600 })
  const seed = await runNode(cliPath, ["token"], { env: scrubbedEnv(home) })
  expect(seed.code, seed.stderr).toBe(0)
  return home
}

let n = 0
/** Runs the CLI; returns the result, the dist files it loaded (in order), their text and the builtins. */
const traced = async (home: string, args: ReadonlyArray<string>) => {
  const loads = join(root.path, `loads-${n}.txt`)
  const builtins = join(root.path, `builtins-${n++}.txt`)
  writeFileSync(loads, "")
  const r = await runNode("--import", [preload, "--import", builtinsPreload, cliPath, ...args], {
    env: scrubbedEnv(home, { QWEN_AUTH_TEST_LOADS: loads, QWEN_AUTH_TEST_BUILTINS: builtins })
  })
  const paths = readFileSync(loads, "utf8").split("\n").filter((l) => l.startsWith("load file:"))
    .map((l) => fileURLToPath(l.slice(5)))
  return {
    r,
    files: paths.map((p) => relative(dist, p)),
    text: paths.map((p) => readFileSync(p, "utf8")).join("\n"),
    builtins: readFileSync(builtins, "utf8").split("\n")
  }
}

/** Dist files a fast path may load: the entry, its own small chunks, its bundle and the bundle's chunks. */
const allowedFile = (bundle: "status.js" | "token.js") => (file: string) =>
  file === "cli.js" || file === `cli/${bundle}` || /^cli\/chunk-[A-Z0-9]+\.js$/.test(file) ||
  /^cli\/fast-chunk-[A-Z0-9]+\.js$/.test(file)

/** Markers of code the profile showed a fast path does not need (type ids and messages in its text). */
const UNNEEDED_CODE = [
  "~effect/cli/Command", // effect/cli's command runner (Program.ts)
  "qwen-auth/token/TokenManager", // the token actor
  "llhttp", // undici
  "JSON5:", // json5 (and proper-lockfile, undici: files under cli/vendor/, which no allowed file is)
  "uqr", // the login command's QR codes
  // Effect modules that came only through the package barrel (`import { X } from "effect"`).
  "~effect/crypto/",
  "~effect/Cron",
  "~effect/SemVer",
  "~effect/BigDecimal",
  "~effect/DateTime",
  "~effect/Graph",
  "~effect/ExecutionPlan"
]

const UNNEEDED_BUILTINS = ["crypto", "child_process", "readline", "tls", "http", "https", "zlib"]

let jsonHome = ""
let sqliteHome = ""
beforeAll(async () => {
  jsonHome = await seededHome("json", false)
  sqliteHome = await seededHome("sqlite", true)
})

describe("start-up: the fast paths load only what they run", () => {
  for (const [label, home] of [["JSON store", () => jsonHome], ["SQLite store", () => sqliteHome]] as const) {
    for (const command of ["status", "token"] as const) {
      it(`${command} (${label})`, async () => {
        const args = command === "status" ? ["status", "--json"] : ["token"]
        const { r, files, text, builtins } = await traced(home(), args)
        expect(r.code, r.stderr).toBe(0)
        if (command === "status") {
          expect(JSON.parse(r.stdout)).toMatchObject({ loggedIn: true, state: "fresh", problems: [] })
        } else {
          expect(r.stdout).toBe(`${ACCESS}\n`)
        }
        expect(files[0]).toBe("cli.js")
        expect(files).toContain(`cli/${command}.js`)
        expect(files.filter((f) => !allowedFile(`${command}.js`)(f))).toEqual([])
        expect(text).toContain("qwen-auth/store/CredentialStore") // the loaded code is really listed
        for (const marker of UNNEEDED_CODE) expect(text, marker).not.toContain(marker)
        expect(builtins).toContain("NativeModule fs") // the list is real
        for (const name of UNNEEDED_BUILTINS) expect(builtins, name).not.toContain(`NativeModule ${name}`)
        if (label === "JSON store") expect(builtins).not.toContain("NativeModule sqlite")
      })
    }
  }

  it("a token due for refresh loads the actor and undici (that run pays for them)", async () => {
    const home = join(root.path, "due")
    mkdirSync(join(home, ".qwen"), { recursive: true, mode: 0o700 })
    writeFileSync(join(home, ".qwen/oauth_creds.json"), JSON.stringify({
      access_token: "due-access",
      token_type: "Bearer",
      refresh_token: "due-refresh",
      expiry_date: Date.now() + 60_000
    }), { mode: 0o600 })
    // No server listens here: the refresh fails fast, with the token still valid > 30 s.
    const { r, files } = await traced(home, ["token", "--oauth-base-url", "http://127.0.0.1:9"])
    expect(r.stdout).toBe("due-access\n")
    expect(r.stderr).toContain("warning: refresh failed")
    expect(files.some((f) => /^cli\/fast-TokenRefresh-/.test(f))).toBe(true)
    expect(files).toContain("cli/vendor/undici.cjs")
    expect(files.some((f) => f.startsWith("cli/Program-"))).toBe(false) // still no effect/cli runner
  })
})
