/**
 * Spawning lock peers (test/fixtures) as separate processes with scrubbed environments.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { join } from "node:path"
import { nodeBin, repoRoot, scrubbedEnv } from "../support/processes.ts"

export const fixture = (name: string) => join(repoRoot, "test/fixtures", name)

export interface Peer {
  readonly child: ChildProcess
  /** Resolves when a line equal to `line` appears on stdout (or stderr for markers). */
  readonly waitFor: (line: string) => Promise<void>
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>
  readonly lines: Array<string>
}

/** Starts `node <fixture> ...args` in `home` with a scrubbed environment. */
export const startPeer = (
  script: string,
  args: ReadonlyArray<string>,
  home: string,
  extraEnv: Record<string, string> = {}
): Peer => {
  const child = spawn(nodeBin, [fixture(script), ...args], {
    env: scrubbedEnv(home, extraEnv),
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"]
  })
  const lines: Array<string> = []
  const waiters: Array<{ line: string; resolve: () => void }> = []
  let stderr = ""
  const onData = (chunk: string) => {
    for (const line of chunk.split("\n").filter((l) => l !== "")) {
      lines.push(line)
      for (const w of waiters.filter((w) => w.line === line)) w.resolve()
    }
  }
  child.stdout!.setEncoding("utf8").on("data", onData)
  child.stderr!.setEncoding("utf8").on("data", (d: string) => {
    stderr += d
    onData(d)
  })
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stderr }))
  )
  const waitFor = (line: string) =>
    lines.includes(line)
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => {
        waiters.push({ line, resolve })
        void exit.then((e) => reject(new Error(`peer exited (${e.code ?? e.signal}) before "${line}": ${e.stderr}`)))
      })
  return { child, waitFor, exit, lines }
}
