/**
 * A temp home for the reliability suite: the files.md layout, real tokens from the emulator
 * written as Qwen Code would, checks that every file parses with the real decoders and keeps its
 * mode, a list of our leftovers (temp files, locks), and a scanner for secrets in output.
 */
import { Effect, Result } from "effect"
import { spawn } from "node:child_process"
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { isOwnTempName } from "../../../src/store/AtomicWrite.ts"
import * as OpenClawProfiles from "../../../src/store/OpenClawProfiles.ts"
import * as QwenCodeFile from "../../../src/store/QwenCodeFile.ts"
import * as StateFile from "../../../src/store/StateFile.ts"
import { type EmulatorControl, login } from "../../support/emulator.ts"
import { cliPath as builtCli, makeTempDir, nodeBin, repoRoot, scrubbedEnv } from "../../support/processes.ts"

/** The CLI bundle; `QWEN_AUTH_TEST_CLI` may point at a private copy (a tree where others rebuild). */
const cliPath = process.env.QWEN_AUTH_TEST_CLI ?? builtCli

export interface Home {
  readonly path: string
  readonly qwen: string
  readonly agent: string
  readonly creds: string
  /** qwen-auth's own copy (`qwen-auth-credentials.json`). */
  readonly own: string
  readonly state: string
  readonly profiles: string
  readonly qwenLock: string
  readonly openclawLock: string
  cleanup(): void
}

export const makeHome = (prefix = "qwen-auth-rel-"): Home => {
  const dir = makeTempDir(prefix)
  const qwen = join(dir.path, ".qwen")
  const agent = join(dir.path, ".openclaw/agents/main/agent")
  mkdirSync(qwen, { recursive: true, mode: 0o700 })
  chmodSync(qwen, 0o700)
  const profiles = join(agent, "auth-profiles.json")
  return {
    path: dir.path,
    qwen,
    agent,
    creds: join(qwen, "oauth_creds.json"),
    own: join(qwen, "qwen-auth-credentials.json"),
    state: join(qwen, "qwen-auth.json"),
    profiles,
    qwenLock: join(qwen, "oauth_creds.lock"),
    openclawLock: `${profiles}.lock`,
    cleanup: dir.cleanup
  }
}

/** Environment of a CLI child in `home` against `emu`, at debug logging (secrets must not leak). */
export const envFor = (home: Home, emu: { readonly url: string }, extra: Record<string, string> = {}) =>
  scrubbedEnv(home.path, { QWEN_OAUTH_BASE_URL: emu.url, QWEN_AUTH_LOG_LEVEL: "debug", ...extra })

/**
 * A fresh login at the emulator, written to every copy qwen-auth keeps in step (Qwen Code's file,
 * qwen-auth's own copy, OpenClaw's profile), so the next run has nothing to heal and its first
 * write is the refresh's.
 */
export const seedLogin = async (home: Home, emu: EmulatorControl, secrets?: Secrets) => {
  const t = await loginDespiteFaults(emu)
  secrets?.add(t.access_token, t.refresh_token)
  const text = JSON.stringify({
    access_token: t.access_token,
    token_type: t.token_type,
    refresh_token: t.refresh_token,
    resource_url: t.resource_url,
    expiry_date: Date.now() + t.expires_in * 1000
  })
  const expires = JSON.parse(text).expiry_date as number
  const profiles = JSON.stringify({
    version: 1,
    profiles: {
      "qwen-portal:default": { type: "oauth", provider: "qwen-portal", access: t.access_token, refresh: t.refresh_token, expires }
    }
  })
  mkdirSync(home.agent, { recursive: true, mode: 0o700 })
  for (const [path, contents] of [[home.creds, text], [home.own, text], [home.profiles, profiles]] as const) {
    writeFileSync(path, contents, { mode: 0o600 })
    chmodSync(path, 0o600)
  }
  return t
}

/** A device login, started again when an injected fault gets in the way (faulty emulators). */
export const loginDespiteFaults = async (emu: EmulatorControl, tries = 30): ReturnType<typeof login> => {
  for (let i = 1;; i++) {
    try {
      // An `html` fault answers 200 with a page: no tokens in it, so try again.
      const t = await login(emu)
      if (typeof t?.access_token === "string" && typeof t.refresh_token === "string") return t
      if (i >= tries) throw new Error("no tokens in the login answer")
    } catch (e) {
      if (i >= tries) throw e
    }
  }
}

const decodeOk = (effect: Effect.Effect<unknown, { readonly message: string }>): string | undefined => {
  const r = Effect.runSync(Effect.result(effect))
  return Result.isSuccess(r) ? undefined : r.failure.message
}

/** Problems with the credential files: each must parse with its real decoder and be 0600. */
export const fileProblems = (home: Home): Array<string> => {
  const problems: Array<string> = []
  const check = (path: string, decode: (p: string, t: string) => Effect.Effect<unknown, { readonly message: string }>) => {
    if (!existsSync(path)) return
    const mode = lstatSync(path).mode & 0o777
    if (mode !== 0o600) problems.push(`${path}: mode ${mode.toString(8)}`)
    const failed = decodeOk(decode(path, readFileSync(path, "utf8")))
    if (failed !== undefined) problems.push(`${path}: ${failed}`)
  }
  check(home.creds, QwenCodeFile.decode)
  check(home.own, QwenCodeFile.decode)
  check(home.profiles, OpenClawProfiles.decode)
  check(home.state, StateFile.decode)
  for (const dir of [home.qwen, home.agent]) {
    if (!existsSync(dir)) continue
    const mode = lstatSync(dir).mode & 0o777
    if (mode !== 0o700) problems.push(`${dir}: folder mode ${mode.toString(8)}`)
  }
  return problems
}

/** Our leftovers: temp files, Qwen Code lock (and renamed-aside stale locks), OpenClaw lock folder. */
export const leftovers = (home: Home): Array<string> => {
  const found: Array<string> = []
  for (const dir of [home.qwen, home.agent]) {
    if (!existsSync(dir)) continue
    for (const name of readdirSync(dir)) {
      if (isOwnTempName(name) || name === "oauth_creds.lock" || name.startsWith("oauth_creds.lock.stale.") ||
        name === "auth-profiles.json.lock") {
        found.push(join(dir, name))
      }
    }
  }
  return found
}

/** Ages every leftover by `ms`, as if that much time had passed since the dead process touched it. */
export const age = (paths: ReadonlyArray<string>, ms: number) => {
  const then = new Date(Date.now() - ms)
  for (const p of paths) {
    try {
      utimesSync(p, then, then)
    } catch {
      // gone meanwhile
    }
  }
}

/** The latest expiry stored in either credential file (ms), or 0. */
export const storedExpiry = (home: Home): number => {
  let best = 0
  try {
    best = Math.max(best, Number(JSON.parse(readFileSync(home.creds, "utf8")).expiry_date) || 0)
  } catch { /* missing or broken */ }
  try {
    const p = JSON.parse(readFileSync(home.profiles, "utf8")).profiles?.["qwen-portal:default"]
    best = Math.max(best, Number(p?.expires) || 0)
  } catch { /* missing or broken */ }
  return best
}

/** Every token value found in the credential files (to scan output for). */
export const storedTokens = (home: Home): Array<string> => {
  const out: Array<string> = []
  try {
    const c = JSON.parse(readFileSync(home.creds, "utf8"))
    out.push(c.access_token, c.refresh_token, c.id_token)
  } catch { /* missing */ }
  try {
    const p = JSON.parse(readFileSync(home.profiles, "utf8")).profiles?.["qwen-portal:default"]
    out.push(p?.access, p?.refresh)
  } catch { /* missing */ }
  return out.filter((t): t is string => typeof t === "string" && t.length >= 16)
}

// -------------------------------------------------------------------------------------------------
// Secrets in output

/** Known secret values, plus a shape check for unknown ones (the emulator's are 43-char base64url). */
export interface Secrets {
  add(...values: Array<string | undefined>): void
  /** Secret values (or secret-shaped strings) found in `text`, abbreviated. */
  find(text: string): Array<string>
}

const SECRET_SHAPE = /[A-Za-z0-9_-]{43,}/g

export const makeSecrets = (): Secrets => {
  const known = new Set<string>()
  return {
    add: (...values) => {
      for (const v of values) if (v !== undefined && v.length >= 16) known.add(v)
    },
    find: (text) => {
      const hits = [...known].filter((k) => text.includes(k))
      // Hex digests (state file hashes) are not secrets.
      const shaped = (text.match(SECRET_SHAPE) ?? []).filter((s) => !/^[0-9a-f]+$/.test(s))
      return [...new Set([...hits, ...shaped])].map((s) => `${s.slice(0, 6)}…(${s.length})`)
    }
  }
}

// -------------------------------------------------------------------------------------------------
// CLI children

export interface Child {
  readonly pid: number
  /** Resolves when `marker` appears on stderr (true) or the child ends first (false). */
  waitFor(marker: string): Promise<boolean>
  kill(signal: NodeJS.Signals): void
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>
}

/** Starts `node dist/cli.js …args` (the built bundle). */
export const startCli = (args: ReadonlyArray<string>, env: Record<string, string>): Child => {
  const child = spawn(nodeBin, [cliPath, ...args], { env, cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] })
  let stdout = ""
  let stderr = ""
  const waiters: Array<{ marker: string; resolve: (b: boolean) => void }> = []
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d
    for (const w of waiters.splice(0)) {
      if (stderr.includes(w.marker)) w.resolve(true)
      else waiters.push(w)
    }
  })
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) =>
      child.on("close", (code, signal) => {
        for (const w of waiters.splice(0)) w.resolve(stderr.includes(w.marker))
        resolve({ code, signal, stdout, stderr })
      })
  )
  return {
    pid: child.pid ?? -1,
    waitFor: (marker) =>
      stderr.includes(marker)
        ? Promise.resolve(true)
        : child.exitCode !== null || child.signalCode !== null
        ? Promise.resolve(false)
        : new Promise((resolve) => waiters.push({ marker, resolve })),
    kill: (signal) => {
      try {
        child.kill(signal)
      } catch { /* already gone */ }
    },
    done
  }
}

/** Runs the CLI to completion (killed after `timeoutMs`). */
export const runCli = async (args: ReadonlyArray<string>, env: Record<string, string>, timeoutMs = 90_000) => {
  const child = startCli(args, env)
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
  const result = await child.done
  clearTimeout(timer)
  return result
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)))

export const ensureDir = (path: string) => mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
