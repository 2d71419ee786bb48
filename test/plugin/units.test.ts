/**
 * The plugin's pure parts, from source: the Node version gate, the error messages OpenClaw
 * shows, and the core's refresh decision as the plugin meets it (host mode).
 */
import { Duration, Effect, Redacted } from "effect"
import { describe, expect, it } from "vitest"
import { pathsOf, type Settings } from "../../src/Config.ts"
import { Credentials } from "../../src/domain/Credentials.ts"
import { InvalidGrant, NetworkError } from "../../src/oauth/OAuthError.ts"
import { isSupportedNode } from "../../src/plugin/openclaw.ts"
import { messageOf, NotRefreshable, OPENCLAW_LOGIN_COMMAND } from "../../src/plugin/PluginErrors.ts"
import { ServiceRejectsTokens } from "../../src/token/ServiceRejectsTokens.ts"
import { fromOpenClaw, toOpenClaw } from "../../src/plugin/Refresh.ts"
import { reconcile } from "../../src/store/Reconcile.ts"
import * as StateFile from "../../src/store/StateFile.ts"
import { decide } from "../../src/token/Refresh.ts"

describe("isSupportedNode", () => {
  it.each([
    ["22.19.0", true],
    ["22.23.3", true],
    ["22.100.1", true],
    ["24.0.0", true],
    ["22.18.9", false],
    ["22.16.0", false],
    ["20.20.2", false],
    ["garbage", false]
  ])("%s → %s", (version, expected) => {
    expect(isSupportedNode(version)).toBe(expected)
  })
})

describe("messageOf", () => {
  it("turns qwen-auth's login advice into OpenClaw's command", () => {
    const m = messageOf(new InvalidGrant({ endpoint: "refresh" }), "refresh")
    expect(m).toContain(`\`${OPENCLAW_LOGIN_COMMAND}\``)
    expect(m).not.toContain("qwen-auth login")
  })

  it("names the login command after a transient refresh failure too, as a last resort", () => {
    const m = messageOf(new NetworkError({ endpoint: "refresh", detail: "timed out", ambiguous: true }), "refresh")
    expect(m).toContain("timed out")
    expect(m).toContain(`If it keeps failing, run \`${OPENCLAW_LOGIN_COMMAND}\`.`)
  })

  it("names service-rejects-tokens and the discontinuation, without advising a login that cannot help", () => {
    const m = messageOf(new ServiceRejectsTokens({ status: 401, tokenAgeSeconds: 3 }), "refresh")
    expect(m).toMatch(/^service-rejects-tokens: /)
    expect(m).toContain("2026-04-15")
    expect(m).not.toContain(OPENCLAW_LOGIN_COMMAND)
  })

  it("says to log in again when there is nothing to refresh with", () => {
    expect(messageOf(new NotRefreshable(), "refresh")).toBe(
      `The stored Qwen login has no refresh token, so it cannot be renewed.\nRun \`${OPENCLAW_LOGIN_COMMAND}\` to log in again.`
    )
  })
})

const margin = Duration.seconds(300)
const NOW = 1_800_000_000_000

const creds = (access: string, refresh: string | undefined, expiresAt: number) =>
  new Credentials({
    accessToken: Redacted.make(access),
    tokenType: "Bearer",
    expiresAt,
    ...(refresh !== undefined ? { refreshToken: Redacted.make(refresh) } : {})
  })

const FILE = { text: "", mtimeMs: 0, size: 0, mode: 0o600 }

/** The store's view inside OpenClaw: OpenClaw's credential (host mode) beside Qwen Code's file. */
const hosted = (cred: Credentials, stored: Credentials | undefined, state: StateFile.State = StateFile.emptyState) =>
  Effect.runSync(reconcile({
    paths: pathsOf({ qwenHome: "/q", openclawAgentDir: "/a", openclawConfigPath: "/c" } as Settings),
    qwenCodeSync: true,
    openclawStore: { _tag: "Host" },
    openclaw: { _tag: "Ok", value: { profile: { _tag: "Present", credentials: cred, raw: {} }, raw: undefined, file: undefined } },
    qwen: stored === undefined ? { _tag: "Missing" } : { _tag: "Ok", value: { credentials: stored, raw: {}, file: FILE } },
    own: { _tag: "Missing" },
    state: { _tag: "Ok", value: { state, raw: {}, file: FILE } }
  }))

/** What the core's refresh transaction decides for OpenClaw's `refreshOAuth(cred)`. */
const planFor = (cred: Credentials, stored: Credentials | undefined, state?: StateFile.State) => {
  const d = decide(hosted(cred, stored, state), NOW, { known: cred, failedToken: undefined }, margin)
  return d._tag === "Post"
    ? Redacted.value(d.refreshToken)
    : d._tag === "Adopt"
    ? `adopt:${Redacted.value(d.credentials.accessToken)}`
    : `absent:${d.reason}`
}

describe("refresh decision in host mode", () => {
  const cred = creds("a1", "r1", NOW - 1000)

  it("posts OpenClaw's refresh token when the file holds nothing", () => {
    expect(planFor(cred, undefined)).toBe("r1")
  })

  it("adopts a different stored token that is not yet due", () => {
    expect(planFor(cred, creds("a2", "r2", NOW + 3_600_000))).toBe("adopt:a2")
  })

  it("refreshes the stored chain when it is newer but due itself (OpenClaw's token may be rotated away)", () => {
    expect(planFor(cred, creds("a2", "r2", NOW + 60_000))).toBe("r2")
  })

  it("keeps OpenClaw's chain when the stored one is older", () => {
    expect(planFor(cred, creds("a0", "r0", NOW - 9_000_000))).toBe("r1")
  })

  it("ignores a stored token qwen-auth recorded as logged out", () => {
    const stored = creds("a2", "r2", NOW + 3_600_000)
    const state = StateFile.withLoggedOut(StateFile.emptyState, stored.refreshToken!)
    expect(planFor(cred, stored, state)).toBe("r1")
  })

  it("has nothing to post without any refresh token", () => {
    expect(planFor(creds("a1", undefined, NOW - 1000), undefined)).toBe("absent:not-refreshable")
  })
})

describe("fromOpenClaw / toOpenClaw", () => {
  it("round-trips and keeps what OpenClaw adds (email)", () => {
    const cred = { type: "oauth" as const, provider: "qwen-portal", access: "a", refresh: "r", expires: 5, email: "e@x" }
    expect(toOpenClaw(cred, fromOpenClaw(cred))).toStrictEqual(cred)
  })

  it("keeps the old refresh token when the new credentials have none", () => {
    const cred = { type: "oauth" as const, provider: "qwen-portal", access: "a", refresh: "r", expires: 5 }
    expect(toOpenClaw(cred, creds("a2", undefined, 9))).toStrictEqual({ ...cred, access: "a2", expires: 9 })
  })
})
