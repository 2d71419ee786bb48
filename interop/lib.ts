/**
 * The interop suite's tools: where things are, the scrubbed environment of a scenario, running a
 * program (plain or under a pseudo-terminal), the emulator, and reading what OpenClaw printed or
 * stored. Nothing here knows a scenario.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { appendFileSync, existsSync, mkdirSync, readFileSync, watch, writeFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import type { EmulatorEvent } from "../src/emulator/EmulatorState.ts"
import type { Stats } from "../src/emulator/Stats.ts"

// =============================================================================
// Places (scripts/interop.ts prepared all of them before the suite starts)
// =============================================================================

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..")
export const cacheDir = join(repoRoot, ".cache/interop")
export const treeDir = join(cacheDir, "tree")
export const pkgRoot = join(cacheDir, "pkg/node_modules/qwen-portal-auth")
export const runDir = join(cacheDir, "run")
export const guardPath = join(repoRoot, "interop/guard.cjs")
/** The guard plus Qwen Code's URL rewriting and lock observation (interop/qwen-code-preload.cjs). */
export const qwenPreloadPath = join(repoRoot, "interop/qwen-code-preload.cjs")
export const emulatorScript = join(repoRoot, "scripts/qwen-emulator.ts")

/** The project's Node 22 (the suite runs on it). */
export const node22 = process.execPath
/** Node 24 from the pinned `node` package. */
export const node24 = join(treeDir, "node_modules/node/bin/node")

export type Release = "2026.3.24" | "2026.9.6"
export const RELEASES: ReadonlyArray<Release> = ["2026.3.24", "2026.9.6"]

export interface ReleaseInfo {
  readonly release: Release
  /** The Node this release runs on, and that runs qwen-auth next to it. */
  readonly node: string
  readonly entry: string
  /** An executable that starts this release (what `--openclaw-bin` gets). */
  readonly bin: string
}

export const releaseInfo = (release: Release): ReleaseInfo => ({
  release,
  node: release === "2026.3.24" ? node22 : node24,
  entry: join(treeDir, `node_modules/openclaw-${release}/openclaw.mjs`),
  bin: join(cacheDir, `bin/openclaw-${release}`)
})

export const qwenAuthCli = join(pkgRoot, "dist/cli.js")

export type QwenCodeRelease = "0.12.0" | "0.24.4"
/** `qwen` of a Qwen Code release on Node 22 (written by scripts/interop.ts). */
export const qwenCodeBin = (release: QwenCodeRelease) => join(cacheDir, `bin/qwen-${release}`)

// =============================================================================
// Small things
// =============================================================================

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`
export const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex")
export const fileSha = (path: string) => (existsSync(path) ? sha256(readFileSync(path)) : "absent")

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[()][A-Z0-9]|\u001b[=>]/g
/** Terminal output as text: escape sequences removed, CR/LF normalised. */
export const plain = (s: string) => s.replace(ANSI, "").replace(/\r\n/g, "\n").replace(/\r/g, "\n")

/** Single-quotes for sh. */
export const shq = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`

export class Failure extends Error {}

/** Fails the scenario with `message` unless `condition`. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Failure(message)
}

export const readJson = (path: string): any => JSON.parse(readFileSync(path, "utf8"))

/**
 * The JSON document in `stdout`, read from the first line that starts with `{` (2026.3.24 prints
 * a log line before it).
 */
export const jsonFromFirstBrace = (stdout: string): { json: any; before: ReadonlyArray<string> } => {
  const lines = stdout.split("\n")
  const at = lines.findIndex((l) => l.startsWith("{"))
  if (at < 0) throw new Failure(`no line starting with "{" in:\n${tail(stdout)}`)
  try {
    return { json: JSON.parse(lines.slice(at).join("\n")), before: lines.slice(0, at).filter((l) => l.trim() !== "") }
  } catch (e) {
    throw new Failure(`output from the first "{" line is not JSON (${(e as Error).message}):\n${tail(stdout)}`)
  }
}

/** The end of a long text, for messages. */
export const tail = (text: string, lines = 25) => {
  const all = plain(text).split("\n")
  // 2026.3.24 repeats one warning hundreds of times: fold runs of the same line.
  const folded: Array<string> = []
  for (const line of all) {
    if (folded.length > 0 && folded[folded.length - 1]!.replace(/ \(×\d+\)$/, "") === line && line !== "") {
      const last = folded.pop()!
      const n = Number(/ \(×(\d+)\)$/.exec(last)?.[1] ?? 1)
      folded.push(`${line} (×${n + 1})`)
    } else folded.push(line)
  }
  return folded.slice(-lines).map((l) => `      | ${l.slice(0, 240)}`).join("\n")
}

// =============================================================================
// Processes
// =============================================================================

export interface RunResult {
  readonly pid: number | undefined
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
  readonly timedOut: boolean
}

/** Kills the process group of a child started with `detached: true` (only what we started). */
const killGroup = (child: ChildProcess, signal: NodeJS.Signals) => {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    try {
      child.kill(signal)
    } catch {}
  }
}

/** Every child still running, so an interrupted suite can end them (and only them). */
const live = new Set<ChildProcess>()
export const killAllStarted = () => {
  for (const child of live) killGroup(child, "SIGKILL")
}

export interface RunOptions {
  readonly env: Record<string, string>
  readonly cwd: string
  readonly timeoutMs: number
  readonly input?: string
}

/** A program started in the background (its own process group). */
export interface Started {
  readonly pid: number | undefined
  readonly startedAt: number
  /** Resolves when it exited and its output closed (or it was killed on timeout). */
  readonly done: Promise<RunResult>
  /** Its output so far. */
  stdout(): string
  stderr(): string
  /** Writes to its standard input (kept open with `keepStdin`). */
  write(text: string): void
  endInput(): void
  /** Sends `sig` to the process itself (not its group). */
  signal(sig: NodeJS.Signals): void
  /** Waits until `test` holds for its stdout (polling); false on timeout or exit. */
  waitForStdout(test: (stdout: string) => boolean, timeoutMs: number): Promise<boolean>
}

/**
 * Starts `argv` in its own process group; on timeout the whole group is killed. Standard input is
 * `input` then closed, unless `keepStdin` (then `write`/`endInput`).
 */
export const start = (argv: ReadonlyArray<string>, options: RunOptions & { readonly keepStdin?: boolean }): Started => {
  const started = Date.now()
  const child = spawn(argv[0]!, argv.slice(1), { env: options.env, cwd: options.cwd, stdio: ["pipe", "pipe", "pipe"], detached: true })
  live.add(child)
  let stdout = ""
  let stderr = ""
  let timedOut = false
  let exited = false
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d))
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d))
  child.stdin!.on("error", () => {})
  const timer = setTimeout(() => {
    timedOut = true
    killGroup(child, "SIGTERM")
    setTimeout(() => killGroup(child, "SIGKILL"), 3000).unref()
  }, options.timeoutMs)
  const done = new Promise<RunResult>((resolvePromise, reject) => {
    child.on("error", (e) => {
      clearTimeout(timer)
      live.delete(child)
      exited = true
      reject(e)
    })
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      live.delete(child)
      exited = true
      resolvePromise({ pid: child.pid, code, signal, stdout, stderr, ms: Date.now() - started, timedOut })
    })
  })
  if (options.keepStdin) {
    if (options.input !== undefined) child.stdin!.write(options.input)
  } else child.stdin!.end(options.input ?? "")
  return {
    pid: child.pid,
    startedAt: started,
    done,
    stdout: () => stdout,
    stderr: () => stderr,
    write: (text) => void child.stdin!.write(text),
    endInput: () => void child.stdin!.end(),
    signal: (sig) => {
      try {
        child.kill(sig)
      } catch {}
    },
    waitForStdout: async (test, timeoutMs) => {
      const until = Date.now() + timeoutMs
      while (Date.now() < until) {
        if (test(stdout)) return true
        if (exited) return test(stdout)
        await sleep(50)
      }
      return test(stdout)
    }
  }
}

/** Runs `argv` to completion in its own process group; on timeout the whole group is killed. */
export const run = (argv: ReadonlyArray<string>, options: RunOptions): Promise<RunResult> => start(argv, options).done

export interface PtyAnswer {
  /** The prompt's question (the last `◆` line before it), as shown. */
  readonly question: string
  /** The answer given: Enter, i.e. the prompt's default. */
  readonly key: "Enter"
}

export interface PtyResult extends RunResult {
  /** Exit code of the command inside the terminal (from a sentinel line), null if not seen. */
  readonly exitCode: number | null
  /** The transcript as text. */
  readonly transcript: string
  readonly answers: ReadonlyArray<PtyAnswer>
}

const SENTINEL = "__INTEROP_EXIT="
/** A clack prompt waiting for input: a confirm (`● Yes / ○ No`) or a select (`Enter: confirm`). */
const PROMPT = /[●○] Yes \/ [●○] No|Enter: confirm/

/**
 * Runs `argv` under a pseudo-terminal (util-linux `script`, 120×40) and answers each prompt it
 * shows with Enter (its default) 0.7 s after it appeared (a spinner may keep redrawing around
 * it, so output never goes quiet). The command's own exit code comes from a sentinel line
 * printed after it.
 */
export const runPty = (argv: ReadonlyArray<string>, options: RunOptions): Promise<PtyResult> =>
  new Promise((resolvePromise, reject) => {
    const started = Date.now()
    const command = `stty cols 120 rows 40; ${argv.map(shq).join(" ")}; echo "${SENTINEL}$?"`
    const child = spawn("script", ["-q", "-e", "-c", command, "/dev/null"], {
      env: { ...options.env, TERM: "xterm-256color" },
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true
    })
    live.add(child)
    let raw = ""
    let stderr = ""
    let answeredUpTo = 0
    let promptSeenAt: number | undefined
    let ended = false
    let timedOut = false
    const answers: Array<PtyAnswer> = []
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      raw += d
      if (!ended && new RegExp(`${SENTINEL}\\d+`).test(plain(raw))) {
        ended = true
        child.stdin!.end()
      }
    })
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    const poll = setInterval(() => {
      if (ended || answers.length >= 8) return
      const text = plain(raw)
      const fresh = text.slice(answeredUpTo)
      if (!PROMPT.test(fresh)) return
      promptSeenAt ??= Date.now()
      if (Date.now() - promptSeenAt < 700) return
      const question = [...fresh.matchAll(/◆\s+(.+)/g)].map((m) => m[1]!.trim()).pop() ?? "(no question line)"
      answers.push({ question, key: "Enter" })
      answeredUpTo = text.length
      promptSeenAt = undefined
      child.stdin!.write("\r")
    }, 100)
    const timer = setTimeout(() => {
      timedOut = true
      killGroup(child, "SIGTERM")
      setTimeout(() => killGroup(child, "SIGKILL"), 3000).unref()
    }, options.timeoutMs)
    child.on("error", (e) => {
      clearInterval(poll)
      clearTimeout(timer)
      live.delete(child)
      reject(e)
    })
    child.on("close", (code, signal) => {
      clearInterval(poll)
      clearTimeout(timer)
      live.delete(child)
      const transcript = plain(raw)
      const m = new RegExp(`${SENTINEL}(\\d+)`).exec(transcript)
      resolvePromise({
        pid: child.pid,
        code,
        signal,
        stdout: raw,
        stderr,
        ms: Date.now() - started,
        timedOut,
        exitCode: m ? Number(m[1]) : null,
        transcript,
        answers
      })
    })
  })

// =============================================================================
// The emulator
// =============================================================================

// The emulator's own types: `GET /__emulator/stats` and `GET /__emulator/events`.
export type { EmulatorEvent, Stats }

/** What the emulator's events show of a token: the first 12 hex digits of its SHA-256. */
export const digest = (token: string) => sha256(token).slice(0, 12)

export interface Emulator {
  readonly url: string
  stats(): Promise<Stats>
  events(): Promise<Array<EmulatorEvent>>
  stop(): Promise<void>
  output(): string
}

/** Starts `scripts/qwen-emulator.ts` on 127.0.0.1 (any free port) with `env` and extra flags. */
export const startEmulator = (flags: ReadonlyArray<string>, env: Record<string, string>, logFile: string): Promise<Emulator> =>
  new Promise((resolvePromise, reject) => {
    const args = [emulatorScript, "--port", "0", "--auto-approve-after", "1", "--interval", "1", ...flags]
    const child = spawn(node22, args, { env, cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], detached: true })
    live.add(child)
    let out = ""
    let settled = false
    const log = (d: string) => {
      out += d
      appendFileSync(logFile, d)
    }
    const fail = (why: string) => {
      if (settled) return
      settled = true
      killGroup(child, "SIGKILL")
      reject(new Failure(`the emulator ${why}:\n${tail(out)}`))
    }
    const timer = setTimeout(() => fail("printed no listening line within 20 s"), 20_000)
    child.on("close", () => {
      live.delete(child)
      fail("exited early")
    })
    child.stderr!.setEncoding("utf8").on("data", log)
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      log(d)
      const m = /qwen-emulator listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (m === null || settled) return
      settled = true
      clearTimeout(timer)
      const url = m[1]!
      resolvePromise({
        url,
        output: () => out,
        stats: async () => (await (await fetch(`${url}/__emulator/stats`)).json()) as Stats,
        events: async () => ((await (await fetch(`${url}/__emulator/events`)).json()) as { events: Array<EmulatorEvent> }).events,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done()
            const force = setTimeout(() => killGroup(child, "SIGKILL"), 5000)
            child.once("close", () => {
              clearTimeout(force)
              done()
            })
            killGroup(child, "SIGTERM")
          })
      })
    })
  })

// =============================================================================
// The guard's log
// =============================================================================

export interface Refusal {
  readonly host: string
  readonly port: string
  readonly via: string
  readonly pid: number
  readonly argv: ReadonlyArray<string>
}

export const readRefusals = (logFile: string): Array<Refusal> =>
  existsSync(logFile)
    ? readFileSync(logFile, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as Refusal)
    : []

/** Qwen's hosts (OAuth, portal API, DashScope), the ones no scenario may try to reach. */
export const isQwenHost = (host: string) => /(^|\.)qwen\.ai$|(^|\.)qwenlm\.ai$|(^|\.)aliyuncs\.com$|dashscope/i.test(host)

export const describeRefusal = (r: Refusal) => `${r.host}:${r.port} (${r.via}, pid ${r.pid}: ${r.argv.join(" ").slice(0, 120)})`

// =============================================================================
// OpenClaw's stores
// =============================================================================

/** OpenClaw 2026.3.24's auth-profiles.json of the main agent. */
export const authProfilesPath = (home: string) => join(home, ".openclaw/agents/main/agent/auth-profiles.json")

/**
 * `qwen-portal:default` as OpenClaw 2026.9.6 stores it: the shared store in the state database
 * (`auth.sharedStore` = state-db) or the main agent's database (legacy-main, the default).
 */
export const sqliteProfile = async (home: string): Promise<{ location: string; profile: any } | undefined> => {
  const { DatabaseSync } = await import("node:sqlite")
  const stateDb = join(home, ".openclaw/state/openclaw.sqlite")
  const agentDb = join(home, ".openclaw/agents/main/agent/openclaw-agent.sqlite")
  const open = (path: string) => {
    const db = new DatabaseSync(path, { readOnly: true })
    db.exec("PRAGMA busy_timeout = 5000")
    return db
  }
  let location = "legacy-main"
  if (existsSync(stateDb)) {
    const db = open(stateDb)
    try {
      const row = db.prepare("SELECT value_json FROM config_machine_state WHERE state_key = 'auth.sharedStore'").get() as
        | { value_json: string }
        | undefined
      if (row !== undefined) location = JSON.parse(row.value_json).location
      if (location === "state-db") {
        const store = db.prepare("SELECT value_json FROM config_machine_state WHERE state_key = 'authProfiles.store'").get() as
          | { value_json: string }
          | undefined
        return { location, profile: store === undefined ? undefined : JSON.parse(store.value_json).profiles?.["qwen-portal:default"] }
      }
    } finally {
      db.close()
    }
  }
  if (!existsSync(agentDb)) return undefined
  const db = open(agentDb)
  try {
    const row = db.prepare("SELECT store_json FROM auth_profile_store WHERE store_key = 'primary'").get() as
      | { store_json: string }
      | undefined
    return { location, profile: row === undefined ? undefined : JSON.parse(row.store_json).profiles?.["qwen-portal:default"] }
  } finally {
    db.close()
  }
}

/** A token shortened for messages (never printed whole). */
export const short = (token: unknown) => (typeof token === "string" ? `${token.slice(0, 6)}…(${token.length})` : String(token))

export const ensureDir = (path: string) => {
  mkdirSync(path, { recursive: true })
  return path
}

export const writeText = (path: string, text: string) => {
  ensureDir(dirname(path))
  writeFileSync(path, text)
}

// =============================================================================
// Watching ~/.qwen while processes run
// =============================================================================

export interface LockState {
  readonly at: number
  /** The lock file's content (its holder's id), or null when there is none. */
  readonly holder: string | null
}

export interface QwenDirWatch {
  /** Watched files that were there and then were not (deleted, not replaced by a rename). */
  deletions(): ReadonlyArray<{ readonly file: string; readonly at: number }>
  /** Every change of `oauth_creds.lock`, in order, starting with its state when watching began. */
  lockHistory(): ReadonlyArray<LockState>
  /** `oauth_creds.lock.stale.*` names that appeared (a stale-lock takeover renames the lock aside). */
  staleRenames(): ReadonlyArray<{ readonly name: string; readonly at: number }>
  stop(): void
}

/**
 * Watches a Qwen home folder (inotify events plus a 20 ms poll): which of `files` disappear, how
 * the lock's holder changes, and stale-lock takeovers. Reads only.
 */
export const watchQwenDir = (dir: string, files: ReadonlyArray<string>): QwenDirWatch => {
  ensureDir(dir)
  const lockPath = join(dir, "oauth_creds.lock")
  const present = new Map(files.map((f) => [f, existsSync(join(dir, f))]))
  const deletions: Array<{ file: string; at: number }> = []
  const lockHistory: Array<LockState> = []
  const staleRenames: Array<{ name: string; at: number }> = []
  const readLock = () => {
    try {
      return readFileSync(lockPath, "utf8")
    } catch {
      return null
    }
  }
  const check = () => {
    const at = Date.now()
    for (const f of files) {
      const now = existsSync(join(dir, f))
      if (present.get(f) === true && !now) deletions.push({ file: f, at })
      present.set(f, now)
    }
    const holder = readLock()
    if (lockHistory.length === 0 || lockHistory[lockHistory.length - 1]!.holder !== holder) lockHistory.push({ at, holder })
  }
  check()
  let watcher: ReturnType<typeof watch> | undefined
  try {
    watcher = watch(dir, (_event, name) => {
      if (typeof name === "string" && name.startsWith("oauth_creds.lock.stale.") && !staleRenames.some((r) => r.name === name)) staleRenames.push({ name, at: Date.now() })
      check()
    })
  } catch {}
  const timer = setInterval(check, 20)
  return {
    deletions: () => deletions,
    lockHistory: () => lockHistory,
    staleRenames: () => staleRenames,
    stop: () => {
      check()
      clearInterval(timer)
      watcher?.close()
    }
  }
}
