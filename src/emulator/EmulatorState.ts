/**
 * The emulator's state machine (emulator.md "Behaviour"): device codes, tokens, quota and
 * counters. Synchronous and clock-free: every step takes `now` (epoch ms) and returns the reply,
 * so one step is atomic on Node's single thread and tests can drive it directly.
 *
 * @since 0.1.0
 */
import { createHash, randomBytes, randomInt } from "node:crypto"
import { type EmulatorConfig, type EmulatorMode, startMode } from "./EmulatorConfig.ts"
import { emptyCounters, type Counters, type Stats } from "./Stats.ts"

/** An answer before it becomes HTTP: status and JSON body (`undefined` = no body). */
export interface Reply {
  readonly status: number
  readonly body?: unknown
  /** An HTML page sent instead of a JSON body (mode `moved`). */
  readonly html?: string
  readonly headers?: Readonly<Record<string, string>>
}

/** Form fields of a request (query string or urlencoded body). */
export type Form = Readonly<Record<string, string | undefined>>

interface Device {
  readonly deviceCode: string
  readonly userCode: string
  readonly scope: string
  readonly challenge: string
  readonly expiresAt: number
  /** Required gap between polls; grows by 5 s with each slow_down. */
  intervalMs: number
  lastPollAt: number | undefined
  polls: number
  acceptedPolls: number
  status: "pending" | "approved" | "denied" | "issued"
}

/** Secret generators; tests may pass deterministic ones. */
export interface Secrets {
  readonly token: () => string
  readonly userCode: () => string
}

// RFC 8628 §6.1: consonants only, no vowels (no words) and no look-alikes.
const USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"

/** @since 0.1.0 @category constants */
export const cryptoSecrets: Secrets = {
  token: () => randomBytes(32).toString("base64url"),
  userCode: () => {
    let s = ""
    for (let i = 0; i < 8; i++) s += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)]
    return `${s.slice(0, 4)}-${s.slice(4)}`
  }
}

/** @since 0.1.0 @category constants */
export const DEVICE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
/** Polls this much early still count as on time (emulator.md). */
export const SLOW_DOWN_TOLERANCE_MS = 100
const SLOW_DOWN_STEP_MS = 5000
const DAY_MS = 86_400_000

const CHALLENGE = /^[A-Za-z0-9_-]{43}$/
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/

/** The 429 body Qwen sends past the free quota (emulator.md, quoted exactly). */
export const QUOTA_BODY = {
  error: {
    code: "insufficient_quota",
    type: "insufficient_quota",
    message: "Free allocated quota exceeded."
  }
} as const

/** The 401 body of the API once the free tier is discontinued (emulator.md, quoted exactly). */
export const DISCONTINUED_BODY = {
  error: { message: "invalid access token or token expired", type: "invalid_request_error" }
} as const

/** What every OAuth endpoint answers in mode `reject-client` (emulator.md, quoted exactly). */
export const REJECT_CLIENT_BODY = { error: "invalid_client" } as const

/** The page both OAuth endpoints answer (404) in mode `moved`: not JSON, as a web server's own 404 is. */
export const MOVED_HTML = "<!DOCTYPE html><html><head><title>404 Not Found</title></head>" +
  "<body><h1>404 Not Found</h1><p>qwen-emulator: this OAuth endpoint has moved.</p></body></html>"

const oauthError = (status: number, error: string, description: string): Reply => ({
  status,
  body: { error, error_description: description }
})

const words = (scope: string) => new Set(scope.split(/\s+/).filter((w) => w !== ""))

/**
 * One entry of `GET /__emulator/events`: which token each grant issued and each API call or
 * refresh presented, as the first 12 hex digits of its SHA-256 (never the token itself), so a test
 * can tell which process used which token.
 *
 * @since 0.1.0
 * @category models
 */
export type EmulatorEvent =
  | {
    readonly kind: "device-grant"
    readonly at: number
    readonly client: string | null
    readonly issuedAccess: string
    readonly issuedRefresh: string
  }
  | {
    readonly kind: "refresh"
    readonly at: number
    readonly client: string | null
    readonly status: number
    readonly refreshToken: string | null
    readonly issuedAccess: string | null
    readonly issuedRefresh: string | null
  }
  | {
    readonly kind: "api"
    readonly at: number
    readonly client: string | null
    readonly status: number
    readonly accessToken: string | null
  }

/**
 * The request header a test client may send to name itself in events (`client`); the emulator
 * never acts on it.
 */
export const CLIENT_HEADER = "x-emulator-client"

/** How many events the emulator keeps (the oldest are dropped). */
export const MAX_EVENTS = 5000

/** The first 12 hex digits of a token's SHA-256: what events show of it. */
export const tokenDigest = (token: string): string => createHash("sha256").update(token).digest("hex").slice(0, 12)

/** @since 0.1.0 @category models */
export type ApiCheck = { readonly _tag: "Allowed" } | { readonly _tag: "Rejected"; readonly reply: Reply }

/**
 * @since 0.1.0
 * @category models
 */
export class EmulatorState {
  readonly config: EmulatorConfig
  readonly origin: string
  readonly secrets: Secrets
  counters: Counters = emptyCounters()
  /** Grants, refreshes and API calls in order (bounded by `MAX_EVENTS`). */
  events: Array<EmulatorEvent> = []
  private devices = new Map<string, Device>()
  private userCodes = new Map<string, string>()
  /** Live access tokens → expiry (ms). */
  private accessTokens = new Map<string, number>()
  /** Live refresh tokens → the scope of their login. */
  private refreshTokens = new Map<string, string>()
  /**
   * Every refresh token ever minted (until reset), live or dead, so a dead one (`refreshRejected`,
   * a double spend) is told apart from one never issued (`refreshUnknown`, e.g. a doctor's probe).
   */
  private issuedRefreshTokens = new Set<string>()
  /** The mode the emulator started in; `reset` returns to it. */
  readonly startMode: EmulatorMode
  /** The current mode (`POST /__emulator/mode`). */
  mode: EmulatorMode
  private quotaDay = -1
  private quotaUsed = 0

  constructor(config: EmulatorConfig, origin: string, secrets: Secrets = cryptoSecrets) {
    this.config = config
    this.origin = origin
    this.secrets = secrets
    this.startMode = startMode(config) ?? "normal"
    this.mode = this.startMode
  }

  // ---------------------------------------------------------------------------------------------
  // Modes: checked before any state is read or changed, so a refused request spends nothing.

  /** The answer every OAuth request gets in the current mode; `undefined` = serve it normally. */
  oauthModeReply(): Reply | undefined {
    switch (this.mode) {
      case "moved":
        this.counters.oauthMoved++
        return { status: 404, html: MOVED_HTML }
      case "reject-client":
        this.counters.oauthClientRejected++
        return { status: 401, body: REJECT_CLIENT_BODY }
      default:
        return undefined
    }
  }

  /** Whether OAuth requests are processed (not refused whole by the mode). */
  get servesOAuth(): boolean {
    return this.mode !== "moved" && this.mode !== "reject-client"
  }

  // ---------------------------------------------------------------------------------------------
  // Device authorization (RFC 8628 §3.1–3.2, RFC 7636 §4.3)

  deviceAuthorization(form: Form, now: number): Reply {
    const refused = this.oauthModeReply()
    if (refused !== undefined) return refused
    this.counters.deviceAuthorizations++
    if (form.client_id !== this.config.clientId) {
      return oauthError(401, "invalid_client", "Unknown client_id.")
    }
    const granted = words(this.config.scope)
    const asked = words(form.scope ?? "")
    if (asked.size === 0 || [...asked].some((w) => !granted.has(w))) {
      return oauthError(400, "invalid_scope", "The requested scope is not granted to this client.")
    }
    if (form.code_challenge === undefined || !CHALLENGE.test(form.code_challenge)) {
      return oauthError(400, "invalid_request", "code_challenge is missing or malformed.")
    }
    if (form.code_challenge_method !== "S256") {
      return oauthError(400, "invalid_request", "code_challenge_method must be S256.")
    }
    let userCode = this.secrets.userCode()
    while (this.userCodes.has(userCode)) userCode = this.secrets.userCode()
    const device: Device = {
      deviceCode: this.secrets.token(),
      userCode,
      scope: [...asked].join(" "),
      challenge: form.code_challenge,
      expiresAt: now + this.config.deviceCodeTtl * 1000,
      intervalMs: this.config.interval * 1000,
      lastPollAt: undefined,
      polls: 0,
      acceptedPolls: 0,
      status: "pending"
    }
    this.devices.set(device.deviceCode, device)
    this.userCodes.set(userCode, device.deviceCode)
    const verificationUri = `${this.origin}/authorize`
    return {
      status: 200,
      body: {
        device_code: device.deviceCode,
        user_code: userCode,
        verification_uri: verificationUri,
        verification_uri_complete: `${verificationUri}?user_code=${encodeURIComponent(userCode)}&client=qwen-code`,
        expires_in: this.config.deviceCodeTtl,
        ...(this.config.noInterval ? {} : { interval: this.config.interval })
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Token endpoint (RFC 8628 §3.4–3.5, RFC 6749 §6)

  /** `client`: the `x-emulator-client` header, recorded in events only. */
  token(form: Form, now: number, client: string | null = null): Reply {
    const refused = this.oauthModeReply()
    if (refused !== undefined) return refused
    if (form.grant_type === DEVICE_GRANT_TYPE) return this.devicePoll(form, now, client)
    if (form.grant_type === "refresh_token") return this.refresh(form, now, client)
    return oauthError(400, "unsupported_grant_type", "grant_type must be the device code or refresh_token grant.")
  }

  private devicePoll(form: Form, now: number, client: string | null): Reply {
    this.counters.tokenPolls++
    if (form.client_id !== this.config.clientId) {
      return oauthError(401, "invalid_client", "Unknown client_id.")
    }
    const device = form.device_code === undefined ? undefined : this.devices.get(form.device_code)
    if (device === undefined) return oauthError(400, "invalid_grant", "Unknown device_code.")
    if (device.status === "issued") {
      return oauthError(400, "invalid_grant", "Tokens were already issued for this device_code.")
    }
    if (now >= device.expiresAt) {
      this.counters.expiredPolls++
      return oauthError(400, "expired_token", "The device_code has expired.")
    }
    // A wrong verifier changes nothing, so the rightful client can still finish (RFC 7636 §4.6).
    const verifier = form.code_verifier
    if (
      verifier === undefined || !VERIFIER.test(verifier) ||
      createHash("sha256").update(verifier).digest("base64url") !== device.challenge
    ) {
      this.counters.pkceFailures++
      return oauthError(400, "invalid_grant", "code_verifier does not match the code_challenge.")
    }
    const previous = device.lastPollAt
    device.lastPollAt = now
    device.polls++
    const tooSoon = previous !== undefined && now - previous < device.intervalMs - SLOW_DOWN_TOLERANCE_MS
    if (device.polls <= this.config.slowDownPolls || tooSoon) {
      device.intervalMs += SLOW_DOWN_STEP_MS
      this.counters.slowDowns++
      return oauthError(429, "slow_down", "Polling too fast; wait 5 more seconds between polls.")
    }
    device.acceptedPolls++
    if (device.status === "pending") {
      if (this.config.deny !== undefined && device.acceptedPolls === this.config.deny) {
        device.status = "denied"
      } else if (this.config.autoApproveAfter !== undefined && device.acceptedPolls === this.config.autoApproveAfter) {
        // Approved now; this poll still answers pending, the next one gets the tokens.
        device.status = "approved"
        return this.pending()
      }
    }
    if (device.status === "denied") {
      this.counters.deniedPolls++
      return oauthError(400, "access_denied", "The user denied the authorization request.")
    }
    if (device.status === "pending") return this.pending()
    device.status = "issued"
    this.userCodes.delete(device.userCode)
    this.counters.deviceGrants++
    const reply = this.issue(device.scope, now, undefined)
    const issued = reply.body as { access_token: string; refresh_token: string }
    this.record({ kind: "device-grant", at: now, client, issuedAccess: tokenDigest(issued.access_token), issuedRefresh: tokenDigest(issued.refresh_token) })
    return reply
  }

  private record(event: EmulatorEvent): void {
    this.events.push(event)
    if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS)
  }

  private pending(): Reply {
    this.counters.pendingPolls++
    return this.config.quirk.includes("pending-200")
      ? { status: 200, body: { status: "pending" } }
      : oauthError(400, "authorization_pending", "The user has not approved the request yet.")
  }

  private refresh(form: Form, now: number, client: string | null): Reply {
    const reply = this.refreshStep(form, now)
    const issued = reply.status === 200 ? (reply.body as { access_token?: string; refresh_token?: string }) : undefined
    this.record({
      kind: "refresh",
      at: now,
      client,
      status: reply.status,
      refreshToken: form.refresh_token === undefined || form.refresh_token === "" ? null : tokenDigest(form.refresh_token),
      issuedAccess: issued?.access_token === undefined ? null : tokenDigest(issued.access_token),
      issuedRefresh: issued?.refresh_token === undefined ? null : tokenDigest(issued.refresh_token)
    })
    return reply
  }

  private refreshStep(form: Form, now: number): Reply {
    this.counters.refreshRequests++
    if (form.client_id !== this.config.clientId) {
      return oauthError(401, "invalid_client", "Unknown client_id.")
    }
    if (form.refresh_token === undefined || form.refresh_token === "") {
      return oauthError(400, "invalid_request", "refresh_token is missing.")
    }
    const scope = this.refreshTokens.get(form.refresh_token)
    if (scope === undefined) {
      if (this.issuedRefreshTokens.has(form.refresh_token)) this.counters.refreshRejected++
      else this.counters.refreshUnknown++
      return oauthError(400, "invalid_grant", "The refresh token is invalid or has been used.")
    }
    this.counters.refreshGrants++
    if (this.config.noRotate) return this.issue(scope, now, form.refresh_token, true)
    // Rotation: the used refresh token dies as its successor is minted.
    this.refreshTokens.delete(form.refresh_token)
    return this.issue(scope, now, undefined, true)
  }

  /** Mints an access token, and a refresh token unless `keep` (no rotation) is given. */
  private issue(scope: string, now: number, keep: string | undefined, refreshing = false): Reply {
    const accessToken = this.secrets.token()
    const ttl = refreshing ? this.config.accessTtl : this.config.loginAccessTtl ?? this.config.accessTtl
    this.accessTokens.set(accessToken, now + ttl * 1000)
    let refreshToken = keep
    if (refreshToken === undefined) {
      refreshToken = this.secrets.token()
      this.refreshTokens.set(refreshToken, scope)
      this.issuedRefreshTokens.add(refreshToken)
    }
    const resourceUrl = (refreshing ? this.config.refreshResourceUrl : undefined) ?? this.config.resourceUrl ?? this.origin
    return {
      status: 200,
      body: {
        access_token: accessToken,
        token_type: "Bearer",
        refresh_token: refreshToken,
        expires_in: ttl,
        scope,
        ...(resourceUrl === "none" ? {} : { resource_url: resourceUrl })
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // API (Bearer + daily quota)

  /**
   * `spendsQuota`: whether an allowed call counts against (and is refused past) the daily quota;
   * `GET /v1/models` does not (emulator.md), so a client may check its token without spending a call.
   */
  checkApi(authorization: string | undefined, now: number, client: string | null = null, spendsQuota = true): ApiCheck {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")
    const check = this.checkApiStep(match === null ? undefined : match[1]!, now, spendsQuota)
    this.record({
      kind: "api",
      at: now,
      client,
      status: check._tag === "Allowed" ? 200 : check.reply.status,
      accessToken: match === null ? null : tokenDigest(match[1]!)
    })
    return check
  }

  private checkApiStep(token: string | undefined, now: number, spendsQuota: boolean): ApiCheck {
    this.counters.apiCalls++
    if (this.mode === "discontinued") {
      // The free tier is gone: every token, live or not, gets the same 401.
      this.counters.apiUnauthorized++
      return { _tag: "Rejected", reply: { status: 401, body: DISCONTINUED_BODY } }
    }
    const expiry = token === undefined ? undefined : this.accessTokens.get(token)
    if (expiry === undefined || now >= expiry) {
      this.counters.apiUnauthorized++
      return {
        _tag: "Rejected",
        reply: {
          status: 401,
          body: { error: { code: "invalid_api_key", type: "invalid_request_error", message: "Invalid or expired access token." } },
          headers: { "www-authenticate": "Bearer" }
        }
      }
    }
    if (!spendsQuota) return { _tag: "Allowed" }
    const day = Math.floor(now / DAY_MS)
    if (day !== this.quotaDay) {
      this.quotaDay = day
      this.quotaUsed = 0
    }
    if (this.quotaUsed >= this.config.quota) {
      this.counters.quotaRejections++
      return { _tag: "Rejected", reply: { status: 429, body: QUOTA_BODY } }
    }
    this.quotaUsed++
    return { _tag: "Allowed" }
  }

  // ---------------------------------------------------------------------------------------------
  // Control

  /** Approves a pending code; `false` when the user code is unknown (or already used). */
  approve(userCode: string): boolean {
    return this.decide(userCode, "approved")
  }

  deny(userCode: string): boolean {
    return this.decide(userCode, "denied")
  }

  private decide(userCode: string, status: "approved" | "denied"): boolean {
    const deviceCode = this.userCodes.get(userCode.trim().toUpperCase())
    const device = deviceCode === undefined ? undefined : this.devices.get(deviceCode)
    if (device === undefined || device.status === "issued") return false
    device.status = status
    return true
  }

  /** Kills every access and refresh token (they stay known as issued: presented again, they are `refreshRejected`). */
  revoke(): void {
    this.accessTokens.clear()
    this.refreshTokens.clear()
  }

  /** Forgets everything (issued tokens included), zeroes the counters and returns to the start mode. */
  reset(): void {
    this.revoke()
    this.issuedRefreshTokens.clear()
    this.mode = this.startMode
    this.devices.clear()
    this.userCodes.clear()
    this.counters = emptyCounters()
    this.events = []
    this.quotaDay = -1
    this.quotaUsed = 0
  }

  stats(now: number): Stats {
    let liveAccess = 0
    for (const expiry of this.accessTokens.values()) if (now < expiry) liveAccess++
    return {
      ...this.counters,
      liveRefreshTokens: this.refreshTokens.size,
      liveAccessTokens: liveAccess,
      quotaUsedToday: this.quotaDay === Math.floor(now / DAY_MS) ? this.quotaUsed : 0
    }
  }
}
