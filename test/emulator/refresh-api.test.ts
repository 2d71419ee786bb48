/**
 * Refresh (with and without rotation), revoke/reset, and the API's Bearer and quota checks.
 */
import { afterEach, describe, expect, it } from "vitest"
import type { EmulatorOptions } from "../../src/emulator/EmulatorConfig.ts"
import { type InProcessEmulator, login, postForm, refreshToken, startEmulator } from "../support/emulator.ts"

let emu: InProcessEmulator | undefined
const start = async (options: EmulatorOptions = {}) => (emu = await startEmulator({ interval: 0, ...options }))
afterEach(async () => {
  await emu?.close()
  emu = undefined
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const models = (url: string, token?: string) =>
  fetch(`${url}/v1/models`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } })
const chat = (url: string, token: string, body: unknown = { model: "coder-model", messages: [{ role: "user", content: "hi" }] }) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body)
  })

describe("refresh_token grant", () => {
  it("rotates: new tokens each time, the used refresh token dies, liveRefreshTokens stays 1", async () => {
    const e = await start()
    const first = await login(e)
    let current = first.refresh_token
    const seen = new Set([current])
    for (let i = 0; i < 3; i++) {
      const r = await refreshToken(e.url, current)
      expect(r.status).toBe(200)
      expect(r.json).toMatchObject({ token_type: "Bearer", expires_in: 21600, resource_url: e.url })
      expect(seen.has(r.json.refresh_token)).toBe(false)
      const old = await refreshToken(e.url, current)
      expect([old.status, old.json.error]).toEqual([400, "invalid_grant"])
      current = r.json.refresh_token
      seen.add(current)
      expect((await e.stats()).liveRefreshTokens).toBe(1)
    }
    expect(await e.stats()).toMatchObject({ refreshRequests: 6, refreshGrants: 3, refreshRejected: 3, liveRefreshTokens: 1 })
    // access tokens from before the rotations still work until their own expiry
    expect((await models(e.url, first.access_token)).status).toBe(200)
  })

  it("two logins: two live refresh tokens", async () => {
    const e = await start()
    await login(e)
    await login(e)
    expect((await e.stats()).liveRefreshTokens).toBe(2)
  })

  it("--no-rotate keeps the refresh token valid after use", async () => {
    const e = await start({ noRotate: true })
    const { refresh_token } = await login(e)
    for (let i = 0; i < 3; i++) {
      const r = await refreshToken(e.url, refresh_token)
      expect(r.status).toBe(200)
      expect(r.json.refresh_token).toBe(refresh_token)
    }
    expect(await e.stats()).toMatchObject({ refreshGrants: 3, liveRefreshTokens: 1 })
  })

  it("unknown refresh token → 400 invalid_grant; unknown client → 401 invalid_client; missing → invalid_request", async () => {
    const e = await start()
    const { refresh_token } = await login(e)
    const unknown = await refreshToken(e.url, "nope")
    expect([unknown.status, unknown.json.error]).toEqual([400, "invalid_grant"])
    const client = await refreshToken(e.url, refresh_token, "other")
    expect([client.status, client.json.error]).toEqual([401, "invalid_client"])
    const missing = await postForm(`${e.url}/api/v1/oauth2/token`, { grant_type: "refresh_token", client_id: "f0304373b74a44d2b584a3fb70ca9e56" })
    expect([missing.status, missing.json.error]).toEqual([400, "invalid_request"])
    // the failed attempts did not spend the token
    expect((await refreshToken(e.url, refresh_token)).status).toBe(200)
  })

  it("revoke kills every token; reset forgets everything and zeroes counters", async () => {
    const e = await start()
    const tokens = await login(e)
    await e.revoke()
    expect((await refreshToken(e.url, tokens.refresh_token)).json.error).toBe("invalid_grant")
    expect((await models(e.url, tokens.access_token)).status).toBe(401)
    expect((await e.stats()).liveRefreshTokens).toBe(0)
    await e.reset()
    const stats = await e.stats()
    for (const [name, value] of Object.entries(stats)) expect([name, value]).toEqual([name, 0])
    // codes are forgotten too
    const again = await login(e)
    await e.reset()
    expect((await refreshToken(e.url, again.refresh_token)).json.error).toBe("invalid_grant")
  })

  it("control endpoints also take user_code in a form body", async () => {
    const e = await start()
    const { deviceAuthorize, pkce, pollToken } = await import("../support/emulator.ts")
    const p = pkce()
    const device = (await deviceAuthorize(e.url, p.challenge)).json
    const res = await postForm(`${e.url}/__emulator/approve`, { user_code: device.user_code })
    expect(res.status).toBe(204)
    expect((await pollToken(e.url, device.device_code, p.verifier)).status).toBe(200)
    expect((await postForm(`${e.url}/__emulator/approve`, {})).status).toBe(400)
  })
})

describe("API", () => {
  it("GET /v1/models and POST /v1/chat/completions answer OpenAI-shaped bodies with a live token", async () => {
    const e = await start()
    const { access_token } = await login(e)
    const list = await models(e.url, access_token)
    expect(list.status).toBe(200)
    const body = (await list.json()) as { object: string; data: Array<{ id: string }> }
    expect(body.object).toBe("list")
    expect(body.data.map((m) => m.id)).toContain("coder-model")
    const completion = await chat(e.url, access_token)
    expect(completion.status).toBe(200)
    const c = (await completion.json()) as any
    expect(c.object).toBe("chat.completion")
    expect(c.choices[0].message.role).toBe("assistant")
    expect(c.choices[0].message.content).toContain("hi")
    const streamed = await chat(e.url, access_token, { model: "coder-model", stream: true, messages: [{ role: "user", content: "yo" }] })
    expect(streamed.headers.get("content-type")).toContain("text/event-stream")
    expect(await streamed.text()).toMatch(/data: \[DONE\]/)
    const bad = await chat(e.url, access_token, { nope: 1 })
    expect(bad.status).toBe(400)
    await bad.text()
    expect((await e.stats()).apiCalls).toBe(4)
  })

  it("needs Authorization: Bearer <live access token> → else 401", async () => {
    const e = await start({ accessTtl: 0.4 })
    const { access_token, refresh_token } = await login(e)
    const none = await models(e.url)
    expect(none.status).toBe(401)
    await none.text()
    const wrong = await models(e.url, "not-a-token")
    expect(wrong.status).toBe(401)
    await wrong.text()
    const basic = await fetch(`${e.url}/v1/models`, { headers: { authorization: `Basic ${access_token}` } })
    expect(basic.status).toBe(401)
    await basic.text()
    const asRefresh = await models(e.url, refresh_token)
    expect(asRefresh.status).toBe(401)
    await asRefresh.text()
    expect((await models(e.url, access_token)).status).toBe(200)
    await sleep(450)
    const expired = await models(e.url, access_token)
    expect(expired.status).toBe(401)
    await expired.text()
    const chatExpired = await chat(e.url, access_token)
    expect(chatExpired.status).toBe(401)
    await chatExpired.text()
  })

  it("past the daily quota → 429 with Qwen's exact body; GET /v1/models neither spends nor is refused", async () => {
    const e = await start({ quota: 2 })
    const { access_token } = await login(e)
    for (let i = 0; i < 3; i++) {
      const list = await models(e.url, access_token)
      expect(list.status).toBe(200)
      await list.text()
    }
    expect((await e.stats()).quotaUsedToday).toBe(0)
    expect((await chat(e.url, access_token)).status).toBe(200)
    expect((await chat(e.url, access_token)).status).toBe(200)
    expect((await e.stats()).quotaUsedToday).toBe(2)
    const over = await chat(e.url, access_token)
    expect(over.status).toBe(429)
    expect(await over.json()).toEqual({
      error: { code: "insufficient_quota", type: "insufficient_quota", message: "Free allocated quota exceeded." }
    })
    const listOver = await models(e.url, access_token)
    expect(listOver.status).toBe(200)
    await listOver.text()
    // unauthorized calls do not spend quota and are still 401
    const anon = await chat(e.url, "nope")
    expect(anon.status).toBe(401)
    await anon.text()
    expect(await e.stats()).toMatchObject({ apiCalls: 8, apiUnauthorized: 1, quotaRejections: 1, quotaUsedToday: 2 })
  })
})
