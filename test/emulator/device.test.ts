/**
 * Device authorization and device-grant polling over real HTTP (emulator.md "Behaviour").
 */
import { afterEach, describe, expect, it } from "vitest"
import type { EmulatorOptions } from "../../src/emulator/EmulatorConfig.ts"
import {
  deviceAuthorize,
  type InProcessEmulator,
  pkce,
  pollToken,
  startEmulator
} from "../support/emulator.ts"

let emu: InProcessEmulator | undefined
const start = async (options: EmulatorOptions = {}) => (emu = await startEmulator(options))
afterEach(async () => {
  await emu?.close()
  emu = undefined
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const begin = async (e: InProcessEmulator) => {
  const p = pkce()
  const res = await deviceAuthorize(e.url, p.challenge)
  expect(res.status).toBe(200)
  return { ...p, device: res.json as Record<string, any> }
}

describe("POST /api/v1/oauth2/device/code", () => {
  it("answers the RFC 8628 fields, with the real server's verification_uri_complete shape", async () => {
    const e = await start({ interval: 3, deviceCodeTtl: 120 })
    const { device } = await begin(e)
    expect(device.user_code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/)
    expect(typeof device.device_code).toBe("string")
    expect(device.device_code.length).toBeGreaterThanOrEqual(32)
    expect(device.verification_uri).toBe(`${e.url}/authorize`)
    expect(device.verification_uri_complete).toBe(`${e.url}/authorize?user_code=${device.user_code}&client=qwen-code`)
    expect(device.expires_in).toBe(120)
    expect(device.interval).toBe(3)
    expect((await e.stats()).deviceAuthorizations).toBe(1)
  })

  it("--no-interval omits interval", async () => {
    const e = await start({ noInterval: true })
    const { device } = await begin(e)
    expect("interval" in device).toBe(false)
  })

  it("gives every request its own codes", async () => {
    const e = await start()
    const a = await begin(e)
    const b = await begin(e)
    expect(a.device.device_code).not.toBe(b.device.device_code)
    expect(a.device.user_code).not.toBe(b.device.user_code)
  })

  it("unknown or missing client_id → 401 invalid_client", async () => {
    const e = await start()
    const { challenge } = pkce()
    for (const client_id of ["nope", ""]) {
      const res = await deviceAuthorize(e.url, challenge, { client_id })
      expect(res.status).toBe(401)
      expect(res.json.error).toBe("invalid_client")
      expect(typeof res.json.error_description).toBe("string")
    }
  })

  it("--client-id changes the accepted client", async () => {
    const e = await start({ clientId: "my-client" })
    const { challenge } = pkce()
    expect((await deviceAuthorize(e.url, challenge)).status).toBe(401)
    expect((await deviceAuthorize(e.url, challenge, { client_id: "my-client" })).status).toBe(200)
  })

  it("scope is compared as a set of words: order and spacing do not matter, extra words are refused", async () => {
    const e = await start()
    const { challenge } = pkce()
    const ok = await deviceAuthorize(e.url, challenge, { scope: "  model.completion openid   email profile " })
    expect(ok.status).toBe(200)
    for (const scope of ["openid profile email model.completion admin", "", "openid,profile"]) {
      const bad = await deviceAuthorize(e.url, challenge, { scope })
      expect([bad.status, bad.json.error]).toEqual([400, "invalid_scope"])
    }
  })

  it("--scope changes what is granted", async () => {
    const e = await start({ scope: "openid" })
    const { challenge } = pkce()
    expect((await deviceAuthorize(e.url, challenge)).json.error).toBe("invalid_scope")
    expect((await deviceAuthorize(e.url, challenge, { scope: "openid" })).status).toBe(200)
  })

  it("missing or malformed code_challenge, or a method other than S256 → 400 invalid_request", async () => {
    const e = await start()
    const { challenge } = pkce()
    const cases: Array<Record<string, string>> = [
      { code_challenge: "" },
      { code_challenge: challenge.slice(1) }, // 42 chars
      { code_challenge: `${challenge}=` }, // padded
      { code_challenge: `${challenge.slice(0, 42)}+` }, // not base64url
      { code_challenge_method: "plain" },
      { code_challenge_method: "" },
      { code_challenge_method: "s256" }
    ]
    for (const fields of cases) {
      const res = await deviceAuthorize(e.url, challenge, fields)
      expect([res.status, res.json.error], JSON.stringify(fields)).toEqual([400, "invalid_request"])
    }
    expect((await e.stats()).deviceAuthorizations).toBe(cases.length)
  })
})

describe("POST /api/v1/oauth2/token (device grant)", () => {
  it("pending, then approval through the control endpoint, tokens once, then invalid_grant", async () => {
    const e = await start({ interval: 0 })
    const { verifier, device } = await begin(e)
    const pending = await pollToken(e.url, device.device_code, verifier)
    expect([pending.status, pending.json.error]).toEqual([400, "authorization_pending"])
    expect(await e.approve(device.user_code)).toBe(true)
    const ok = await pollToken(e.url, device.device_code, verifier)
    expect(ok.status).toBe(200)
    expect(ok.json).toMatchObject({ token_type: "Bearer", expires_in: 21600, resource_url: e.url })
    expect(typeof ok.json.access_token).toBe("string")
    expect(typeof ok.json.refresh_token).toBe("string")
    const again = await pollToken(e.url, device.device_code, verifier)
    expect([again.status, again.json.error]).toEqual([400, "invalid_grant"])
    const stats = await e.stats()
    expect(stats).toMatchObject({ tokenPolls: 3, deviceGrants: 1, liveRefreshTokens: 1 })
  })

  it("PKCE mismatch → invalid_grant, and the device code still works with the right verifier", async () => {
    const e = await start({ interval: 0 })
    const { verifier, device } = await begin(e)
    await e.approve(device.user_code)
    const other = pkce().verifier
    const bad = await pollToken(e.url, device.device_code, other)
    expect([bad.status, bad.json.error]).toEqual([400, "invalid_grant"])
    const badSyntax = await pollToken(e.url, device.device_code, "not a verifier!")
    expect([badSyntax.status, badSyntax.json.error]).toEqual([400, "invalid_grant"])
    const good = await pollToken(e.url, device.device_code, verifier)
    expect(good.status).toBe(200)
  })

  it("PKCE mismatch does not count as a poll for slow_down", async () => {
    const e = await start({ interval: 5 })
    const { verifier, device } = await begin(e)
    await pollToken(e.url, device.device_code, pkce().verifier)
    const first = await pollToken(e.url, device.device_code, verifier)
    expect(first.json.error).toBe("authorization_pending")
  })

  it("unknown device_code → invalid_grant; unknown client → 401 invalid_client; other grant → unsupported_grant_type", async () => {
    const e = await start({ interval: 0 })
    const { verifier, device } = await begin(e)
    const unknown = await pollToken(e.url, "no-such-code", verifier)
    expect([unknown.status, unknown.json.error]).toEqual([400, "invalid_grant"])
    const client = await pollToken(e.url, device.device_code, verifier, "other-client")
    expect([client.status, client.json.error]).toEqual([401, "invalid_client"])
    const { postForm } = await import("../support/emulator.ts")
    const grant = await postForm(`${e.url}/api/v1/oauth2/token`, { grant_type: "password" })
    expect([grant.status, grant.json.error]).toEqual([400, "unsupported_grant_type"])
  })

  it("too-fast polls get 429 slow_down and the interval grows (+5 s) each time", async () => {
    const e = await start({ interval: 1 })
    const { verifier, device } = await begin(e)
    expect((await pollToken(e.url, device.device_code, verifier)).json.error).toBe("authorization_pending")
    const fast = await pollToken(e.url, device.device_code, verifier)
    expect([fast.status, fast.json.error]).toEqual([429, "slow_down"])
    // 1.2 s later would be on time for the announced 1 s, but the interval is now 6 s.
    await sleep(1200)
    const stillFast = await pollToken(e.url, device.device_code, verifier)
    expect([stillFast.status, stillFast.json.error]).toEqual([429, "slow_down"])
    expect((await e.stats()).slowDowns).toBe(2)
  })

  it("a poll after the interval is accepted", async () => {
    const e = await start({ interval: 0.3 })
    const { verifier, device } = await begin(e)
    await pollToken(e.url, device.device_code, verifier)
    await sleep(350)
    expect((await pollToken(e.url, device.device_code, verifier)).json.error).toBe("authorization_pending")
  })

  it("--slow-down-polls 2 answers the first two polls with slow_down", async () => {
    const e = await start({ interval: 0, slowDownPolls: 2 })
    const { verifier, device } = await begin(e)
    const answers = []
    for (let i = 0; i < 3; i++) answers.push((await pollToken(e.url, device.device_code, verifier)).status)
    // the third is too soon for the grown interval, so it is a slow_down as well
    expect(answers.slice(0, 2)).toEqual([429, 429])
    expect((await e.stats()).slowDowns).toBeGreaterThanOrEqual(2)
  })

  it("--auto-approve-after 2: pending, pending, tokens", async () => {
    const e = await start({ interval: 0, autoApproveAfter: 2 })
    const { verifier, device } = await begin(e)
    const statuses = []
    for (let i = 0; i < 3; i++) {
      const r = await pollToken(e.url, device.device_code, verifier)
      statuses.push(r.json.error ?? r.status)
    }
    expect(statuses).toEqual(["authorization_pending", "authorization_pending", 200])
  })

  it("--deny answers access_denied at the first accepted poll; --deny 2 at the second", async () => {
    const e = await start({ interval: 0, deny: 1 })
    const a = await begin(e)
    const denied = await pollToken(e.url, a.device.device_code, a.verifier)
    expect([denied.status, denied.json.error]).toEqual([400, "access_denied"])
    await e.close()
    const e2 = await start({ interval: 0, deny: 2 })
    const b = await begin(e2)
    expect((await pollToken(e2.url, b.device.device_code, b.verifier)).json.error).toBe("authorization_pending")
    expect((await pollToken(e2.url, b.device.device_code, b.verifier)).json.error).toBe("access_denied")
  })

  it("deny through the control endpoint → access_denied; unknown user codes → 404", async () => {
    const e = await start({ interval: 0 })
    const { verifier, device } = await begin(e)
    expect(await e.deny(device.user_code)).toBe(true)
    const r = await pollToken(e.url, device.device_code, verifier)
    expect([r.status, r.json.error]).toEqual([400, "access_denied"])
    expect(await e.approve("ZZZZ-ZZZZ")).toBe(false)
    expect(await e.deny("ZZZZ-ZZZZ")).toBe(false)
  })

  it("past expires_in → expired_token", async () => {
    const e = await start({ interval: 0, deviceCodeTtl: 0.3 })
    const { verifier, device } = await begin(e)
    await e.approve(device.user_code)
    await sleep(400)
    const r = await pollToken(e.url, device.device_code, verifier)
    expect([r.status, r.json.error]).toEqual([400, "expired_token"])
  })

  it("--quirk pending-200 answers pending polls as 200 {status: pending}", async () => {
    const e = await start({ interval: 0, quirk: ["pending-200"] })
    const { verifier, device } = await begin(e)
    const r = await pollToken(e.url, device.device_code, verifier)
    expect([r.status, r.json]).toEqual([200, { status: "pending" }])
  })

  it("--resource-url sets resource_url; none omits it", async () => {
    const e = await start({ interval: 0, resourceUrl: "portal.qwen.ai" })
    const a = await begin(e)
    await e.approve(a.device.user_code)
    expect((await pollToken(e.url, a.device.device_code, a.verifier)).json.resource_url).toBe("portal.qwen.ai")
    await e.close()
    const e2 = await start({ interval: 0, resourceUrl: "none" })
    const b = await begin(e2)
    await e2.approve(b.device.user_code)
    const body = (await pollToken(e2.url, b.device.device_code, b.verifier)).json
    expect(body.access_token).toBeDefined()
    expect("resource_url" in body).toBe(false)
  })
})

describe("GET /authorize", () => {
  it("approves the code when opened (verification_uri_complete as-is)", async () => {
    const e = await start({ interval: 0 })
    const { verifier, device } = await begin(e)
    const page = await fetch(device.verification_uri_complete)
    expect(page.status).toBe(200)
    expect(page.headers.get("content-type")).toContain("text/html")
    expect(await page.text()).toContain("approved")
    expect((await pollToken(e.url, device.device_code, verifier)).status).toBe(200)
  })

  it("unknown code → 404 page", async () => {
    const e = await start()
    const page = await fetch(`${e.url}/authorize?user_code=ZZZZ-ZZZZ`)
    expect(page.status).toBe(404)
    await page.text()
  })
})
