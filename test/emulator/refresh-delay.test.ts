/**
 * `--refresh-delay MS` (a slow token endpoint for refreshes), `--login-access-ttl S` (logins
 * that expire soon, refreshed tokens that live `--access-ttl`), `GET /__emulator/events` (which
 * token each grant issued and each refresh or API call presented) and chat messages whose content
 * is an array of parts (as Qwen Code sends them).
 */
import { afterEach, describe, expect, it } from "vitest"
import { defaultConfig, type EmulatorOptions, resolveConfig } from "../../src/emulator/EmulatorConfig.ts"
import { tokenDigest } from "../../src/emulator/EmulatorState.ts"
import { parseFlags } from "../../src/emulator/flags.ts"
import {
  DEFAULT_CLIENT_ID,
  type EmulatorProcess,
  type InProcessEmulator,
  login,
  refreshToken,
  startEmulator,
  startEmulatorProcess
} from "../support/emulator.ts"

let emus: Array<InProcessEmulator> = []
let processes: Array<EmulatorProcess> = []
const start = async (options: EmulatorOptions = {}) => {
  const e = await startEmulator({ interval: 0, ...options })
  emus.push(e)
  return e
}
afterEach(async () => {
  await Promise.all([...emus.map((e) => e.close()), ...processes.map((p) => p.stop())])
  emus = []
  processes = []
})
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const events = async (url: string) => ((await (await fetch(`${url}/__emulator/events`)).json()) as { events: Array<any> }).events

describe("--refresh-delay", () => {
  it("parses as a non-negative integer of milliseconds, default 0", () => {
    expect(defaultConfig.refreshDelay).toBe(0)
    const parsed = parseFlags(["--refresh-delay", "15000"])
    expect(parsed._tag === "Options" && resolveConfig(parsed.options).refreshDelay).toBe(15000)
    const inline = parseFlags(["--refresh-delay=250"])
    expect(inline._tag === "Options" && inline.options.refreshDelay).toBe(250)
    for (const bad of [["--refresh-delay", "-1"], ["--refresh-delay", "1.5"], ["--refresh-delay", "x"], ["--refresh-delay"]]) {
      const r = parseFlags(bad)
      expect(r._tag).toBe("Invalid")
      expect(r._tag === "Invalid" && r.message).toMatch(/--refresh-delay/)
    }
  })

  it("holds refresh grants, not device grants, then answers normally", async () => {
    const e = await start({ refreshDelay: 1200 })
    const t0 = performance.now()
    const tokens = await login(e)
    expect(performance.now() - t0).toBeLessThan(1000)
    const t1 = performance.now()
    const r = await refreshToken(e.url, tokens.refresh_token)
    expect(performance.now() - t1).toBeGreaterThanOrEqual(1150)
    expect(r.status).toBe(200)
    expect(await e.stats()).toMatchObject({ refreshRequests: 1, refreshGrants: 1, refreshesHeld: 1, refreshRejected: 0 })
  })

  it("a refresh whose client gave up during the hold is not processed: the refresh token stays live", async () => {
    const e = await start({ refreshDelay: 800 })
    const tokens = await login(e)
    const aborted = fetch(`${e.url}/api/v1/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: DEFAULT_CLIENT_ID }).toString(),
      signal: AbortSignal.timeout(200)
    })
    await expect(aborted).rejects.toThrow()
    await sleep(900)
    expect(await e.stats()).toMatchObject({ refreshRequests: 0, refreshGrants: 0, refreshesHeld: 1 })
    const r = await refreshToken(e.url, tokens.refresh_token)
    expect(r.status).toBe(200)
  })

  it("as a process flag: the settings take it and a refresh answers after the delay", async () => {
    const p = await startEmulatorProcess(["--port", "0", "--interval", "0", "--refresh-delay", "700"])
    processes.push(p)
    const tokens = await login(p)
    const t0 = performance.now()
    const r = await refreshToken(p.url, tokens.refresh_token)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(650)
    expect(r.status).toBe(200)
    expect(await p.stats()).toMatchObject({ refreshGrants: 1, refreshesHeld: 1 })
  })
})

describe("--login-access-ttl", () => {
  it("gives device grants their own access token lifetime; refreshes keep --access-ttl", async () => {
    const invalid = parseFlags(["--login-access-ttl", "0"])
    expect(invalid._tag === "Invalid" && invalid.message).toMatch(/--login-access-ttl/)
    const e = await start({ loginAccessTtl: 1, accessTtl: 600 })
    const tokens = await login(e)
    expect(tokens.expires_in).toBe(1)
    const models = (token: string) => fetch(`${e.url}/v1/models`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status)
    expect(await models(tokens.access_token)).toBe(200)
    await sleep(1100)
    expect(await models(tokens.access_token)).toBe(401)
    const r = await refreshToken(e.url, tokens.refresh_token)
    expect(r.json.expires_in).toBe(600)
    expect(await models(r.json.access_token)).toBe(200)
  })
})

describe("GET /__emulator/events", () => {
  it("names each issued and presented token by digest, in order, and never the token itself", async () => {
    const e = await start()
    const first = await login(e)
    const second = (await refreshToken(e.url, first.refresh_token)).json
    expect((await refreshToken(e.url, first.refresh_token)).status).toBe(400)
    const api = await fetch(`${e.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${second.access_token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "coder-model", messages: [{ role: "user", content: "hi" }] })
    })
    expect(api.status).toBe(200)
    expect((await fetch(`${e.url}/v1/models`)).status).toBe(401)
    const list = await events(e.url)
    expect(list.map((x) => x.kind)).toEqual(["device-grant", "refresh", "refresh", "api", "api"])
    expect(list[0]).toMatchObject({ issuedAccess: tokenDigest(first.access_token), issuedRefresh: tokenDigest(first.refresh_token) })
    expect(list[1]).toMatchObject({ status: 200, refreshToken: tokenDigest(first.refresh_token), issuedAccess: tokenDigest(second.access_token) })
    expect(list[2]).toMatchObject({ status: 400, refreshToken: tokenDigest(first.refresh_token), issuedAccess: null })
    expect(list[3]).toMatchObject({ status: 200, accessToken: tokenDigest(second.access_token) })
    expect(list[4]).toMatchObject({ status: 401, accessToken: null })
    const text = JSON.stringify(list)
    for (const secret of [first.access_token, first.refresh_token, second.access_token, second.refresh_token]) expect(text).not.toContain(secret)
    await e.reset()
    expect(await events(e.url)).toEqual([])
  })

  it("records the x-emulator-client header a test client sends, null without it", async () => {
    const e = await start()
    const tokens = await login(e)
    const r = await refreshToken(e.url, tokens.refresh_token, DEFAULT_CLIENT_ID, { "x-emulator-client": "qwen-code 0.12.0 pid 42" })
    expect(r.status).toBe(200)
    await fetch(`${e.url}/v1/models`, { headers: { authorization: `Bearer ${r.json.access_token}`, "x-emulator-client": "probe" } })
    const list = await events(e.url)
    expect(list.map((x) => [x.kind, x.client])).toEqual([["device-grant", null], ["refresh", "qwen-code 0.12.0 pid 42"], ["api", "probe"]])
  })
})

describe("chat completions", () => {
  it("quotes the text parts of a user message given as an array of content parts", async () => {
    const e = await start()
    const { access_token } = await login(e)
    const res = await fetch(`${e.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${access_token}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "coder-model",
        messages: [
          { role: "system", content: [{ type: "text", text: "be brief" }] },
          { role: "user", content: [{ type: "text", text: "h" }, { type: "image_url", image_url: { url: "data:," } }, { type: "text", text: "i", cache_control: { type: "ephemeral" } }] }
        ]
      })
    })
    const body = (await res.json()) as any
    expect(body.choices[0].message.content).toBe("qwen-emulator reply to: hi")
  })
})
