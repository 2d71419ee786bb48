/**
 * The emulator as a process: its first stdout line, the seed on stderr, a login through it, and a
 * clean exit (code 0, port closed) on SIGTERM and SIGINT.
 */
import { createServer } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import { emulatorScript, type EmulatorProcess, login, postForm, startEmulatorProcess } from "../support/emulator.ts"
import { makeTempDir, runNode, scrubbedEnv } from "../support/processes.ts"

let running: Array<EmulatorProcess> = []
const start = async (flags: Array<string>) => {
  const p = await startEmulatorProcess(flags)
  running.push(p)
  return p
}
afterEach(async () => {
  await Promise.all(running.map((p) => p.stop()))
  running = []
})

const portClosed = async (url: string) => {
  try {
    const res = await fetch(`${url}/__emulator/stats`)
    await res.arrayBuffer()
    return false
  } catch {
    return true
  }
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = createServer()
    srv.on("error", reject)
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address()
      srv.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

describe("npm run emulator", () => {
  it("prints exactly the listening line first, the seed on stderr, and serves the protocol", async () => {
    const emu = await start(["--port", "0", "--interval", "0", "--seed", "4242"])
    expect(emu.stdout().split("\n")[0]).toBe(`qwen-emulator listening on http://127.0.0.1:${emu.port}`)
    expect(emu.port).toBeGreaterThan(0)
    expect(emu.stderr()).toMatch(/seed 4242/)
    const tokens = await login(emu)
    const models = await fetch(`${emu.url}/v1/models`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
    expect(models.status).toBe(200)
    await models.json()
    expect(await emu.stats()).toMatchObject({ deviceAuthorizations: 1, deviceGrants: 1, apiCalls: 1, liveRefreshTokens: 1 })
    // no secret reaches the output
    expect(emu.stdout() + emu.stderr()).not.toContain(tokens.access_token)
    expect(emu.stdout() + emu.stderr()).not.toContain(tokens.refresh_token)
    expect(await emu.stop()).toEqual({ code: 0, signal: null })
    expect(await portClosed(emu.url)).toBe(true)
  })

  it("prints a random seed when none is given, and binds the --port asked for", async () => {
    const port = await freePort()
    const emu = await start(["--port", String(port)])
    expect(emu.port).toBe(port)
    expect(emu.stderr()).toMatch(/seed \d+/)
  })

  it("SIGINT also stops it cleanly", async () => {
    const emu = await start([])
    emu.child.kill("SIGINT")
    expect(await emu.stop()).toEqual({ code: 0, signal: null })
    expect(await portClosed(emu.url)).toBe(true)
  })

  it("SIGTERM with a request in flight still exits 0 and closes the port", async () => {
    const emu = await start(["--fault-rate", "1", "--faults", "delay"])
    const inFlight = fetch(`${emu.url}/v1/models`).then((r) => r.status, () => "failed")
    await new Promise((r) => setTimeout(r, 300))
    expect(await emu.stop()).toEqual({ code: 0, signal: null })
    expect(await portClosed(emu.url)).toBe(true)
    await inFlight
  })

  it("a bad flag exits 2 with a message; startEmulatorProcess rejects with it", async () => {
    const home = makeTempDir()
    try {
      const res = await runNode(emulatorScript, ["--interval", "soon"], { env: scrubbedEnv(home.path) })
      expect(res.code).toBe(2)
      expect(res.stdout).toBe("")
      expect(res.stderr).toMatch(/--interval needs a non-negative number/)
    } finally {
      home.cleanup()
    }
    await expect(startEmulatorProcess(["--bogus"])).rejects.toThrow(/unknown flag --bogus/)
  })

  it("--help lists the mode flags and the run-time switch, exit 0", async () => {
    const home = makeTempDir()
    try {
      const res = await runNode(emulatorScript, ["--help"], { env: scrubbedEnv(home.path) })
      expect(res.code).toBe(0)
      for (const flag of ["--discontinued", "--moved", "--reject-client"]) expect(res.stdout).toMatch(new RegExp(`^  ${flag} `, "m"))
      expect(res.stdout).toContain("POST /__emulator/mode?set=normal|discontinued|moved|reject-client")
    } finally {
      home.cleanup()
    }
  })

  it("--reject-client as a process: the mode on stderr and in effect, switchable at run time", async () => {
    const emu = await start(["--reject-client", "--interval", "0"])
    expect(emu.stderr()).toMatch(/mode reject-client/)
    expect(await emu.mode()).toBe("reject-client")
    const refused = await postForm(`${emu.url}/api/v1/oauth2/device/code`, { client_id: "x" })
    expect([refused.status, refused.text]).toEqual([401, `{"error":"invalid_client"}`])
    expect(await emu.setMode("normal")).toBe(204)
    expect((await login(emu)).token_type).toBe("Bearer")
  })

  it("a port in use exits 1 with a message", async () => {
    const emu = await start([])
    await expect(startEmulatorProcess(["--port", String(emu.port)])).rejects.toThrow(/cannot listen/)
  })
})
