/**
 * Helpers for process tests: every child gets an environment built from scratch (no inherited
 * HOME, QWEN_HOME, OPENCLAW_*, proxies), and every test works in its own temp folder.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, realpathSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..")
export const cliPath = join(repoRoot, "dist/cli.js")
/** The Node binary running the tests: Node 22 from the `node` devDependency. */
export const nodeBin = process.execPath

/** A fresh temp folder; remove it with the returned `cleanup`. */
export const makeTempDir = (prefix = "qwen-auth-test-") => {
  const path = realpathSync(mkdtempSync(join(tmpdir(), prefix)))
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) }
}

/**
 * An environment from scratch: only PATH (so `node` resolves to the test's Node), a temp HOME,
 * a neutral locale, and what the test adds.
 */
export const scrubbedEnv = (home: string, extra: Record<string, string> = {}): Record<string, string> => ({
  PATH: `${dirname(nodeBin)}:/usr/local/bin:/usr/bin:/bin`,
  HOME: home,
  LANG: "C",
  TZ: "UTC",
  ...extra
})

export interface RunResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs `node <script> ...args` to completion with the given environment. */
export const runNode = (
  script: string,
  args: ReadonlyArray<string>,
  options: { env: Record<string, string>; cwd?: string; input?: string; timeoutMs?: number }
): Promise<RunResult> =>
  new Promise((resolvePromise, reject) => {
    const child = spawn(nodeBin, [script, ...args], {
      env: options.env,
      cwd: options.cwd ?? repoRoot,
      stdio: ["pipe", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000)
    child.on("error", reject)
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      resolvePromise({ code, signal, stdout, stderr })
    })
    child.stdin.end(options.input ?? "")
  })

/** Runs the built CLI (`dist/cli.js`). */
export const runCli = (
  args: ReadonlyArray<string>,
  options: { env: Record<string, string>; cwd?: string; timeoutMs?: number }
) => runNode(cliPath, args, options)
