/**
 * Running the user's `openclaw` executable for `setup-openclaw`: a controlled environment, a time
 * limit, bounded output capture, and the two answers we read from it (`--version`,
 * `plugins list --json`). Nothing here writes a file.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Option, type PlatformError, Stream } from "effect"
import { ChildProcess, ChildProcessSpawner } from "effect/process"
import { isRecord, type JsonObject } from "../store/openclaw/Json.ts"
import { OpenClawCommandFailed, OpenClawNotFound, UnsupportedOpenClaw } from "./SetupErrors.ts"

// =============================================================================
// Constants
// =============================================================================

/** How much of a failed command's output is quoted. @since 0.1.0 @category constants */
export const QUOTE_CHARS = 2000
/** A quoted line longer than this is cut (one huge line must not crowd out the rest). */
const MAX_LINE_CHARS = 240
/** `plugins list --json` on 2026.3.24 prints ~130 KB; anything past this is not a plugin list. */
const MAX_STDOUT_BYTES = 16 * 1024 * 1024
/** stderr is only ever quoted (its end); 2026.3.24 repeats one warning hundreds of times there. */
const MAX_STDERR_BYTES = 256 * 1024
/** After SIGTERM (time limit or interrupt), SIGKILL the process group this much later. */
const FORCE_KILL_AFTER = Duration.seconds(3)

/** Time limits per command: `--version` is instant, `plugins install` scans the package. */
export const TIMEOUTS = {
  version: Duration.seconds(30),
  list: Duration.minutes(2),
  install: Duration.minutes(5)
} as const

// =============================================================================
// Environment
// =============================================================================

const PASS_EXACT = new Set([
  "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR", "TMP", "TEMP", "LANG", "LANGUAGE", "TZ",
  "NODE_OPTIONS", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR",
  "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
  "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"
])
const PASS_PREFIXES = ["LC_", "OPENCLAW_"]

/**
 * The environment OpenClaw runs with: only what a program needs to find its files, locale,
 * certificates and proxy, plus the user's own `OPENCLAW_*` settings (API keys and other secrets
 * of unrelated tools stay behind). The state folder and config path are set to the ones
 * qwen-auth resolved, so both programs look at the same files; colours are off.
 *
 * @since 0.1.0
 * @category environment
 */
export const childEnv = (
  env: Readonly<Record<string, string | undefined>>,
  paths: { readonly stateDir: string; readonly configPath: string }
): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined || key === "OPENCLAW_BIN") continue
    if (PASS_EXACT.has(key) || PASS_PREFIXES.some((p) => key.startsWith(p))) out[key] = value
  }
  return { ...out, OPENCLAW_STATE_DIR: paths.stateDir, OPENCLAW_CONFIG_PATH: paths.configPath, NO_COLOR: "1", FORCE_COLOR: "0" }
}

// =============================================================================
// Output
// =============================================================================

const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-_]/g
// C0 controls except tab and newline, DEL, C1 controls, and bidi overrides/isolates.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g

/**
 * Output fit to quote: escape sequences and control characters removed, runs of one repeated
 * line folded into one (2026.3.24 prints the same warning hundreds of times), long lines cut, at
 * most `QUOTE_CHARS` characters (the end is kept: errors come last).
 *
 * @since 0.1.0
 * @category output
 */
export const quoteOutput = (text: string, max: number = QUOTE_CHARS): string => {
  const lines = text.replace(/\r\n?/g, "\n").replace(ANSI, "").replace(CONTROL, "").split("\n")
    .map((l) => l.trimEnd())
    .map((l) => (l.length <= MAX_LINE_CHARS ? l : `${l.slice(0, MAX_LINE_CHARS - 1)}…`))
  const folded: Array<string> = []
  let previous: string | undefined
  let repeats = 0
  const flush = () => {
    if (repeats > 0) folded.push(`(the line above repeated ${repeats} more time${repeats === 1 ? "" : "s"})`)
    repeats = 0
  }
  for (const line of lines) {
    if (line === previous && line !== "") {
      repeats++
      continue
    }
    flush()
    folded.push(line)
    previous = line
  }
  flush()
  const joined = folded.join("\n").trim()
  return joined.length <= max ? joined : `…${joined.slice(joined.length - max + 1)}`
}

/** A command's captured output. @since 0.1.0 @category models */
export interface Output {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
  /** stdout went past its bound, so only its end was kept. */
  readonly stdoutTruncated: boolean
}

/** Keeps at most `max` bytes of a stream: its end. */
const makeBuffer = (max: number) => {
  const chunks: Array<Uint8Array> = []
  let size = 0
  let truncated = false
  return {
    push: (chunk: Uint8Array) => {
      chunks.push(chunk)
      size += chunk.length
      while (size > max && chunks.length > 1) {
        size -= chunks.shift()!.length
        truncated = true
      }
      if (size > max) {
        const only = chunks[0]!
        chunks[0] = only.subarray(only.length - max)
        size = max
        truncated = true
      }
    },
    text: () => {
      const all = new Uint8Array(size)
      let at = 0
      for (const c of chunks) {
        all.set(c, at)
        at += c.length
      }
      return new TextDecoder("utf-8", { fatal: false }).decode(all)
    },
    truncated: () => truncated
  }
}

/** How a command is shown to people: `openclaw plugins list --json`. */
export const showCommand = (bin: string, args: ReadonlyArray<string>): string => [bin, ...args].join(" ")

/**
 * Runs `bin args…` with `env`, stdin closed, within `timeout`, capturing bounded output. A binary
 * that cannot be started is `OpenClawNotFound`; running out of time is `OpenClawCommandFailed`
 * quoting what it printed so far. A non-zero exit is returned, not failed: callers decide.
 *
 * @since 0.1.0
 * @category running
 */
export const run = Effect.fnUntraced(function*(
  bin: string,
  args: ReadonlyArray<string>,
  options: { readonly env: Record<string, string>; readonly timeout: Duration.Duration }
): Effect.fn.Return<Output, OpenClawNotFound | OpenClawCommandFailed, ChildProcessSpawner.ChildProcessSpawner> {
  const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
  const stdout = makeBuffer(MAX_STDOUT_BYTES)
  const stderr = makeBuffer(MAX_STDERR_BYTES)
  const shown = showCommand(bin, args)
  const failed = (problem: string) =>
    new OpenClawCommandFailed({ command: shown, problem, output: quoteOutput(`${stderr.text()}\n${stdout.text()}`) })
  const command = ChildProcess.make(bin, args, {
    env: options.env,
    extendEnv: false,
    stdin: "ignore",
    forceKillAfter: FORCE_KILL_AFTER
  })
  const drain = (s: Stream.Stream<Uint8Array, PlatformError.PlatformError>, into: ReturnType<typeof makeBuffer>) =>
    Stream.runForEach(s, (chunk) => Effect.sync(() => into.push(chunk))).pipe(Effect.ignore)
  const spawnError = (error: PlatformError.PlatformError): OpenClawNotFound | OpenClawCommandFailed =>
    error.reason._tag === "NotFound" || error.reason._tag === "PermissionDenied"
      ? new OpenClawNotFound({ bin, detail: error.reason._tag === "NotFound" ? "no such file" : "permission denied" })
      : failed(`could not run: ${error.reason.description ?? error.reason._tag}`)
  const exitCode = yield* Effect.scoped(Effect.gen(function*() {
    const handle = yield* spawner.spawn(command)
    const [, , code] = yield* Effect.all([drain(handle.stdout, stdout), drain(handle.stderr, stderr), handle.exitCode], {
      concurrency: "unbounded"
    })
    return code
  })).pipe(Effect.mapError(spawnError), Effect.timeoutOption(options.timeout))
  if (Option.isNone(exitCode)) return yield* failed(`did not finish within ${Duration.format(options.timeout)}`)
  return { exitCode: exitCode.value, stdout: stdout.text(), stderr: stderr.text(), stdoutTruncated: stdout.truncated() }
})

/**
 * `run`, failing with the command's quoted output unless it exits 0.
 *
 * @since 0.1.0
 * @category running
 */
export const runOk = Effect.fnUntraced(function*(
  bin: string,
  args: ReadonlyArray<string>,
  options: { readonly env: Record<string, string>; readonly timeout: Duration.Duration }
) {
  const out = yield* run(bin, args, options)
  if (out.exitCode !== 0) {
    return yield* new OpenClawCommandFailed({
      command: showCommand(bin, args),
      problem: `failed (exit ${out.exitCode})`,
      output: quoteOutput(`${out.stderr}\n${out.stdout}`)
    })
  }
  return out
})

// =============================================================================
// Answers
// =============================================================================

/** An OpenClaw release, `2026.3.24`, compared by date. @since 0.1.0 @category models */
export interface Release {
  readonly year: number
  readonly month: number
  readonly day: number
  /** As printed, e.g. `2026.3.24` or `2026.1.24-3`. */
  readonly text: string
}

/** @since 0.1.0 @category utils */
export const compareRelease = (a: Pick<Release, "year" | "month" | "day">, b: Pick<Release, "year" | "month" | "day">) =>
  a.year - b.year || a.month - b.month || a.day - b.day

/**
 * The release `openclaw --version` names: `OpenClaw 2026.3.24 (cff6dc9)` (what both measured
 * releases print) or a bare `2026.3.24`; anything else is `undefined`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseVersion = (stdout: string): Release | undefined => {
  const line = quoteOutput(stdout).split("\n").map((l) => l.trim()).find((l) => /\d{4}\.\d{1,2}\.\d{1,2}/.test(l))
  const m = line === undefined ? null : /^(?:OpenClaw\s+)?v?(\d{4})\.(\d{1,2})\.(\d{1,2})(-[0-9A-Za-z.]+)?(?:\s+\([0-9a-f]+\))?$/i.exec(line)
  if (m === null) return undefined
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])]
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined
  return { year, month, day, text: `${m[1]}.${m[2]}.${m[3]}${m[4] ?? ""}` }
}

/**
 * The JSON object in `plugins list --json` output: OpenClaw may print log lines first (2026.3.24
 * prints `[agents/auth-profiles] …` on stdout), so it starts at the first line beginning with `{`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseJsonOutput = (stdout: string): JsonObject | undefined => {
  const lines = stdout.split("\n")
  const start = lines.findIndex((l) => l.startsWith("{"))
  if (start < 0) return undefined
  // Usually the rest is the object; else try the longest slice ending in a closing brace.
  for (let end = lines.length; end > start; end--) {
    const last = lines[end - 1]?.trimEnd()
    if (end !== lines.length && last !== "}") continue
    try {
      const value: unknown = JSON.parse(lines.slice(start, end).join("\n"))
      if (isRecord(value)) return value
    } catch {
      // keep looking
    }
  }
  return undefined
}

/** One plugin as `plugins list --json` reports it (the fields setup reads). @since 0.1.0 @category models */
export interface ListedPlugin {
  readonly id: string
  readonly origin: string
  readonly status: string
  readonly enabled: boolean
  readonly rootDir: string | undefined
  readonly providerIds: ReadonlyArray<string>
  readonly error: string | undefined
}

/**
 * The plugins of a `plugins list --json` answer, or `undefined` when it has no `plugins` array.
 *
 * @since 0.1.0
 * @category parsing
 */
export const listedPlugins = (answer: JsonObject): ReadonlyArray<ListedPlugin> | undefined => {
  const plugins = answer.plugins
  if (!Array.isArray(plugins)) return undefined
  return plugins.filter(isRecord).map((p) => ({
    id: typeof p.id === "string" ? p.id : "",
    origin: typeof p.origin === "string" ? p.origin : "",
    status: typeof p.status === "string" ? p.status : "",
    enabled: p.enabled === true,
    rootDir: typeof p.rootDir === "string" ? p.rootDir : undefined,
    providerIds: Array.isArray(p.providerIds) ? p.providerIds.filter((x): x is string => typeof x === "string") : [],
    error: typeof p.error === "string" ? p.error : undefined
  }))
}

/**
 * Runs `<bin> --version` and returns the release, or fails (`UnsupportedOpenClaw`) when it names
 * none.
 *
 * @since 0.1.0
 * @category running
 */
export const version = Effect.fnUntraced(function*(bin: string, env: Record<string, string>) {
  const out = yield* runOk(bin, ["--version"], { env, timeout: TIMEOUTS.version })
  const release = parseVersion(out.stdout)
  if (release === undefined) {
    const said = quoteOutput(out.stdout, 200)
    return yield* new UnsupportedOpenClaw({
      version: said === "" ? "(nothing)" : said,
      reason: "its --version output names no release (expected e.g. `OpenClaw 2026.3.24 (cff6dc9)`)"
    })
  }
  return release
})

/**
 * Runs `<bin> plugins list --json` and returns its plugins.
 *
 * @since 0.1.0
 * @category running
 */
export const listPlugins = Effect.fnUntraced(function*(bin: string, env: Record<string, string>) {
  const args = ["plugins", "list", "--json"]
  const out = yield* runOk(bin, args, { env, timeout: TIMEOUTS.list })
  const answer = out.stdoutTruncated ? undefined : parseJsonOutput(out.stdout)
  const plugins = answer === undefined ? undefined : listedPlugins(answer)
  if (plugins === undefined) {
    return yield* new OpenClawCommandFailed({
      command: showCommand(bin, args),
      problem: "printed no plugin list (expected a JSON object with `plugins`)",
      output: quoteOutput(`${out.stderr}\n${out.stdout}`)
    })
  }
  return plugins
})
