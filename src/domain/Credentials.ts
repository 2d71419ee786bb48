/**
 * In-memory credentials: what a login or refresh produced, whatever file they came from, with
 * their own timing (expiry, the lifetime as issued, and the refresh windows derived from them).
 *
 * @since 0.1.0
 */
import { Duration, Redacted, Schema } from "effect"
import { createHash } from "node:crypto"

/**
 * RFC 6750 §2.1 `b64token`: the only characters a bearer token may hold. The OAuth decoder checks
 * tokens against it where the server's answer is read; `qwen-auth token` prints nothing else.
 *
 * @since 0.1.0
 * @category constants
 */
export const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/** The mandatory window: the last 30 s before expiry (protocol.md §4). @since 0.1.0 @category constants */
export const MANDATORY_WINDOW_MS = 30_000

/**
 * The instants at which a token enters its refresh windows.
 *
 * @since 0.1.0
 * @category models
 */
export interface Windows {
  /** From here on a background refresh runs; the token is still served. */
  readonly advisoryAt: number
  /** From here on callers wait for the refresh. */
  readonly mandatoryAt: number
}

/**
 * The advisory margin actually used: `min(margin, lifetime / 2)` (protocol.md §4).
 *
 * @since 0.1.0
 * @category timing
 */
export const effectiveMarginMs = (marginMs: number, lifetimeMs: number | undefined): number =>
  lifetimeMs !== undefined && lifetimeMs > 0 ? Math.min(marginMs, lifetimeMs / 2) : marginMs

/**
 * A time as epoch milliseconds that JavaScript dates can hold (±8.64e15 ms), so a stored expiry
 * like 1e300 is a malformed file, not an "Invalid time value" at the first `toISOString`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const EpochMillis = Schema.Finite.check(Schema.isBetween({ minimum: -8.64e15, maximum: 8.64e15 }))

/**
 * Refresh windows of a token (protocol.md §4): the advisory window is the last
 * `min(margin, lifetime / 2)`; the mandatory window the last 30 s (never after the advisory
 * start, and at most half the lifetime).
 *
 * @since 0.1.0
 * @category timing
 */
export const windowsOf = (expiresAt: number, marginMs: number, lifetimeMs: number | undefined): Windows => {
  const margin = effectiveMarginMs(marginMs, lifetimeMs)
  const mandatoryAt = expiresAt -
    Math.min(MANDATORY_WINDOW_MS, lifetimeMs !== undefined && lifetimeMs > 0 ? lifetimeMs / 2 : MANDATORY_WINDOW_MS)
  return { advisoryAt: Math.min(expiresAt - margin, mandatoryAt), mandatoryAt }
}

const plain = (r: Redacted.Redacted<string> | undefined) => (r === undefined ? undefined : Redacted.value(r))

/**
 * Tokens are `Redacted` from the moment they are decoded; `expiresAt` is epoch milliseconds;
 * `lifetimeMs` is the lifetime as issued (`expires_in`), when known.
 *
 * @since 0.1.0
 * @category models
 */
export class Credentials extends Schema.Class<Credentials>("qwen-auth/Credentials")({
  accessToken: Schema.Redacted(Schema.String),
  refreshToken: Schema.optionalKey(Schema.Redacted(Schema.String)),
  idToken: Schema.optionalKey(Schema.Redacted(Schema.String)),
  tokenType: Schema.String,
  expiresAt: Schema.Number,
  /** The lifetime as issued (`expires_in` × 1000), when known. */
  lifetimeMs: Schema.optionalKey(Schema.Number),
  /** The server's `resource_url` as sent (normalise with `toBaseUrl`). */
  resourceUrl: Schema.optionalKey(Schema.String)
}) {
  /** The refresh windows under `margin` (capped at half the issued lifetime). */
  windows(margin: Duration.Duration): Windows {
    return windowsOf(this.expiresAt, Duration.toMillis(margin), this.lifetimeMs)
  }

  /** Due for refresh: inside the advisory window (or later). */
  isDue(nowMs: number, margin: Duration.Duration): boolean {
    return nowMs >= this.windows(margin).advisoryAt
  }

  /** Good to hand out without waiting: before the mandatory window (the last 30 s). */
  isUsable(nowMs: number): boolean {
    return nowMs < windowsOf(this.expiresAt, 0, this.lifetimeMs).mandatoryAt
  }

  isExpired(nowMs: number): boolean {
    return nowMs >= this.expiresAt
  }

  get refreshable(): boolean {
    return this.refreshToken !== undefined
  }

  /** Same access and refresh tokens and expiry (the lifetime and resource are not compared). */
  sameTokens(that: Credentials): boolean {
    return sameAccessToken(this, that) && sameRefreshToken(this, that) && this.expiresAt === that.expiresAt
  }

  /** These credentials with `fields` replaced. */
  with(fields: Partial<Credentials.Fields>): Credentials {
    return new Credentials({ ...fieldsOf(this), ...fields })
  }

  /** The hash input for the state file's lists: the refresh token, else the access token. */
  get stateKey(): Redacted.Redacted<string> {
    return this.refreshToken ?? this.accessToken
  }
}

/** @since 0.1.0 @category models */
export declare namespace Credentials {
  /** The constructor's fields. */
  export type Fields = ConstructorParameters<typeof Credentials>[0]
}

const fieldsOf = (c: Credentials): Credentials.Fields => ({
  accessToken: c.accessToken,
  tokenType: c.tokenType,
  expiresAt: c.expiresAt,
  ...(c.refreshToken !== undefined ? { refreshToken: c.refreshToken } : {}),
  ...(c.idToken !== undefined ? { idToken: c.idToken } : {}),
  ...(c.lifetimeMs !== undefined ? { lifetimeMs: c.lifetimeMs } : {}),
  ...(c.resourceUrl !== undefined ? { resourceUrl: c.resourceUrl } : {})
})

/** Where loaded credentials came from. @since 0.1.0 @category models */
export type CredentialSource = "openclaw" | "qwen-code" | "qwen-auth"

/**
 * A hash of a token for the state file: the state file keeps hashes, never tokens.
 *
 * @since 0.1.0
 * @category utils
 */
export const tokenHash = (token: Redacted.Redacted<string> | string): string =>
  createHash("sha256").update(typeof token === "string" ? token : Redacted.value(token)).digest("hex")

/** Same access token? (compares the secrets without exposing them elsewhere) */
export const sameAccessToken = (a: Credentials, b: Credentials): boolean =>
  Redacted.value(a.accessToken) === Redacted.value(b.accessToken)

/** Same refresh token (both absent counts as the same). */
export const sameRefreshToken = (a: Credentials, b: Credentials): boolean => plain(a.refreshToken) === plain(b.refreshToken)
