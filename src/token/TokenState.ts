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
  /**
   * When the server issued it (`expiresAt − expires_in`), when the issued lifetime is known: a
   * token rejected within a minute of being issued says the service rejects tokens, not that
   * this one went stale.
   */
  readonly issuedAt?: number | undefined
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

export { effectiveMarginMs, MANDATORY_WINDOW_MS, type Windows, windowsOf } from "../domain/Credentials.ts"
