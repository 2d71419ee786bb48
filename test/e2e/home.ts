/**
 * Shared setup for the command end-to-end tests: a temp home laid out as files.md says, real
 * tokens from the emulator written in Qwen Code's or OpenClaw's format, and a byte+mtime
 * snapshot of a folder to prove a command wrote nothing.
 */
import { afterEach } from "vitest"
import { createHash } from "node:crypto"
import { chmodSync, copyFileSync, cpSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import JSON5 from "json5"
import { type EmulatorProcess, login, startEmulatorProcess } from "../support/emulator.ts"
import { makeTempDir, repoRoot, type RunResult, runCli, scrubbedEnv } from "../support/processes.ts"

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** Runs `cleanup` after the current test (last registered, first run). */
export const afterThisTest = (cleanup: () => unknown): void => {
  cleanups.push(cleanup)
}

export interface Home {
  readonly path: string
  readonly qwen: string
  readonly openclaw: string
  readonly agent: string
  readonly creds: string
  /** qwen-auth's own copy, `qwen-auth-credentials.json`. */
  readonly own: string
  readonly state: string
  readonly profiles: string
  readonly config: string
  readonly models: string
}

/** A fresh temp HOME (removed after the test) with the default locations under it. */
export const tempHome = (): Home => {
  const dir = makeTempDir("qwen-auth-e2e-cmd-")
  cleanups.push(dir.cleanup)
  const path = dir.path
  const qwen = join(path, ".qwen")
  const openclaw = join(path, ".openclaw")
  const agent = join(openclaw, "agents/main/agent")
  return {
    path,
    qwen,
    openclaw,
    agent,
    creds: join(qwen, "oauth_creds.json"),
    own: join(qwen, "qwen-auth-credentials.json"),
    state: join(qwen, "qwen-auth.json"),
    profiles: join(agent, "auth-profiles.json"),
    config: join(openclaw, "openclaw.json"),
    models: join(agent, "models.json")
  }
}

/** An emulator process, stopped after the test. */
export const emulator = async (flags: ReadonlyArray<string> = []): Promise<EmulatorProcess> => {
  const emu = await startEmulatorProcess(flags)
  cleanups.push(() => emu.stop())
  return emu
}

/** The scrubbed environment of a CLI child living in `home`, talking to `emu` if given. */
export const envFor = (home: Home, emu?: { readonly url: string }, extra: Record<string, string> = {}) =>
  scrubbedEnv(home.path, { ...(emu ? { QWEN_OAUTH_BASE_URL: emu.url } : {}), ...extra })

/** Runs the built CLI in `home`. */
export const cli = (home: Home, args: ReadonlyArray<string>, emu?: { readonly url: string }, extra: Record<string, string> = {}) =>
  runCli(args, { env: envFor(home, emu, extra), timeoutMs: 60_000 })

export const explain = (r: RunResult) => `exit ${r.code} (signal ${r.signal})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`

export const readJson = (path: string): any => JSON.parse(readFileSync(path, "utf8"))
/** An OpenClaw config: JSON5 (a user's JSON5 stays JSON5, it is edited in place). */
export const readJson5 = (path: string): any => JSON5.parse(readFileSync(path, "utf8"))
export const mode = (path: string) => (statSync(path).mode & 0o777).toString(8)

/** Writes `text` with a credential file's modes (file 0600, new folders 0700). */
export const writeSecret = (path: string, text: string) => {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  writeFileSync(path, text, { mode: 0o600 })
  chmodSync(path, 0o600)
}

export interface Tokens {
  readonly access_token: string
  readonly refresh_token: string
  readonly resource_url?: string | undefined
}

/** Real tokens: one device login at the emulator through the test protocol client. */
export const realTokens = (emu: EmulatorProcess): Promise<Tokens> => login(emu)

/** Writes Qwen Code's `oauth_creds.json` (files.md format). */
export const writeQwenCreds = (home: Home, tokens: Tokens, expiryDate: number, extra: Record<string, unknown> = {}) =>
  writeSecret(
    home.creds,
    JSON.stringify(
      {
        access_token: tokens.access_token,
        token_type: "Bearer",
        refresh_token: tokens.refresh_token,
        ...(tokens.resource_url !== undefined ? { resource_url: tokens.resource_url } : {}),
        expiry_date: expiryDate,
        ...extra
      },
      null,
      2
    )
  )

/** Writes OpenClaw's `auth-profiles.json` with our profile (if `tokens`) and `others`. */
export const writeProfiles = (
  home: Home,
  tokens: Tokens | undefined,
  expires: number,
  others: Record<string, unknown> = {}
) =>
  writeSecret(
    home.profiles,
    JSON.stringify(
      {
        version: 1,
        profiles: {
          ...others,
          ...(tokens
            ? {
              "qwen-portal:default": {
                type: "oauth",
                provider: "qwen-portal",
                access: tokens.access_token,
                refresh: tokens.refresh_token,
                expires
              }
            }
            : {})
        }
      },
      null,
      2
    )
  )

/** Moves the stored expiry of whichever credential files exist to `expiry` (ms). */
export const setStoredExpiry = (home: Home, expiry: number) => {
  for (const path of [home.creds, home.own, home.profiles]) {
    let json: any
    try {
      json = readJson(path)
    } catch {
      continue
    }
    if (path !== home.profiles) json.expiry_date = expiry
    else if (json.profiles?.["qwen-portal:default"]) json.profiles["qwen-portal:default"].expires = expiry
    writeFileSync(path, JSON.stringify(json, null, 2))
  }
}

/** Every entry under `dir`: kind, mode, mtime and bytes, to compare before and after a command. */
export const treeSnapshot = (dir: string): Record<string, string> => {
  const out: Record<string, string> = {}
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name)
      const s = lstatSync(p)
      const base = `${(s.mode & 0o7777).toString(8)} ${s.mtimeMs}`
      if (s.isDirectory()) {
        out[p] = `dir ${base}`
        walk(p)
      } else {
        out[p] = `file ${base} ${readFileSync(p).toString("base64")}`
      }
    }
  }
  walk(dir)
  return out
}

/** The hash the state file keeps for a refresh token (hex sha256). */
export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex")

/** What `npm pack` ships (package.json `files`), laid out as an install would; returns the package root. */
export const installCopy = (parent: string): string => {
  const root = join(parent, "node_modules", "qwen-portal-auth")
  mkdirSync(root, { recursive: true })
  for (const f of ["dist", "package.json", "openclaw.plugin.json", "README.md"]) cpSync(join(repoRoot, f), join(root, f), { recursive: true })
  return root
}

/** A temp folder with an installed copy of the package and the fake `openclaw` (test/fixtures/fake-openclaw.mjs). */
export const openClawTools = (prefix: string) => {
  const tools = makeTempDir(prefix)
  const installedCli = join(installCopy(join(tools.path, "prefix")), "dist/cli.js")
  mkdirSync(join(tools.path, "bin"))
  const fakeBin = join(tools.path, "bin", "openclaw")
  copyFileSync(join(repoRoot, "test/fixtures/fake-openclaw.mjs"), fakeBin)
  chmodSync(fakeBin, 0o755)
  return { path: tools.path, cleanup: tools.cleanup, installedCli, fakeBin }
}
