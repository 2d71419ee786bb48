/** Running a child process to completion and timing it (wall clock, from spawn to exit). */
import { spawn } from "node:child_process"

export interface Timed {
  readonly ms: number
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export const runTimed = (
  command: string,
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  timeoutMs = 60_000
): Promise<Timed> =>
  new Promise((resolve, reject) => {
    const start = performance.now()
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    child.on("error", reject)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ ms: performance.now() - start, code, stdout, stderr })
    })
  })
