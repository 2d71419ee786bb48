/**
 * Test helpers for the Qwen OAuth emulator (src/emulator, emulator.md).
 *
 * - `startEmulatorProcess(flags)`: `scripts/qwen-emulator.ts` as a child process (scrubbed env,
 *   temp HOME), resolved once it printed its listening line; `stop()` always kills it.
 * - `startEmulator(options)`: the same server in this process (no child), for fast tests.
 * - `pkce()`, `postForm()`, `deviceAuthorize()`, `pollToken()`, `refreshToken()`, `login()`:
 *   a tiny client speaking protocol.md, to set up or check state from tests.
 */
import { Effect, Exit, Scope } from "effect"
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import { join } from "node:path"
import type { EmulatorOptions } from "../../src/emulator/EmulatorConfig.ts"
import { type EmulatorHandle, make as makeEmulator } from "../../src/emulator/Emulator.ts"
import { DEVICE_GRANT_TYPE } from "../../src/emulator/EmulatorState.ts"
import type { Stats } from "../../src/emulator/Stats.ts"
import { makeTempDir, nodeBin, repoRoot, scrubbedEnv } from "./processes.ts"

export type { Stats } from "../../src/emulator/Stats.ts"

export const emulatorScript = join(repoRoot, "scripts/qwen-emulator.ts")
export const LISTENING_LINE = /^qwen-emulator listening on (http:\/\/127\.0\.0\.1:(\d+))$/

/** The control surface shared by the process and the in-process emulator. */
export interface EmulatorControl {
  readonly url: string
  readonly port: number
  stats(): Promise<Stats>
  /** `true` when the code was pending (204), `false` when unknown (404). */
  approve(userCode: string): Promise<boolean>
  deny(userCode: string): Promise<boolean>
  revoke(): Promise<void>
  reset(): Promise<void>
  /** `GET /__emulator/mode`. */
  mode(): Promise<string>
  /** `POST /__emulator/mode?set=…`; resolves with the status (204, or 400 for an unknown mode). */
  setMode(mode: string): Promise<number>
}

export interface EmulatorProcess extends EmulatorControl {
  readonly child: ChildProcessWithoutNullStreams
  /** Everything the child wrote so far. */
  stdout(): string
  stderr(): string
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it ended. Safe to call twice. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

const control = (url: string, port: number): EmulatorControl => {
  const post = async (path: string, userCode?: string) => {
    const query = userCode === undefined ? "" : `?user_code=${encodeURIComponent(userCode)}`
    const res = await fetch(`${url}/__emulator/${path}${query}`, { method: "POST" })
    await res.arrayBuffer()
    return res.status
  }
  return {
    url,
    port,
    stats: async () => (await (await fetch(`${url}/__emulator/stats`)).json()) as Stats,
    approve: async (code) => (await post("approve", code)) === 204,
    deny: async (code) => (await post("deny", code)) === 204,
    revoke: async () => void (await post("revoke")),
    reset: async () => void (await post("reset")),
    mode: async () => ((await (await fetch(`${url}/__emulator/mode`)).json()) as { mode: string }).mode,
    setMode: async (mode) => {
      const res = await fetch(`${url}/__emulator/mode?set=${encodeURIComponent(mode)}`, { method: "POST" })
      await res.arrayBuffer()
      return res.status
    }
  }
}

/**
 * Spawns the emulator with `flags` (e.g. `["--interval", "1", "--auto-approve-after", "2"]`; a
 * `--port` is up to you, default any free port) and waits for its listening line. Rejects with
 * its stderr if it exits, prints something else first, or is not listening within `timeoutMs`.
 */
export const startEmulatorProcess = (
  flags: ReadonlyArray<string> = [],
  options: { timeoutMs?: number; env?: Record<string, string> } = {}
): Promise<EmulatorProcess> =>
  new Promise((resolve, reject) => {
    const home = makeTempDir("qwen-emulator-home-")
    const child = spawn(nodeBin, [emulatorScript, ...flags], {
      env: scrubbedEnv(home.path, options.env),
      cwd: repoRoot,
      stdio: ["pipe", "pipe", "pipe"]
    })
    child.stdin.end()
    let stdout = ""
    let stderr = ""
    let settled = false
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined
    const exitWaiters: Array<() => void> = []
    const fail = (why: string) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      child.kill("SIGKILL")
      home.cleanup()
      reject(new Error(`qwen-emulator ${why}\nargs: ${flags.join(" ")}\nstdout: ${stdout}\nstderr: ${stderr}`))
    }
    const timer = setTimeout(() => fail(`not listening after ${options.timeoutMs ?? 15_000} ms`), options.timeoutMs ?? 15_000)
    child.on("error", (e) => fail(`failed to start: ${e.message}`))
    child.on("close", (code, signal) => {
      exited = { code, signal }
      fail(`exited early (code ${code}, signal ${signal})`)
      for (const w of exitWaiters.splice(0)) w()
    })
    // Ready once stdout has the listening line and stderr the settings line (written before it,
    // but the two pipes race).
    const check = () => {
      if (settled) return
      const nl = stdout.indexOf("\n")
      if (nl < 0) return
      const match = LISTENING_LINE.exec(stdout.slice(0, nl))
      if (match === null) return fail(`printed an unexpected first line`)
      if (!/^qwen-emulator: seed /m.test(stderr)) return
      settled = true
      clearTimeout(timer)
      const url = match[1]!
      const port = Number(match[2])
      let stopping: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined
      resolve({
        ...control(url, port),
        child,
        stdout: () => stdout,
        stderr: () => stderr,
        stop: (graceMs = 5000) =>
          (stopping ??= new Promise((done) => {
            const finish = () => {
              clearTimeout(killer)
              home.cleanup()
              done(exited!)
            }
            const killer = setTimeout(() => child.kill("SIGKILL"), graceMs)
            if (exited !== undefined) return finish()
            exitWaiters.push(finish)
            child.kill("SIGTERM")
          }))
      })
    }
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d
      check()
    })
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d
      check()
    })
  })

export interface InProcessEmulator extends EmulatorControl {
  readonly handle: EmulatorHandle
  close(): Promise<void>
}

/** Starts the emulator inside the test process (same server, no child). */
export const startEmulator = async (options: EmulatorOptions = {}): Promise<InProcessEmulator> => {
  const scope = await Effect.runPromise(Scope.make())
  try {
    const handle = await Effect.runPromise(Scope.provide(scope)(makeEmulator(options)))
    return {
      ...control(handle.url, handle.port),
      handle,
      close: () => Effect.runPromise(Scope.close(scope, Exit.void))
    }
  } catch (e) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw e
  }
}

/** Runs `f` against a fresh in-process emulator, closing it afterwards. */
export const withEmulator = async <A>(options: EmulatorOptions, f: (emu: InProcessEmulator) => Promise<A>) => {
  const emu = await startEmulator(options)
  try {
    return await f(emu)
  } finally {
    await emu.close()
  }
}

// -------------------------------------------------------------------------------------------------
// A tiny protocol client (protocol.md), for tests only.

export const DEFAULT_CLIENT_ID = "f0304373b74a44d2b584a3fb70ca9e56"
export const DEFAULT_SCOPE = "openid profile email model.completion"

export const pkce = () => {
  const verifier = randomBytes(32).toString("base64url")
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") }
}

export interface FormResponse {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  /** Parsed JSON body, or `undefined` when the body is not JSON. */
  readonly json: any
}

export const postForm = async (url: string, fields: Record<string, string>, init: RequestInit = {}): Promise<FormResponse> => {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams(fields).toString(),
    ...init
  })
  const text = await res.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.status, headers: res.headers, text, json }
}

export const deviceAuthorize = (
  url: string,
  challenge: string,
  fields: Partial<Record<"client_id" | "scope" | "code_challenge" | "code_challenge_method", string>> = {}
) =>
  postForm(`${url}/api/v1/oauth2/device/code`, {
    client_id: DEFAULT_CLIENT_ID,
    scope: DEFAULT_SCOPE,
    code_challenge: challenge,
    code_challenge_method: "S256",
    ...fields
  })

export const pollToken = (url: string, deviceCode: string, verifier: string, clientId = DEFAULT_CLIENT_ID) =>
  postForm(`${url}/api/v1/oauth2/token`, {
    grant_type: DEVICE_GRANT_TYPE,
    client_id: clientId,
    device_code: deviceCode,
    code_verifier: verifier
  })

export const refreshToken = (url: string, token: string, clientId = DEFAULT_CLIENT_ID, headers: Record<string, string> = {}) =>
  postForm(
    `${url}/api/v1/oauth2/token`,
    { grant_type: "refresh_token", refresh_token: token, client_id: clientId },
    Object.keys(headers).length === 0 ? {} : { headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json", ...headers } }
  )

/**
 * A whole login against an emulator started without faults: device code, approval through the
 * control endpoint, one poll. Returns the token response body.
 */
export const login = async (emu: EmulatorControl): Promise<{
  access_token: string
  refresh_token: string
  expires_in: number
  token_type: string
  resource_url?: string
}> => {
  const { verifier, challenge } = pkce()
  const device = await deviceAuthorize(emu.url, challenge)
  if (device.status !== 200) throw new Error(`device code: ${device.status} ${device.text}`)
  if (!(await emu.approve(device.json.user_code))) throw new Error("approve failed")
  const token = await pollToken(emu.url, device.json.device_code, verifier)
  if (token.status !== 200) throw new Error(`token: ${token.status} ${token.text}`)
  return token.json
}
