/**
 * What the token actor publishes: the token handed to callers, the public state stream's values
 * and the refresh windows (protocol.md §4). Pure data and arithmetic; no effects.
 *
 * @since 0.1.0
 */
import type { Redacted } from "effect"

/**
 * An access token ready for an API call, with the API base URL it belongs to (tokens issued by
 * chat.qwen.ai are only good for their own portal: token and endpoint travel together).
 *
 * @since 0.1.0
 * @category models
 */
export interface AccessToken {
  readonly accessToken: Redacted.Redacted<string>
  /** e.g. `https://portal.qwen.ai/v1` */
  readonly baseUrl: string
  /** Epoch milliseconds. */
  readonly expiresAt: number
  /** From this instant (the advisory window's start) the token is due for refresh. */
  readonly refreshDueAt: number
}

/**
 * The token actor's state, as published by `TokenManager.changes`. Carries no secrets.
 *
 * - `LoggedOut`: nothing stored (never logged in, or logged out).
 * - `Fresh`: a token is served without I/O until the advisory window.
 * - `Refreshing`: a refresh is running or being retried; `lastError` says why the last attempt
 *   failed (the old token is still served until the mandatory window).
 * - `NeedsLogin`: the refresh token was refused (or the token expired and cannot be refreshed);
 *   heals itself when a new login writes credentials.
 *
 * @since 0.1.0
 * @category models
 */
export type TokenState =
  | { readonly _tag: "LoggedOut" }
  | { readonly _tag: "Fresh"; readonly expiresAt: number; readonly baseUrl: string }
  | {
    readonly _tag: "Refreshing"
    readonly expiresAt: number
    /** Failed attempts so far in this round (0 while the first attempt runs). */
    readonly failures: number
    readonly lastError: string | undefined
  }
  | { readonly _tag: "NeedsLogin"; readonly reason: string }

/** @since 0.1.0 @category constructors */
export const TokenState = {
  LoggedOut: { _tag: "LoggedOut" } as TokenState,
  Fresh: (expiresAt: number, baseUrl: string): TokenState => ({ _tag: "Fresh", expiresAt, baseUrl }),
  Refreshing: (expiresAt: number, failures: number, lastError: string | undefined): TokenState => ({
    _tag: "Refreshing",
    expiresAt,
    failures,
    lastError
  }),
  NeedsLogin: (reason: string): TokenState => ({ _tag: "NeedsLogin", reason })
} as const

/** The mandatory window: the last 30 s before expiry (protocol.md §4). */
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
 * Refresh windows of a token (protocol.md §4): the advisory window is the last
 * `min(margin, lifetime / 2)`; the mandatory window the last 30 s (never after the advisory
 * start). `lifetimeMs` is the lifetime as issued when known.
 *
 * @since 0.1.0
 * @category timing
 */
export const windowsOf = (expiresAt: number, marginMs: number, lifetimeMs: number | undefined): Windows => {
  const margin = lifetimeMs !== undefined && lifetimeMs > 0 ? Math.min(marginMs, lifetimeMs / 2) : marginMs
  const mandatoryAt = expiresAt - Math.min(MANDATORY_WINDOW_MS, lifetimeMs !== undefined ? lifetimeMs / 2 : MANDATORY_WINDOW_MS)
  return { advisoryAt: Math.min(expiresAt - margin, mandatoryAt), mandatoryAt }
}

/** Effective advisory margin (ms), for sizing the schedule's jitter. */
export const effectiveMarginMs = (marginMs: number, lifetimeMs: number | undefined): number =>
  lifetimeMs !== undefined && lifetimeMs > 0 ? Math.min(marginMs, lifetimeMs / 2) : marginMs
