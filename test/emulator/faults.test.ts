/**
 * Fault injection: each kind on its own at rate 1, the counters, replay by seed, control
 * endpoints never faulted, and requests whose client left are not processed.
 */
import { describe, expect, it } from "vitest"
import { type FaultKind, resolveConfig } from "../../src/emulator/EmulatorConfig.ts"
import { makeFaultPlan } from "../../src/emulator/Faults.ts"
import {
  deviceAuthorize,
  login,
  pkce,
  pollToken,
  refreshToken,
} from "../support/emulator.ts"
import { emulatorsPerTest } from "../support/emulatorsPerTest.ts"

const start = emulatorsPerTest()
const only = (kind: FaultKind) => start({ faultRate: 1, faults: [kind] })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe("each fault kind at --fault-rate 1", () => {
  it("500: HTTP 500, not JSON, nothing processed", async () => {
    const e = await only("500")
    const res = await deviceAuthorize(e.url, pkce().challenge)
    expect(res.status).toBe(500)
    expect(res.json).toBeUndefined()
    expect(await e.stats()).toMatchObject({ deviceAuthorizations: 0, faultsInjected: 1, faults500: 1 })
  })

  it("html: HTTP 200 with an HTML page, nothing processed", async () => {
    const e = await only("html")
    const res = await deviceAuthorize(e.url, pkce().challenge)
    expect(res.status).toBe(200)
    expect(res.headers.get("content-type")).toContain("text/html")
    expect(res.text).toMatch(/^<!DOCTYPE html>/)
    const api = await fetch(`${e.url}/v1/models`)
    expect(api.status).toBe(200)
    expect(await api.text()).toMatch(/<html>/)
    expect(await e.stats()).toMatchObject({ deviceAuthorizations: 0, apiCalls: 0, faultsInjected: 2, faultsHtml: 2 })
  })

  it("drop: the connection closes without an answer, nothing processed", async () => {
    const e = await only("drop")
    await expect(deviceAuthorize(e.url, pkce().challenge)).rejects.toThrow()
    expect(await e.stats()).toMatchObject({ deviceAuthorizations: 0, faultsInjected: 1, faultsDrop: 1 })
  })

  it("lost-response: processed, then the connection closes without an answer", async () => {
    const e = await only("lost-response")
    await expect(deviceAuthorize(e.url, pkce().challenge)).rejects.toThrow()
    expect(await e.stats()).toMatchObject({ deviceAuthorizations: 1, faultsInjected: 1, faultsLostResponse: 1 })
  })

  it("delay: answers normally after 2 s", async () => {
    const e = await only("delay")
    const t0 = performance.now()
    const res = await deviceAuthorize(e.url, pkce().challenge)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(1900)
    expect(res.status).toBe(200)
    expect(res.json.user_code).toBeDefined()
    expect(await e.stats()).toMatchObject({ deviceAuthorizations: 1, faultsInjected: 1, faultsDelay: 1 })
  })

  it("delay: a request whose client gave up is not processed", async () => {
    const e = await only("delay")
    await expect(deviceAuthorizeWithTimeout(e.url, 300)).rejects.toThrow()
    await sleep(2300)
    expect(await e.stats()).toMatchObject({ deviceAuthorizations: 0, faultsDelay: 1 })
  })
})

const deviceAuthorizeWithTimeout = (url: string, ms: number) =>
  fetch(`${url}/api/v1/oauth2/device/code`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      client_id: "f0304373b74a44d2b584a3fb70ca9e56",
      scope: "openid profile email model.completion",
      code_challenge: pkce().challenge,
      code_challenge_method: "S256"
    }).toString(),
    signal: AbortSignal.timeout(ms)
  })

describe("fault plan", () => {
  it("control endpoints and /authorize are never faulted, even at rate 1 with every kind", async () => {
    const e = await start({ faultRate: 1, faults: ["500", "delay", "drop", "html", "lost-response"] })
    for (let i = 0; i < 5; i++) {
      const stats = await fetch(`${e.url}/__emulator/stats`)
      expect(stats.status).toBe(200)
      await stats.json()
    }
    expect(await e.approve("ZZZZ-ZZZZ")).toBe(false) // a 404 from the real handler, not a fault
    await e.revoke()
    const page = await fetch(`${e.url}/authorize?user_code=ZZZZ-ZZZZ`)
    expect(page.status).toBe(404)
    await page.text()
    expect((await e.stats()).faultsInjected).toBe(0)
    await e.reset()
    expect((await e.stats()).faultsInjected).toBe(0)
  })

  it("--fault-rate without --faults injects nothing (emulator.md: the list defaults to none)", async () => {
    const e = await start({ faultRate: 1 })
    const models = await fetch(`${e.url}/v1/models`)
    expect(models.status).toBe(401) // the real handler's answer to a missing Bearer, not a fault
    await models.text()
    expect((await e.stats()).faultsInjected).toBe(0)
  })

  it("the same seed gives the same faults; faultsInjected counts them", async () => {
    const run = async () => {
      const e = await start({ faultRate: 0.5, faults: ["500"], seed: "replay-me" })
      const statuses = []
      for (let i = 0; i < 16; i++) statuses.push((await deviceAuthorize(e.url, pkce().challenge)).status)
      const stats = await e.stats()
      expect(stats.faultsInjected).toBe(statuses.filter((s) => s === 500).length)
      expect(stats.deviceAuthorizations).toBe(statuses.filter((s) => s === 200).length)
      return statuses
    }
    const a = await run()
    expect(a).toContain(500)
    expect(a).toContain(200)
    expect(await run()).toEqual(a)
  })

  it("a lost refresh response still rotated: the old refresh token is dead", async () => {
    // Find a seed whose first three requests (device code, poll, refresh) are clean, clean, faulted.
    const config = resolveConfig({ faultRate: 0.5, faults: ["lost-response"] })
    let seed = 0
    for (;; seed++) {
      const plan = makeFaultPlan({ ...config, seed: String(seed) })
      if (plan.decide() === undefined && plan.decide() === undefined && plan.decide() === "lost-response") break
    }
    const e = await start({ ...config, seed: String(seed) })
    const p = pkce()
    const device = (await deviceAuthorize(e.url, p.challenge)).json
    await e.approve(device.user_code)
    const tokens = (await pollToken(e.url, device.device_code, p.verifier)).json
    expect(tokens.refresh_token).toBeDefined()
    await expect(refreshToken(e.url, tokens.refresh_token)).rejects.toThrow()
    expect(await e.stats()).toMatchObject({ refreshGrants: 1, liveRefreshTokens: 1, faultsLostResponse: 1 })
    // The client retries with the token it has: the server already rotated it.
    let retry
    for (let i = 0; i < 20 && retry === undefined; i++) {
      retry = await refreshToken(e.url, tokens.refresh_token).catch(() => undefined)
    }
    expect([retry?.status, retry?.json.error]).toEqual([400, "invalid_grant"])
  })

  it("faults apply to API calls too, and login() works at rate 0", async () => {
    const clean = await start()
    await login(clean)
    expect((await clean.stats()).faultsInjected).toBe(0)
    const e = await only("500")
    const res = await fetch(`${e.url}/v1/chat/completions`, { method: "POST", body: "{}" })
    expect(res.status).toBe(500)
    await res.text()
    expect(await e.stats()).toMatchObject({ apiCalls: 0, faultsInjected: 1 })
  })
})
