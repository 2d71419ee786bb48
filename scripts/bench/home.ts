/**
 * Benchmark homes: a temp folder holding Qwen Code credentials (files.md), as a user's home would,
 * so commands do their real work on real files.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { makeTempDir } from "../../test/support/processes.ts"

export interface Tokens {
  readonly access_token: string
  readonly refresh_token: string
  readonly resource_url?: string | undefined
}

/** Writes `~/.qwen/oauth_creds.json` (0600 in a 0700 folder) expiring at `expiresAtMs`. */
export const writeQwenCreds = (home: string, tokens: Tokens, expiresAtMs: number): void => {
  const dir = join(home, ".qwen")
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const file = join(dir, "oauth_creds.json")
  writeFileSync(file, JSON.stringify({
    access_token: tokens.access_token,
    token_type: "Bearer",
    refresh_token: tokens.refresh_token,
    ...(tokens.resource_url === undefined ? {} : { resource_url: tokens.resource_url }),
    expiry_date: expiresAtMs
  }, null, 2), { mode: 0o600 })
  chmodSync(file, 0o600)
}

/** A temp home with credentials; `cleanup` removes it. */
export const homeWith = (tokens: Tokens, expiresAtMs: number) => {
  const home = makeTempDir("qwen-auth-bench-")
  writeQwenCreds(home.path, tokens, expiresAtMs)
  return home
}

export const HOUR_MS = 3_600_000
