/**
 * OpenClaw 2026.9.6's auth store as a fixture: the tables qwen-auth reads, with the columns and
 * schema versions OpenClaw 2026.9.6 itself created (measured from a database it made: the state
 * database at `user_version` 18, the agent database at 23). Written with `node:sqlite`.
 */
import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import { DatabaseSync } from "node:sqlite"

export interface SqliteProfile {
  readonly access: string
  readonly refresh?: string
  readonly expires: number
}

const storeJson = (profile: SqliteProfile | undefined, others: Record<string, unknown> = {}) =>
  JSON.stringify({
    version: 1,
    profiles: {
      ...others,
      ...(profile === undefined ? {} : { "qwen-portal:default": { type: "oauth", provider: "qwen-portal", ...profile } })
    }
  })

const open = (path: string, userVersion: number) => {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const db = new DatabaseSync(path)
  db.exec(`CREATE TABLE IF NOT EXISTS schema_meta (
  meta_key TEXT NOT NULL PRIMARY KEY, role TEXT NOT NULL, schema_version INTEGER NOT NULL, agent_id TEXT,
  app_version TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL) STRICT`)
  db.exec(`PRAGMA user_version = ${userVersion}`)
  return db
}

/** `<agent>/openclaw-agent.sqlite` holding `profile` under `store_key = 'primary'`. */
export const writeAgentStore = (path: string, profile: SqliteProfile | undefined, options: { userVersion?: number } = {}) => {
  const db = open(path, options.userVersion ?? 23)
  db.exec(`CREATE TABLE IF NOT EXISTS auth_profile_store (
  store_key TEXT NOT NULL PRIMARY KEY, store_json TEXT NOT NULL, updated_at INTEGER NOT NULL) STRICT`)
  db.prepare("INSERT OR REPLACE INTO auth_profile_store (store_key, store_json, updated_at) VALUES ('primary', ?, ?)")
    .run(storeJson(profile), Date.now())
  db.close()
}

/** `<state>/state/openclaw.sqlite` with the shared store (`authProfiles.store`). */
export const writeStateStore = (path: string, profile: SqliteProfile | undefined, options: { userVersion?: number } = {}) => {
  const db = open(path, options.userVersion ?? 18)
  db.exec(`CREATE TABLE IF NOT EXISTS config_machine_state (
  state_key TEXT NOT NULL PRIMARY KEY, value_json TEXT NOT NULL, updated_at_ms INTEGER NOT NULL) STRICT`)
  const put = db.prepare("INSERT OR REPLACE INTO config_machine_state (state_key, value_json, updated_at_ms) VALUES (?, ?, ?)")
  put.run("auth.sharedStore", JSON.stringify({ location: "state-db" }), Date.now())
  if (profile !== undefined) put.run("authProfiles.store", storeJson(profile), Date.now())
  db.close()
}

/** The access token OpenClaw writes while it refreshes a profile (`claimOAuthRefresh`). */
export const fenceProfile = (): SqliteProfile => ({
  access: "openclaw-oauth-refresh-fence:v1:0123456789abcdef:access:digest",
  refresh: "openclaw-oauth-refresh-fence:v1:0123456789abcdef:refresh:digest",
  expires: 1
})
