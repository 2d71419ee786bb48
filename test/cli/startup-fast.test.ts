/**
 * The load order of the fast paths (docs/benchmarks.md, issue 16): `status` and a fresh-token
 * `token` load the entry and their own bundle, and run nothing the start-up profile showed they
 * do not need — effect/cli's command runner, the token actor, undici, json5, proper-lockfile, the
 * Effect modules only the package barrel dragged in, and the builtins of hashing, spawning, TLS
 * and HTTP. `token`'s bundle holds its refresh code, initialized only when a refresh is due:
 * V8's coverage shows whether it ran. Judged by files, builtins and coverage, never by time; each
 * case also checks what the user sees.
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { writeAgentStore } from "../support/openclawSqlite.ts"
import { cliPath, makeTempDir, runNode, scrubbedEnv } from "../support/processes.ts"
import { qwenCodeHome } from "../support/qwenCodeHome.ts"
import { traced as trace } from "../support/startupTrace.ts"

const root = makeTempDir("qwen-auth-startup-fast-")
afterAll(root.cleanup)

const ACCESS = "fast-path-access"
const expires = Date.now() + 6 * 3_600_000

/** A home whose copies all agree (seeded by one `token` run), with a daemon record. */
const seededHome = async (name: string, sqlite: boolean): Promise<string> => {
  const home = qwenCodeHome(join(root.path, name), { access: ACCESS, refresh: "fast-path-refresh" }, expires)
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

const traced = (home: string, args: ReadonlyArray<string>) => trace(root.path, home, args)

/** Dist files a fast path may load: the entry, its own small chunks and its bundle. */
const allowedFile = (command: "status" | "token") => (file: string) =>
  file === "cli.js" || /^cli\/chunk-[A-Z0-9]+\.js$/.test(file) || new RegExp(`^cli/${command}-[A-Z0-9]+\\.cjs$`).test(file)

/** The token actor's service key (TokenManager.ts). */
const ACTOR = "qwen-auth/token/TokenManager"

/** Markers of code the profile showed a fast path does not need (type ids and messages in its text). */
const UNNEEDED_CODE = [
  "~effect/cli/Command", // effect/cli's command runner (Program.ts)
  ACTOR,
  "llhttp", // undici (and json5, proper-lockfile: files under cli/vendor/, which no allowed file is)
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
        const { r, files, text, builtins, ran } = await traced(home(), args)
        expect(r.code, r.stderr).toBe(0)
        if (command === "status") {
          expect(JSON.parse(r.stdout)).toMatchObject({ loggedIn: true, state: "fresh", problems: [] })
        } else {
          expect(r.stdout).toBe(`${ACCESS}\n`)
        }
        expect(files[0]).toBe("cli.js")
        expect(files.some((f) => f.startsWith(`cli/${command}-`))).toBe(true)
        expect(files.filter((f) => !allowedFile(command)(f))).toEqual([])
        expect(ran("qwen-auth/store/CredentialStore")).toBe(true) // the loaded code is really listed
        for (const marker of UNNEEDED_CODE) {
          // `token` holds its refresh code (the actor) but must not run it.
          if (command === "token" && marker === ACTOR) expect(ran(marker), marker).toBe(false)
          else expect(text, marker).not.toContain(marker)
        }
        expect(builtins).toContain("NativeModule fs") // the list is real
        for (const name of UNNEEDED_BUILTINS) expect(builtins, name).not.toContain(`NativeModule ${name}`)
        if (label === "JSON store") expect(builtins).not.toContain("NativeModule sqlite")
      })
    }
  }

  it("a token due for refresh loads the actor and undici (that run pays for them)", async () => {
    const home = qwenCodeHome(join(root.path, "due"), { access: "due-access", refresh: "due-refresh" }, Date.now() + 60_000)
    // No server listens here: the refresh fails fast, with the token still valid > 30 s.
    const { r, files, ran } = await traced(home, ["token", "--oauth-base-url", "http://127.0.0.1:9"])
    expect(r.stdout).toBe("due-access\n")
    expect(r.stderr).toContain("warning: refresh failed")
    expect(ran(ACTOR)).toBe(true)
    expect(files).toContain("cli/vendor/undici.cjs")
    expect(files.some((f) => f.startsWith("cli/Program-"))).toBe(false) // still no effect/cli runner
  })
})
