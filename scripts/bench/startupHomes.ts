/**
 * The homes the start-up rows run in, each as a user's would be after some use: every copy in
 * agreement (so `token` prints without writing) and a daemon record next to them.
 *
 * - **JSON store**: Qwen Code's `oauth_creds.json`, qwen-auth's own copy and state file, and
 *   OpenClaw 2026.3.24's `auth-profiles.json`.
 * - **SQLite store**: the same, with OpenClaw 2026.9.6's agent database (the fixture helper of
 *   the store tests, with that version's schema) instead of `auth-profiles.json`.
 *
 * The copies qwen-auth keeps are written by one `qwen-auth token` run (no request: the token is
 * fresh), so the benchmark never spells their formats out itself.
 */
import { chmodSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { nodeBin, scrubbedEnv } from "../../test/support/processes.ts"
import { writeAgentStore } from "../../test/support/openclawSqlite.ts"
import { HOUR_MS, homeWith, type Tokens } from "./home.ts"
import { runTimed } from "./spawn.ts"

export interface BenchHome {
  readonly key: "json" | "sqlite"
  readonly label: string
  readonly path: string
  readonly cleanup: () => void
}

const TOKENS: Tokens = { access_token: "bench-access-token", refresh_token: "bench-refresh-token", resource_url: "portal.qwen.ai" }

/** What `qwen-auth daemon` keeps next to the credentials (its branch reads it into `status`). */
const writeDaemonRecord = (home: string, expiresAt: number): void => {
  const file = join(home, ".qwen", "qwen-auth-daemon.json")
  const now = Date.now()
  writeFileSync(file, JSON.stringify({
    pid: process.pid,
    startedAt: new Date(now - HOUR_MS).toISOString(),
    lastRefreshAt: new Date(now - 10 * 60_000).toISOString(),
    nextRefreshAt: new Date(expiresAt - 5 * 60_000).toISOString(),
    lastError: null
  }, null, 2), { mode: 0o600 })
  chmodSync(file, 0o600)
}

const make = async (cliPath: string, key: BenchHome["key"]): Promise<BenchHome> => {
  const expiresAt = Date.now() + 6 * HOUR_MS
  const home = homeWith(TOKENS, expiresAt)
  if (key === "sqlite") {
    writeAgentStore(join(home.path, ".openclaw/agents/main/agent/openclaw-agent.sqlite"), {
      access: TOKENS.access_token,
      refresh: TOKENS.refresh_token,
      expires: expiresAt
    })
  }
  writeDaemonRecord(home.path, expiresAt)
  const env = scrubbedEnv(home.path)
  const seed = await runTimed(nodeBin, [cliPath, "token"], env)
  const status = await runTimed(nodeBin, [cliPath, "status", "--json"], env)
  const report = JSON.parse(status.stdout) as { state?: string; problems?: ReadonlyArray<string> }
  if (seed.code !== 0 || status.code !== 0 || report.state !== "fresh" || report.problems?.length !== 0) {
    home.cleanup()
    throw new Error(`bench home (${key}) is not in agreement: token exit ${seed.code}, status ${status.stdout}${seed.stderr}`)
  }
  return {
    key,
    label: key === "json" ? "JSON store" : "SQLite store",
    path: home.path,
    cleanup: home.cleanup
  }
}

/** Both homes; `cleanup` removes them. */
export const startupHomes = async (cliPath: string): Promise<ReadonlyArray<BenchHome>> => [
  await make(cliPath, "json"),
  await make(cliPath, "sqlite")
]
