/** A home holding Qwen Code's credentials only, as Qwen Code writes them (folder 0700, file 0600). */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"

/** Writes `<home>/.qwen/oauth_creds.json` (by default valid for 6 hours); returns `home`. */
export const qwenCodeHome = (
  home: string,
  tokens: { readonly access: string; readonly refresh: string },
  expiryDate = Date.now() + 6 * 3_600_000
): string => {
  mkdirSync(join(home, ".qwen"), { recursive: true, mode: 0o700 })
  writeFileSync(join(home, ".qwen/oauth_creds.json"), JSON.stringify({
    access_token: tokens.access,
    token_type: "Bearer",
    refresh_token: tokens.refresh,
    expiry_date: expiryDate
  }), { mode: 0o600 })
  return home
}
