/**
 * Modes (`--discontinued`, `--moved`, `--reject-client`, `POST /__emulator/mode`): exact answers
 * on every endpoint, tokens and device codes left untouched, switching at run time, modes versus
 * faults, and the counters that tell a probe (`refreshUnknown`) from a double spend
 * (`refreshRejected`).
 */
import { randomBytes } from "node:crypto"
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import { make } from "../../src/emulator/Emulator.ts"
import {
  DEFAULT_CLIENT_ID,
  deviceAuthorize,
  type FormResponse,
  type InProcessEmulator,
  login,
  pkce,
  pollToken,
  postForm,
  refreshToken,
} from "../support/emulator.ts"
import { emulatorsPerTest } from "../support/emulatorsPerTest.ts"

const start = emulatorsPerTest()

const DISCONTINUED = { error: { message: "invalid access token or token expired", type: "invalid_request_error" } }

interface Answer {
  readonly status: number
  readonly contentType: string | null
  readonly text: string
}
const answer = async (res: Response): Promise<Answer> => ({
  status: res.status,
  contentType: res.headers.get("content-type"),
  text: await res.text()
})
const fromForm = (r: FormResponse): Answer => ({ status: r.status, contentType: r.headers.get("content-type"), text: r.text })

const models = (url: string, token?: string) =>
  fetch(`${url}/v1/models`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }).then(answer)
const chat = (url: string, token?: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ model: "coder-model", messages: [{ role: "user", content: "hi" }] })
  }).then(answer)

/** A device code waiting for its poll, approved already. */
const approvedDevice = async (e: InProcessEmulator) => {
  const p = pkce()
  const device = (await deviceAuthorize(e.url, p.challenge)).json as { device_code: string; user_code: string }
  expect(await e.approve(device.user_code)).toBe(true)
  return { deviceCode: device.device_code, verifier: p.verifier }
}

/** Every OAuth request shape: device code, device poll, refresh, an unsupported grant. */
const oauthAnswers = async (e: InProcessEmulator, device: { deviceCode: string; verifier: string }, refresh: string) => [
  fromForm(await deviceAuthorize(e.url, pkce().challenge)),
  fromForm(await pollToken(e.url, device.deviceCode, device.verifier)),
  fromForm(await refreshToken(e.url, refresh)),
  fromForm(await postForm(`${e.url}/api/v1/oauth2/token`, { grant_type: "password", client_id: DEFAULT_CLIENT_ID }))
]

const expectMoved = (a: Answer) => {
  expect(a.status).toBe(404)
  expect(a.contentType).toMatch(/^text\/html/)
  expect(a.text).toMatch(/^<!DOCTYPE html><html>.*404 Not Found.*<\/html>$/)
}

const expectRejectedClient = (a: Answer) => {
  expect(a.status).toBe(401)
  expect(a.contentType).toMatch(/^application\/json/)
  expect(JSON.parse(a.text)).toEqual({ error: "invalid_client" })
}

describe("--discontinued", () => {
  it("device flow and refresh still work; the API answers every token 401 with Qwen's exact body", async () => {
    const e = await start({ discontinued: true })
    expect(await e.mode()).toBe("discontinued")
    const tokens = await login(e)
    const refreshed = await refreshToken(e.url, tokens.refresh_token)
    expect(refreshed.status).toBe(200)
    const answers = [
      await models(e.url, tokens.access_token),
      await chat(e.url, tokens.access_token),
      await models(e.url, refreshed.json.access_token),
      await chat(e.url, "never-issued"),
      await models(e.url)
    ]
    for (const a of answers) {
      expect(a.status).toBe(401)
      expect(a.contentType).toMatch(/^application\/json/)
      expect(JSON.parse(a.text)).toEqual(DISCONTINUED)
    }
    expect(await e.stats()).toMatchObject({
      deviceGrants: 1,
      refreshGrants: 1,
      apiCalls: 5,
      apiUnauthorized: 5,
      quotaUsedToday: 0,
      liveAccessTokens: 2
    })
  })

  it("switching back to normal: the same access tokens work again", async () => {
    const e = await start()
    const { access_token } = await login(e)
    expect(await e.setMode("discontinued")).toBe(204)
    expect((await models(e.url, access_token)).status).toBe(401)
    expect(await e.setMode("normal")).toBe(204)
    expect((await models(e.url, access_token)).status).toBe(200)
    expect((await chat(e.url, access_token)).status).toBe(200)
    expect(await e.stats()).toMatchObject({ apiCalls: 3, apiUnauthorized: 1, quotaUsedToday: 1 })
  })
})

describe("--moved", () => {
  it("both OAuth endpoints answer 404 with an HTML page; nothing is processed or spent", async () => {
    const e = await start()
    const tokens = await login(e)
    const device = await approvedDevice(e)
    expect(await e.setMode("moved")).toBe(204)
    const answers = await oauthAnswers(e, device, tokens.refresh_token)
    expect(answers).toHaveLength(4)
    for (const a of answers) expectMoved(a)
    // the API is not an OAuth endpoint: still served
    expect((await models(e.url, tokens.access_token)).status).toBe(200)
    expect(await e.stats()).toMatchObject({
      oauthMoved: 4,
      oauthClientRejected: 0,
      deviceAuthorizations: 2,
      tokenPolls: 1,
      refreshRequests: 0,
      liveRefreshTokens: 1
    })
    // back to normal: the device code and the refresh token were not spent
    expect(await e.setMode("normal")).toBe(204)
    expect((await pollToken(e.url, device.deviceCode, device.verifier)).status).toBe(200)
    expect((await refreshToken(e.url, tokens.refresh_token)).status).toBe(200)
    expect(await e.stats()).toMatchObject({ deviceGrants: 2, refreshGrants: 1, refreshRejected: 0, refreshUnknown: 0 })
  })

  it("as a start flag; --refresh-delay does not hold a refused refresh", async () => {
    const e = await start({ moved: true, refreshDelay: 5000 })
    expect(await e.mode()).toBe("moved")
    const started = Date.now()
    expectMoved(fromForm(await refreshToken(e.url, "whatever")))
    expect(Date.now() - started).toBeLessThan(2000)
    expect(await e.stats()).toMatchObject({ oauthMoved: 1, refreshesHeld: 0, refreshRequests: 0 })
  })
})

describe("--reject-client", () => {
  it("every OAuth endpoint answers 401 {\"error\":\"invalid_client\"}; nothing is spent", async () => {
    const e = await start()
    const tokens = await login(e)
    const device = await approvedDevice(e)
    expect(await e.setMode("reject-client")).toBe(204)
    const answers = await oauthAnswers(e, device, tokens.refresh_token)
    expect(answers).toHaveLength(4)
    for (const a of answers) expectRejectedClient(a)
    expect((await models(e.url, tokens.access_token)).status).toBe(200)
    expect(await e.stats()).toMatchObject({ oauthClientRejected: 4, oauthMoved: 0, refreshRequests: 0, refreshRejected: 0 })
    expect(await e.setMode("normal")).toBe(204)
    expect((await pollToken(e.url, device.deviceCode, device.verifier)).status).toBe(200)
    expect((await refreshToken(e.url, tokens.refresh_token)).status).toBe(200)
  })

  it("as a start flag, and control endpoints are never affected", async () => {
    const e = await start({ rejectClient: true })
    expectRejectedClient(fromForm(await deviceAuthorize(e.url, pkce().challenge)))
    const stats = await fetch(`${e.url}/__emulator/stats`)
    expect(stats.status).toBe(200)
    expect(((await stats.json()) as { oauthClientRejected: number }).oauthClientRejected).toBe(1)
    expect(await e.approve("BCDF-GHJK")).toBe(false) // 404 unknown code, not 401
    const revoke = await fetch(`${e.url}/__emulator/revoke`, { method: "POST" })
    expect(revoke.status).toBe(204)
  })
})

describe("POST/GET /__emulator/mode", () => {
  it("sets and reports each mode; unknown or missing → 400 and the mode is unchanged", async () => {
    const e = await start()
    expect(await e.mode()).toBe("normal")
    for (const mode of ["discontinued", "moved", "reject-client", "normal"]) {
      expect(await e.setMode(mode)).toBe(204)
      expect(await e.mode()).toBe(mode)
    }
    expect(await e.setMode("moved")).toBe(204)
    const unknown = await fetch(`${e.url}/__emulator/mode?set=offline`, { method: "POST" })
    expect(unknown.status).toBe(400)
    expect(await unknown.json()).toEqual({
      error: "invalid_request",
      error_description: "set must be one of normal, discontinued, moved, reject-client."
    })
    const missing = await fetch(`${e.url}/__emulator/mode`, { method: "POST" })
    expect(missing.status).toBe(400)
    await missing.text()
    expect(await e.mode()).toBe("moved")
    // a form body works as well as the query
    expect((await postForm(`${e.url}/__emulator/mode`, { set: "normal" })).status).toBe(204)
    expect(await e.mode()).toBe("normal")
  })

  it("reset returns to the mode it started in", async () => {
    const e = await start({ discontinued: true })
    expect(await e.setMode("normal")).toBe(204)
    await e.reset()
    expect(await e.mode()).toBe("discontinued")
  })

  it("the in-process handle reads and switches the mode too", async () => {
    const e = await start()
    await Effect.runPromise(e.handle.setMode("reject-client"))
    expect(await e.mode()).toBe("reject-client")
    expect(await Effect.runPromise(e.handle.mode)).toBe("reject-client")
  })

  it("two start modes at once are refused", async () => {
    const exit = await Effect.runPromiseExit(Effect.scoped(make({ moved: true, rejectClient: true })))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(Exit.isFailure(exit) ? exit.cause : "")).toContain("at most one of discontinued, moved, rejectClient")
  })
})

describe("modes and faults", () => {
  it("the fault comes first: a faulted request never shows the mode, control endpoints see neither", async () => {
    const e = await start({ moved: true, faultRate: 1, faults: ["500"] })
    const res = await deviceAuthorize(e.url, pkce().challenge)
    expect(res.status).toBe(500)
    expect(await e.setMode("reject-client")).toBe(204)
    expect((await refreshToken(e.url, "x")).status).toBe(500)
    expect(await e.stats()).toMatchObject({ faultsInjected: 2, faults500: 2, oauthMoved: 0, oauthClientRejected: 0 })
  })
})

describe("refreshUnknown vs refreshRejected, apiUnauthorized, reset", () => {
  it("a token never issued is refreshUnknown; a used or revoked one is refreshRejected; reset zeroes both", async () => {
    const e = await start()
    const tokens = await login(e)
    const probe = `qwen-auth-doctor-probe-${randomBytes(32).toString("base64url")}`
    expect(probe).toMatch(/^qwen-auth-doctor-probe-[A-Za-z0-9_-]{43}$/)
    const probed = await refreshToken(e.url, probe)
    expect([probed.status, probed.json.error]).toEqual([400, "invalid_grant"])
    expect(await e.stats()).toMatchObject({ refreshRequests: 1, refreshUnknown: 1, refreshRejected: 0 })

    const rotated = await refreshToken(e.url, tokens.refresh_token)
    expect(rotated.status).toBe(200)
    const spent = await refreshToken(e.url, tokens.refresh_token)
    expect([spent.status, spent.json.error]).toEqual([400, "invalid_grant"])
    expect(await e.stats()).toMatchObject({ refreshRequests: 3, refreshGrants: 1, refreshUnknown: 1, refreshRejected: 1 })

    await e.revoke()
    const revoked = await refreshToken(e.url, rotated.json.refresh_token)
    expect([revoked.status, revoked.json.error]).toEqual([400, "invalid_grant"])
    expect((await models(e.url, tokens.access_token)).status).toBe(401)
    expect(await e.stats()).toMatchObject({ refreshUnknown: 1, refreshRejected: 2, apiUnauthorized: 1, apiCalls: 1 })

    await e.reset()
    const zeroed = await e.stats()
    expect([zeroed.refreshUnknown, zeroed.refreshRejected, zeroed.apiUnauthorized]).toEqual([0, 0, 0])
    // reset forgets what it issued: an old token is now unknown
    expect((await refreshToken(e.url, rotated.json.refresh_token)).status).toBe(400)
    expect(await e.stats()).toMatchObject({ refreshUnknown: 1, refreshRejected: 0 })
  })

  it("--no-rotate: a revoked token it issued is still refreshRejected", async () => {
    const e = await start({ noRotate: true })
    const { refresh_token } = await login(e)
    expect((await refreshToken(e.url, refresh_token)).status).toBe(200)
    await e.revoke()
    expect((await refreshToken(e.url, refresh_token)).status).toBe(400)
    expect(await e.stats()).toMatchObject({ refreshGrants: 1, refreshRejected: 1, refreshUnknown: 0 })
  })
})
