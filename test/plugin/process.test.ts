/**
 * The built entry in a plain Node process, as OpenClaw runs it: the default export (settings from
 * the environment), no `registerService` (so the runtime is disposed on `beforeExit`), and no
 * `process.exit` in the driver — the process must end by itself once the plugin's work is done.
 * Also the entry on a Node older than 22.19: import and register work, calls fail clearly.
 */
import { execFileSync, spawn } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type EmulatorProcess, login, startEmulatorProcess } from "../support/emulator.ts"
import { makeTempDir, nodeBin, repoRoot, type RunResult, scrubbedEnv } from "../support/processes.ts"
import { copyBundle, credentialFrom, findOldNode, readJson } from "./support.ts"

const DRIVER = `
const entry = (await import(process.argv[2])).default
const providers = []
entry.register({ registerProvider: (p) => providers.push(p) })
const provider = providers[0]
const settle = (p) => p.then((value) => ({ ok: true, value }), (e) => ({ ok: false, message: String(e?.message ?? e) }))
const mode = process.argv[3]
const out = { registered: providers.map((p) => p.id) }
if (mode === "calls") {
  out.auth = await settle(Promise.resolve().then(() => provider.auth[0].run({})))
  out.refresh = await settle(Promise.resolve().then(() => provider.refreshOAuth({ type: "oauth", provider: "qwen-portal", access: "a", refresh: "r", expires: 0 })))
  out.catalog = await settle(Promise.resolve().then(() => provider.catalog.run({ config: {}, resolveProviderApiKey: () => ({}) })))
}
if (mode === "refresh") out.refresh = await settle(provider.refreshOAuth(JSON.parse(process.env.PLUGIN_TEST_CRED)))
console.log(JSON.stringify(out))
`

/** Runs the driver with `bin`; a generous kill timer turns "never exits" into a failure. */
const runDriver = (bin: string, args: ReadonlyArray<string>, env: Record<string, string>): Promise<RunResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(bin, [driverPath, ...args], { env, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
    child.on("error", reject)
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })

let dir: ReturnType<typeof makeTempDir>
let entryFile: string
let driverPath: string

beforeAll(() => {
  dir = makeTempDir("qwen-plugin-process-")
  entryFile = copyBundle(join(dir.path, "bundle"))
  driverPath = join(dir.path, "driver.mjs")
  writeFileSync(driverPath, DRIVER)
})

afterAll(() => dir?.cleanup())

describe("in a Node 22 process", () => {
  let emu: EmulatorProcess
  beforeAll(async () => {
    emu = await startEmulatorProcess(["--interval", "1"])
  })
  afterAll(async () => {
    await emu?.stop()
  })

  it("imports and registers, then exits by itself", async () => {
    const home = makeTempDir("qwen-plugin-home-")
    try {
      const r = await runDriver(nodeBin, [entryFile, "register"], scrubbedEnv(home.path))
      expect(r.stderr).toBe("")
      expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null })
      expect(JSON.parse(r.stdout)).toEqual({ registered: ["qwen-portal"] })
    } finally {
      home.cleanup()
    }
  })

  it("refreshes with settings from the environment (QWEN_HOME, QWEN_OAUTH_BASE_URL), then exits by itself", async () => {
    const home = makeTempDir("qwen-plugin-home-")
    try {
      const tokens = await login(emu)
      const qwenHome = join(home.path, "custom-qwen")
      const env = scrubbedEnv(home.path, {
        QWEN_HOME: qwenHome,
        QWEN_OAUTH_BASE_URL: emu.url,
        PLUGIN_TEST_CRED: JSON.stringify(credentialFrom(tokens, Date.now() - 1000))
      })
      const r = await runDriver(nodeBin, [entryFile, "refresh"], env)
      expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({ code: 0, signal: null, stderr: "" })
      const out = JSON.parse(r.stdout)
      expect(out.refresh.ok).toBe(true)
      const file = readJson(join(qwenHome, "oauth_creds.json"))
      expect(file.access_token).toBe(out.refresh.value.access)
      expect(file.refresh_token).toBe(out.refresh.value.refresh)
      expect(out.refresh.value.refresh).not.toBe(tokens.refresh_token)
      expect((await emu.stats()).refreshGrants).toBe(1)
    } finally {
      home.cleanup()
    }
  })
})

describe("the package", () => {
  it("ships the manifest, the entry and its runtime bundle", () => {
    // --ignore-scripts: no `prepare` rebuild of dist/ under other tests' feet.
    const packed = JSON.parse(
      execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: repoRoot, encoding: "utf8" })
    )
    const paths: Array<string> = packed[0].files.map((f: { path: string }) => f.path)
    expect(paths).toEqual(
      expect.arrayContaining(["openclaw.plugin.json", "dist/openclaw-plugin.js", "dist/openclaw-plugin/runtime.js"])
    )
  })
})

describe("the entry file", () => {
  it("holds no Effect or undici code (those load on first use, from the runtime bundle)", () => {
    const text = readFileSync(entryFile, "utf8")
    expect(text).toContain("./openclaw-plugin/runtime.js")
    expect(text).not.toMatch(/~effect\/|undici/i)
  })
})

const oldNode = findOldNode()

describe.skipIf(oldNode === undefined)(`on Node ${oldNode?.version ?? "< 22.19 (none found: skipped)"}`, () => {
  it("imports and registers; every call fails saying it needs Node ≥ 22.19", async () => {
    const home = makeTempDir("qwen-plugin-home-")
    try {
      const r = await runDriver(oldNode!.bin, [entryFile, "calls"], scrubbedEnv(home.path))
      expect({ code: r.code, signal: r.signal, stderr: r.stderr }).toEqual({ code: 0, signal: null, stderr: "" })
      const out = JSON.parse(r.stdout)
      expect(out.registered).toEqual(["qwen-portal"])
      const message =
        `qwen-portal-auth needs Node ≥ 22.19; this OpenClaw runs on Node ${oldNode!.version}. Upgrade Node to use Qwen OAuth.`
      expect(out.auth).toEqual({ ok: false, message })
      expect(out.refresh).toEqual({ ok: false, message })
      expect(out.catalog).toEqual({ ok: false, message })
    } finally {
      home.cleanup()
    }
  })
})
