/**
 * The token actor's private state: one immutable record replaced by each job. Precomputes what
 * the hot path of `get` needs (the instant of the advisory window and a ready-made success), so
 * serving a fresh token is a reference read and one comparison.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import type { Credentials } from "../domain/Credentials.ts"
import { LoginRequired } from "../domain/Errors.ts"
import type { AbsentReason } from "./Refresh.ts"
import type { TokenUnavailable } from "./TokenErrors.ts"
import type { Windows } from "../domain/Credentials.ts"
import { type AccessToken, TokenState } from "./TokenState.ts"

export interface Slot {
  /** The token served, if any. */
  readonly token: AccessToken | undefined
  /** `Effect.succeed(token)`, built once. */
  readonly served: Effect.Effect<AccessToken> | undefined
  readonly credentials: Credentials | undefined
  readonly refreshable: boolean
  /** Served without I/O before this instant (−∞ without a token). */
  readonly advisoryAt: number
  /** Callers wait for a refresh from this instant on. */
  readonly mandatoryAt: number
  /** When the actor starts the background refresh: `advisoryAt − jitter`. */
  readonly refreshAt: number
  /** Why `get` fails without a token. */
  readonly absent: LoginRequired | TokenUnavailable | undefined
  /** Consecutive failed attempts since the last success. */
  readonly failures: number
  readonly lastError: TokenUnavailable | undefined
  /** No new attempt (other than the actor's own retry) before this instant. */
  readonly retryAt: number
  readonly state: TokenState
}

/** The token served for `credentials`: due for refresh from the advisory window on. */
export const accessTokenOf = (credentials: Credentials, baseUrl: string, windows: Windows): AccessToken => ({
  accessToken: credentials.accessToken,
  baseUrl,
  expiresAt: credentials.expiresAt,
  // A token without a refresh token is served as is until it expires.
  refreshDueAt: credentials.refreshToken !== undefined ? windows.advisoryAt : credentials.expiresAt,
  issuedAt: credentials.lifetimeMs !== undefined ? credentials.expiresAt - credentials.lifetimeMs : undefined
})

/** A token to serve. */
export const readySlot = (
  credentials: Credentials,
  baseUrl: string,
  windows: Windows,
  refreshAt: number
): Slot => {
  const refreshable = credentials.refreshToken !== undefined
  const token = accessTokenOf(credentials, baseUrl, windows)
  const advisoryAt = token.refreshDueAt
  return {
    token,
    served: Effect.succeed(token),
    credentials,
    refreshable,
    advisoryAt,
    mandatoryAt: refreshable ? windows.mandatoryAt : credentials.expiresAt,
    refreshAt: refreshable ? refreshAt : credentials.expiresAt,
    absent: undefined,
    failures: 0,
    lastError: undefined,
    retryAt: 0,
    state: TokenState.Fresh(credentials.expiresAt, baseUrl)
  }
}

const LOGIN_HINT = "run `qwen-auth login`"

const REASONS: Record<AbsentReason, string> = {
  "logged-out": "You are logged out of Qwen.",
  none: "No Qwen credentials are stored.",
  refused: "Qwen refused the stored refresh token (invalid_grant): the login expired or was revoked.",
  "not-refreshable": "The Qwen access token expired and Qwen issued no refresh token."
}

/** No token: logged out, never logged in, or a login is needed. */
export const absentSlot = (reason: AbsentReason): Slot => ({
  ...emptySlot,
  absent: new LoginRequired({ reason: REASONS[reason] }),
  state: reason === "logged-out" || reason === "none"
    ? TokenState.LoggedOut
    : TokenState.NeedsLogin(`${REASONS[reason]} ${LOGIN_HINT}`)
})

/** No token because the stored credentials cannot be read (a malformed file, a lock). */
export const brokenSlot = (error: TokenUnavailable): Slot => ({
  ...emptySlot,
  absent: error,
  state: TokenState.NeedsLogin(error.reason.message)
})

const emptySlot: Slot = {
  token: undefined,
  served: undefined,
  credentials: undefined,
  refreshable: false,
  advisoryAt: Number.NEGATIVE_INFINITY,
  mandatoryAt: Number.NEGATIVE_INFINITY,
  refreshAt: Number.POSITIVE_INFINITY,
  absent: new LoginRequired({ reason: "The token manager is starting." }),
  failures: 0,
  lastError: undefined,
  retryAt: 0,
  state: TokenState.LoggedOut
}

/** Before the first load. */
export const startingSlot: Slot = emptySlot

/** A failed attempt while a token is held: keep serving it, back off. */
export const failedSlot = (before: Slot, error: TokenUnavailable, retryAt: number): Slot => ({
  ...before,
  failures: before.failures + 1,
  lastError: error,
  retryAt,
  state: TokenState.Refreshing(before.token?.expiresAt ?? 0, before.failures + 1, error.reason.message)
})

/**
 * When the actor should act on its own: the scheduled refresh, the next retry while the token is
 * still valid (retries are bounded by its lifetime; after that callers drive the attempts), or the
 * expiry of a token that cannot be refreshed. `+∞`: nothing to do until woken. `retryPastExpiry`
 * (the daemon, which has no callers): retries go on after the expiry too.
 */
export const dueAt = (slot: Slot, retryPastExpiry = false): number => {
  if (slot.token === undefined) return Number.POSITIVE_INFINITY
  if (!slot.refreshable) return slot.token.expiresAt
  if (slot.failures === 0) return slot.refreshAt
  return retryPastExpiry || slot.retryAt < slot.token.expiresAt ? slot.retryAt : Number.POSITIVE_INFINITY
}
