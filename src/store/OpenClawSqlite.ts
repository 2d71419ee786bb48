/**
 * OpenClaw 2026.9.6's auth store in SQLite (files.md, hosts.md), read-only: qwen-auth never
 * writes it (OpenClaw writes it through its own coordinator; the plugin hands OpenClaw the
 * credential). The profiles live in `<state>/state/openclaw.sqlite` (`config_machine_state`, key
 * `authProfiles.store`) when the shared store is in use, else in `<agent>/openclaw-agent.sqlite`
 * (`auth_profile_store`, `store_key = 'primary'`); both hold the same JSON store as
 * `auth-profiles.json`. A refresh fence, an unknown schema version or an unreadable database is
 * "no usable OpenClaw copy", never credentials.
 *
 * @since 0.1.0
 */
import { Effect, FileSystem } from "effect"
import * as NodeSqlite from "../internal/NodeSqlite.ts"
import * as OpenClawProfiles from "./OpenClawProfiles.ts"

/**
 * The schema versions (`PRAGMA user_version`) OpenClaw 2026.9.6 itself admits: 0–18 for the state
 * database, 1–23 for an agent's; anything else is a store this qwen-auth does not know.
 *
 * @since 0.1.0
 * @category constants
 */
export const KNOWN_USER_VERSIONS = { state: { min: 0, max: 18 }, agent: { min: 1, max: 23 } } as const
/** The access token of a credential OpenClaw is refreshing (`claimOAuthRefresh`). @since 0.1.0 @category constants */
export const REFRESH_FENCE_PREFIX = "openclaw-oauth-refresh-fence:v1:"

/** Where OpenClaw 2026.9.6 keeps its databases. @since 0.1.0 @category paths */
export const databasesOf = (stateDir: string, agentDir: string) => ({
  state: `${stateDir}/state/openclaw.sqlite`,
  agent: `${agentDir}/openclaw-agent.sqlite`
})

/**
 * What qwen-auth found in OpenClaw's SQLite store.
 *
 * @since 0.1.0
 * @category models
 */
export interface SqliteCopy {
  /** The database holding the profiles. */
  readonly path: string
  readonly profile: OpenClawProfiles.ProfileState
  /** Why the store holds no usable credentials (a refresh in progress, an unknown version, …). */
  readonly problem: string | undefined
}

/**
 * The database in use, when this home has a SQLite store (the generation is decided from disk).
 *
 * @since 0.1.0
 * @category queries
 */
export const detect = (stateDir: string, agentDir: string): Effect.Effect<ReadonlyArray<string>, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const dbs = databasesOf(stateDir, agentDir)
    const present: Array<string> = []
    for (const path of [dbs.state, dbs.agent]) {
      if (yield* fs.exists(path).pipe(Effect.orElseSucceed(() => false))) present.push(path)
    }
    return present
  })

type Row = Record<string, unknown> | undefined

type Kind = keyof typeof KNOWN_USER_VERSIONS

const known = (kind: Kind, version: number) =>
  version >= KNOWN_USER_VERSIONS[kind].min && version <= KNOWN_USER_VERSIONS[kind].max

/** One row, read-only; waits briefly for OpenClaw's own write transactions (busy timeout). */
const queryStore = async (
  kind: Kind,
  path: string,
  sql: string,
  ...params: Array<string>
): Promise<{ version: number; row: Row }> => {
  const { DatabaseSync } = await NodeSqlite.load()
  const db = new DatabaseSync(path, { readOnly: true, timeout: 2_000 })
  try {
    const version = Number((db.prepare("PRAGMA user_version").get() as Row)?.["user_version"] ?? 0)
    if (!known(kind, version)) return { version, row: undefined }
    return { version, row: db.prepare(sql).get(...params) as Row }
  } finally {
    db.close()
  }
}

const unusable = (path: string, problem: string): SqliteCopy => ({ path, profile: { _tag: "Absent" }, problem })

const fromStoreJson = (path: string, json: unknown): Effect.Effect<SqliteCopy> =>
  OpenClawProfiles.decode(path, typeof json === "string" ? json : "").pipe(
    Effect.map(({ profile }): SqliteCopy => {
      if (profile._tag === "Present" && String(profile.raw["access"] ?? "").startsWith(REFRESH_FENCE_PREFIX)) {
        return unusable(path, "OpenClaw is refreshing this login (a refresh fence is stored)")
      }
      if (profile._tag === "Invalid") return unusable(path, profile.problem.problem)
      return { path, profile, problem: undefined }
    }),
    Effect.catch((e) => Effect.succeed(unusable(path, e.problem)))
  )

const STATE_ROW = "SELECT value_json AS json FROM config_machine_state WHERE state_key = ?"

const parseLocation = (json: unknown): unknown => {
  try {
    const value: unknown = JSON.parse(String(json))
    return typeof value === "object" && value !== null ? (value as { readonly location?: unknown }).location : undefined
  } catch {
    return undefined
  }
}

type Lookup =
  | { readonly _tag: "Settled"; readonly copy: SqliteCopy }
  | { readonly _tag: "Empty" }
  | { readonly _tag: "Row"; readonly json: unknown }

/** One row of one database; a broken or unknown database settles the answer. */
const lookup = (kind: Kind, path: string, sql: string, key: string): Effect.Effect<Lookup> =>
  Effect.tryPromise({ try: () => queryStore(kind, path, sql, key), catch: (e) => (e instanceof Error ? e.message : String(e)) }).pipe(
    Effect.map((r): Lookup =>
      !known(kind, r.version)
        ? {
          _tag: "Settled",
          copy: unusable(
            path,
            `has schema version ${r.version}; qwen-auth knows ${KNOWN_USER_VERSIONS[kind].min}–${KNOWN_USER_VERSIONS[kind].max}`
          )
        }
        : r.row === undefined
        ? { _tag: "Empty" }
        : { _tag: "Row", json: r.row["json"] }
    ),
    Effect.catch((detail) =>
      Effect.succeed<Lookup>({ _tag: "Settled", copy: unusable(path, `cannot be read (${detail.split("\n")[0]})`) })
    )
  )

const settle = (path: string, found: Lookup): Effect.Effect<SqliteCopy> =>
  found._tag === "Settled"
    ? Effect.succeed(found.copy)
    : found._tag === "Empty"
    ? Effect.succeed({ path, profile: { _tag: "Absent" }, problem: undefined })
    : fromStoreJson(path, found.json)

/**
 * Reads `qwen-portal:default` from the store in use (read-only connection), given the databases
 * `detect` found; `undefined` when there are none.
 *
 * @since 0.1.0
 * @category reading
 */
export const read = (
  stateDir: string,
  agentDir: string,
  present: ReadonlyArray<string>
): Effect.Effect<SqliteCopy | undefined> =>
  Effect.gen(function*() {
    if (present.length === 0) return undefined
    const dbs = databasesOf(stateDir, agentDir)
    // The state database's `auth.sharedStore` row says where the profiles live: `state-db` means
    // the shared store in that database; no row (or `legacy-main`) means the agent's database.
    if (present.includes(dbs.state)) {
      const where = yield* lookup("state", dbs.state, STATE_ROW, "auth.sharedStore")
      if (where._tag === "Settled") return where.copy
      const shared = where._tag === "Row" && parseLocation(where.json) === "state-db"
      if (shared) return yield* settle(dbs.state, yield* lookup("state", dbs.state, STATE_ROW, "authProfiles.store"))
    }
    if (!present.includes(dbs.agent)) return { path: dbs.state, profile: { _tag: "Absent" }, problem: undefined }
    return yield* settle(
      dbs.agent,
      yield* lookup("agent", dbs.agent, "SELECT store_json AS json FROM auth_profile_store WHERE store_key = ?", "primary")
    )
  })
