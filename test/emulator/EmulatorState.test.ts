/**
 * The state machine on its own, with exact times: slow_down accounting to the millisecond,
 * auto-approval and denial counts, expiry, rotation, quota days.
 */
import { createHash } from "node:crypto"
import { describe, expect, it } from "vitest"
import { type EmulatorOptions, resolveConfig } from "../../src/emulator/EmulatorConfig.ts"
import { DEVICE_GRANT_TYPE, EmulatorState, type Form, QUOTA_BODY, type Secrets } from "../../src/emulator/EmulatorState.ts"

const CLIENT = "f0304373b74a44d2b584a3fb70ca9e56"
const SCOPE = "openid profile email model.completion"
const VERIFIER = "v".repeat(43)
const CHALLENGE = createHash("sha256").update(VERIFIER).digest("base64url")
const T0 = Date.UTC(2026, 0, 1, 12)

const counterSecrets = (): Secrets => {
  let n = 0
  let u = 0
  return {
    token: () => `secret-${++n}`,
    userCode: () => `BCDF-${String(++u).padStart(4, "0")}`
  }
}

const setup = (options: EmulatorOptions = {}) => {
  const state = new EmulatorState(resolveConfig(options), "http://127.0.0.1:9", counterSecrets())
  const device = state.deviceAuthorization(
    { client_id: CLIENT, scope: SCOPE, code_challenge: CHALLENGE, code_challenge_method: "S256" },
    T0
  )
  const body = device.body as { device_code: string; user_code: string }
  const poll = (at: number, extra: Form = {}) =>
    state.token({ grant_type: DEVICE_GRANT_TYPE, client_id: CLIENT, device_code: body.device_code, code_verifier: VERIFIER, ...extra }, at)
  return { state, device, deviceCode: body.device_code, userCode: body.user_code, poll }
}

const errorOf = (reply: { status: number; body?: unknown }) =>
  [reply.status, (reply.body as { error?: string } | undefined)?.error] as const

describe("device poll timing", () => {
  it("answers slow_down below interval - 100 ms and grows the interval by 5 s each time", () => {
    const { poll, state } = setup({ interval: 1 })
    expect(errorOf(poll(T0))).toEqual([400, "authorization_pending"])
    expect(errorOf(poll(T0 + 899))).toEqual([429, "slow_down"]) // required 1000 - 100 tolerance
    // now 6 s from the last poll (T0 + 899)
    expect(errorOf(poll(T0 + 899 + 5899))).toEqual([429, "slow_down"])
    // now 11 s
    const last = T0 + 899 + 5899
    expect(errorOf(poll(last + 10_899))).toEqual([429, "slow_down"])
    // now 16 s: exactly 15.9 s later is on time (tolerance)
    const last2 = last + 10_899
    expect(errorOf(poll(last2 + 15_900))).toEqual([400, "authorization_pending"])
    expect(state.stats(last2).slowDowns).toBe(3)
    expect(state.stats(last2).tokenPolls).toBe(5)
  })

  it("accepts a poll exactly at interval - 100 ms and does not grow the interval then", () => {
    const { poll } = setup({ interval: 5 })
    poll(T0)
    expect(errorOf(poll(T0 + 4900))).toEqual([400, "authorization_pending"])
    expect(errorOf(poll(T0 + 9800))).toEqual([400, "authorization_pending"])
  })

  it("--slow-down-polls N answers the first N polls with slow_down whatever their timing", () => {
    const { poll, state } = setup({ interval: 0, slowDownPolls: 2 })
    expect(errorOf(poll(T0))).toEqual([429, "slow_down"])
    expect(errorOf(poll(T0 + 60_000))).toEqual([429, "slow_down"])
    expect(errorOf(poll(T0 + 120_000))).toEqual([400, "authorization_pending"])
    expect(state.stats(T0).slowDowns).toBe(2)
  })

  it("a wrong verifier changes nothing: no poll recorded, the right one still works at once", () => {
    const { poll, state, userCode } = setup({ interval: 5 })
    expect(errorOf(poll(T0, { code_verifier: "w".repeat(43) }))).toEqual([400, "invalid_grant"])
    expect(errorOf(poll(T0, { code_verifier: "short" }))).toEqual([400, "invalid_grant"])
    state.approve(userCode)
    expect(poll(T0 + 1).status).toBe(200)
    expect(state.stats(T0).pkceFailures).toBe(2)
  })
})

describe("auto-approve and deny", () => {
  it("--auto-approve-after 2: the 2nd accepted poll is still pending, the 3rd gets tokens", () => {
    const { poll } = setup({ interval: 1, autoApproveAfter: 2 })
    expect(errorOf(poll(T0))).toEqual([400, "authorization_pending"])
    expect(errorOf(poll(T0 + 100))).toEqual([429, "slow_down"]) // not accepted, not counted
    expect(errorOf(poll(T0 + 100 + 6000))).toEqual([400, "authorization_pending"])
    expect(poll(T0 + 100 + 12_000).status).toBe(200)
    expect(errorOf(poll(T0 + 100 + 18_000))).toEqual([400, "invalid_grant"])
  })

  it("--deny 2 denies at the 2nd accepted poll, and keeps denying", () => {
    const { poll } = setup({ interval: 0, deny: 2, autoApproveAfter: 3 })
    expect(errorOf(poll(T0))).toEqual([400, "authorization_pending"])
    expect(errorOf(poll(T0 + 1000))).toEqual([400, "access_denied"])
    expect(errorOf(poll(T0 + 2000))).toEqual([400, "access_denied"])
  })

  it("expiry wins over approval", () => {
    const { poll, state, userCode } = setup({ interval: 0, deviceCodeTtl: 10 })
    state.approve(userCode)
    expect(errorOf(poll(T0 + 10_000))).toEqual([400, "expired_token"])
    expect(poll(T0 + 9_999).status).toBe(200)
  })
})

describe("refresh and API", () => {
  const loggedIn = (options: EmulatorOptions = {}) => {
    const s = setup({ interval: 0, ...options })
    s.state.approve(s.userCode)
    const tokens = s.poll(T0).body as { access_token: string; refresh_token: string }
    return { ...s, tokens }
  }
  const refresh = (state: EmulatorState, token: string, at = T0) =>
    state.token({ grant_type: "refresh_token", client_id: CLIENT, refresh_token: token }, at)

  it("rotation keeps one live refresh token per login; old access tokens live on until expiry", () => {
    const { state, tokens } = loggedIn({ accessTtl: 60 })
    let current = tokens.refresh_token
    for (let i = 0; i < 4; i++) {
      const r = refresh(state, current)
      expect(r.status).toBe(200)
      const next = (r.body as { refresh_token: string }).refresh_token
      expect(next).not.toBe(current)
      expect(errorOf(refresh(state, current))).toEqual([400, "invalid_grant"])
      current = next
      expect(state.stats(T0).liveRefreshTokens).toBe(1)
    }
    expect(state.checkApi(`Bearer ${tokens.access_token}`, T0 + 59_999)._tag).toBe("Allowed")
    expect(state.checkApi(`Bearer ${tokens.access_token}`, T0 + 60_000)._tag).toBe("Rejected")
  })

  it("quota resets at the UTC day boundary", () => {
    const { state, tokens } = loggedIn({ quota: 1, accessTtl: 86_400 * 2 })
    const auth = `Bearer ${tokens.access_token}`
    const endOfDay = Date.UTC(2026, 0, 1, 23, 59, 59)
    expect(state.checkApi(auth, endOfDay)._tag).toBe("Allowed")
    const rejected = state.checkApi(auth, endOfDay)
    expect(rejected).toEqual({ _tag: "Rejected", reply: { status: 429, body: QUOTA_BODY } })
    expect(state.checkApi(auth, Date.UTC(2026, 0, 2, 0, 0, 0))._tag).toBe("Allowed")
  })
})
