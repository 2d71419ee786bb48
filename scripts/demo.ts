/**
 * `npm run demo`: the whole product without a Qwen account. Starts the Qwen OAuth emulator on
 * 127.0.0.1 (auto-approving the device code, as if a user clicked "Authorize"), logs in with the
 * real CLI into a throwaway home folder, then prints `qwen-auth status` and a token check.
 */
import { execFileSync, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
// The demo runs the real CLI bundle: build it first so it is never stale.
execFileSync(process.execPath, [join(root, "scripts/build.mjs")], { cwd: root, stdio: "inherit" })
const home = mkdtempSync(join(tmpdir(), "qwen-auth-demo-"))

const emulator = spawn(
  process.execPath,
  [join(root, "scripts/qwen-emulator.ts"), "--port", "0", "--auto-approve-after", "1", "--interval", "1"],
  { stdio: ["ignore", "pipe", "inherit"], env: { PATH: process.env.PATH ?? "", HOME: home } }
)

const url = await new Promise<string>((resolveUrl, reject) => {
  const lines = createInterface({ input: emulator.stdout })
  lines.once("line", (line) => {
    const match = /^qwen-emulator listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line)
    if (match?.[1]) resolveUrl(match[1])
    else reject(new Error(`unexpected emulator output: ${line}`))
  })
  emulator.once("exit", (code) => reject(new Error(`emulator exited early (${code})`)))
})

const env = {
  PATH: process.env.PATH ?? "",
  HOME: home,
  QWEN_OAUTH_BASE_URL: url,
  QWEN_AUTH_NO_BROWSER: "1"
}

const run = (args: ReadonlyArray<string>) =>
  new Promise<number>((resolveCode) => {
    console.log(`\n$ qwen-auth ${args.join(" ")}`)
    const child = spawn(process.execPath, [join(root, "dist/cli.js"), ...args], { stdio: "inherit", env })
    child.on("exit", (code) => resolveCode(code ?? 1))
  })

let failed = 0
try {
  console.log(`Qwen OAuth emulator at ${url}; throwaway HOME ${home}`)
  for (const args of [["login", "--set-default"], ["status"], ["models", "list"]]) {
    const code = await run(args)
    if (code !== 0) failed = code
  }
} finally {
  emulator.kill("SIGTERM")
  rmSync(home, { recursive: true, force: true })
}
process.exitCode = failed
