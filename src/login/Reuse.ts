/**
 * Whether `login` can reuse stored credentials instead of a device flow (cli-contract.md
 * `login`): credentials that are unexpired, or that refresh successfully once, and are not
 * marked refused or logged out. When it cannot, it says why, so the user is not surprised by a
 * new device login.
 *
 * @since 0.1.0
 */
import { Clock, Effect } from "effect"
import type { HttpClient } from "effect/http"
import type { Settings } from "../Config.ts"
import type { Credentials, CredentialSource } from "../domain/Credentials.ts"
import type { OAuthError } from "../oauth/OAuthError.ts"
import type { CredentialStore, Snapshot, StoreError } from "../store/CredentialStore.ts"
import * as Refresh from "../token/Refresh.ts"

/**
 * @since 0.1.0
 * @category models
 */
export type ReuseDecision =
  | {
    readonly _tag: "Reuse"
    readonly credentials: Credentials
    /** True when a refresh was needed (and persisted by the store). */
    readonly refreshed: boolean
    readonly source: CredentialSource | undefined
  }
  | {
    readonly _tag: "NewLogin"
    /** Why stored credentials were not used; undefined when there were none. */
    readonly reason: string | undefined
  }

const STARTING = "starting a new device login."

const absentReason = (reason: Snapshot["absentReason"] | "not-refreshable"): string | undefined => {
  switch (reason) {
    case "refused":
      return `Your previous login was refused by Qwen; ${STARTING}`
    case "logged-out":
      return `You logged out of your previous login; ${STARTING}`
    case "not-refreshable":
      return `Your previous login has expired and cannot be refreshed; ${STARTING}`
    default:
      return undefined
  }
}

const isStoreError = (error: OAuthError | StoreError): error is StoreError =>
  error._tag === "MalformedFile" || error._tag === "FileAccessError" || error._tag === "LockError"

/**
 * Decides between reuse and a new login. An expired but refreshable login is refreshed once,
 * through the store (under the locks, so a rotated token is persisted before it is used); a
 * refused refresh token is recorded as such by that same step. Any refresh failure leads to a new login with the
 * reason; only store failures (a lock, an unreadable file) fail.
 *
 * @since 0.1.0
 * @category login
 */
export const decideReuse: (
  settings: Settings,
  store: CredentialStore["Service"]
) => Effect.Effect<ReuseDecision, StoreError, HttpClient.HttpClient> = Effect.fn("Reuse.decide")(
  function*(settings, store) {
    const snapshot = yield* store.load
    const stored = snapshot.credentials
    if (stored === undefined) return { _tag: "NewLogin", reason: absentReason(snapshot.absentReason) }
    const now = yield* Clock.currentTimeMillis
    // Still usable for a while: before the mandatory window (the last 30 s, protocol.md §4).
    if (stored.isUsable(now)) {
      return {
        _tag: "Reuse",
        credentials: stored,
        refreshed: false,
        source: snapshot.source
      }
    }
    if (stored.refreshToken === undefined) return { _tag: "NewLogin", reason: absentReason("not-refreshable") }

    const outcome = yield* Refresh.run(store, settings, { known: undefined, failedToken: undefined }).pipe(
      // Store failures (a lock, an unreadable file) are the user's to see; an OAuth failure
      // only means a new login.
      Effect.catchIf(
        (error): error is OAuthError => !isStoreError(error),
        (error) =>
          Effect.succeed({
            _tag: "Failed" as const,
            reason: `Could not refresh your previous login (${error.message}); ${STARTING}`
          })
      )
    )
    switch (outcome._tag) {
      case "Failed":
        return { _tag: "NewLogin", reason: outcome.reason }
      case "Absent":
        return { _tag: "NewLogin", reason: absentReason(outcome.reason) }
      case "Refused":
        // `attempt` already recorded the refresh token as refused, under the locks.
        return { _tag: "NewLogin", reason: `Qwen refused to refresh your previous login; ${STARTING}` }
      case "Refreshed":
        return {
          _tag: "Reuse",
          credentials: outcome.credentials,
          refreshed: true,
          source: snapshot.source
        }
      case "Adopted": {
        const at = yield* Clock.currentTimeMillis
        return outcome.credentials.isUsable(at)
          ? {
            _tag: "Reuse",
            credentials: outcome.credentials,
            refreshed: false,
            source: snapshot.source
          }
          : { _tag: "NewLogin", reason: absentReason("not-refreshable") }
      }
    }
  }
)
