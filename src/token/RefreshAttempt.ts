/**
 * One refresh attempt as one cross-process transaction (protocol.md §3, files.md): under the
 * store's locks, re-read; adopt a peer's newer token instead of calling the network; otherwise
 * one POST (with the refresh token just read, never a remembered one), and let the store persist
 * the rotated credentials before the locks are released. The actor owns retries and waits, which
 * happen outside the locks.
 *
 * @since 0.1.0
 */
import { Clock, Effect, Redacted } from "effect"
import type { HttpClient } from "effect/http"
import type { Settings } from "../Config.ts"
import type { Credentials } from "../domain/Credentials.ts"
import type { LockError } from "../domain/Errors.ts"
import type { InvalidGrant, OAuthError } from "../oauth/OAuthError.ts"
import { pauseAt } from "../internal/TestPause.ts"
import * as TokenEndpoint from "../oauth/TokenEndpoint.ts"
import type { CredentialStore, Snapshot, StoreError, UpdateDecision } from "../store/CredentialStore.ts"
import { MANDATORY_WINDOW_MS, windowsOf } from "./TokenState.ts"

/** Why no credentials are usable. */
export type AbsentReason = "logged-out" | "refused" | "none" | "not-refreshable"

/** What one attempt ended with (failures are the error channel). */
export type Outcome =
  /** We refreshed; the store holds the result. */
  | { readonly _tag: "Refreshed"; readonly credentials: Credentials; readonly lifetimeMs: number }
  /** A peer (or an earlier write) already holds a newer token: taken without a POST. */
  | { readonly _tag: "Adopted"; readonly credentials: Credentials; readonly lifetimeMs: number | undefined }
  | { readonly _tag: "Absent"; readonly reason: AbsentReason }
  /** `invalid_grant` for this refresh token, found while holding the locks (nothing newer stored). */
  | { readonly _tag: "Refused"; readonly refreshToken: Redacted.Redacted<string>; readonly error: InvalidGrant }

/** What the actor knows when it starts an attempt. */
export interface AttemptInput {
  /** The credentials the actor serves now, if any. */
  readonly known: Credentials | undefined
  /** Forced refresh: the access token an API call rejected. */
  readonly failedToken: Redacted.Redacted<string> | undefined
}

type Decision =
  | { readonly _tag: "Adopt"; readonly credentials: Credentials }
  | { readonly _tag: "Absent"; readonly reason: AbsentReason }
  | { readonly _tag: "Post"; readonly stored: Credentials; readonly refreshToken: Redacted.Redacted<string> }

const same = (a: Redacted.Redacted<string>, b: Redacted.Redacted<string>) => Redacted.value(a) === Redacted.value(b)

export const lifetimeOf = (snapshot: Snapshot) =>
  snapshot.issuedLifetimeSeconds !== undefined ? snapshot.issuedLifetimeSeconds * 1000 : undefined

/**
 * The decision under the locks, from the freshly read snapshot. A forced refresh adopts any other
 * stored token that is not about to expire (so N processes seeing the same 401 cause one POST); a
 * scheduled one adopts a different stored token that is not yet due for refresh itself.
 */
export const decide = (snapshot: Snapshot, nowMs: number, input: AttemptInput, marginMs: number): Decision => {
  const stored = snapshot.credentials
  if (stored === undefined) return { _tag: "Absent", reason: snapshot.absentReason ?? "none" }
  if (input.failedToken !== undefined) {
    if (!same(stored.accessToken, input.failedToken) && nowMs < stored.expiresAt - MANDATORY_WINDOW_MS) {
      return { _tag: "Adopt", credentials: stored }
    }
  } else {
    const differs = input.known === undefined || !same(stored.accessToken, input.known.accessToken)
    if (differs && nowMs < windowsOf(stored.expiresAt, marginMs, lifetimeOf(snapshot)).advisoryAt) {
      return { _tag: "Adopt", credentials: stored }
    }
  }
  if (stored.refreshToken === undefined) {
    return nowMs < stored.expiresAt
      ? { _tag: "Adopt", credentials: stored }
      : { _tag: "Absent", reason: "not-refreshable" }
  }
  return { _tag: "Post", stored, refreshToken: stored.refreshToken }
}

const keep = <A>(result: A): UpdateDecision<A> => ({ next: undefined, result })

/**
 * Runs one attempt through `CredentialStore.update`. Every attempt re-reads under the locks, so
 * after an ambiguous failure (request sent, no answer) the next one starts from what the server
 * or a peer may have written meanwhile.
 */
export const attempt = (
  store: CredentialStore["Service"],
  settings: Settings,
  input: AttemptInput
): Effect.Effect<Outcome, OAuthError | StoreError, HttpClient.HttpClient> =>
  lockedAttempt(store, settings, input).pipe(
    Effect.catchIf((e): e is LockError => e._tag === "LockError" && e.reason === "timeout", (e) => adoptUnlocked(store, input, e))
  )

/**
 * Many processes refreshing at once can keep one waiting for the locks past their timeout, while
 * a peer has long written a new token. Files are replaced atomically, so a token read without the
 * lock is as good as one read under it: if it is new to us and still valid, take it; otherwise
 * the lock timeout stands.
 */
const adoptUnlocked = (store: CredentialStore["Service"], input: AttemptInput, timeout: LockError) =>
  Effect.gen(function*() {
    const snapshot = yield* store.load
    const stored = snapshot.credentials
    const now = yield* Clock.currentTimeMillis
    const seen = [input.known?.accessToken, input.failedToken].filter((t) => t !== undefined)
    if (stored === undefined || now >= stored.expiresAt || seen.some((t) => same(t, stored.accessToken))) {
      return yield* Effect.fail(timeout)
    }
    return { _tag: "Adopted", credentials: stored, lifetimeMs: lifetimeOf(snapshot) } satisfies Outcome
  })

const lockedAttempt = (
  store: CredentialStore["Service"],
  settings: Settings,
  input: AttemptInput
): Effect.Effect<Outcome, OAuthError | StoreError, HttpClient.HttpClient> =>
  store.update((snapshot) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const decision = decide(snapshot, now, input, settings.refreshMarginSeconds * 1000)
      switch (decision._tag) {
        case "Absent":
          return keep<Outcome>({ _tag: "Absent", reason: decision.reason })
        case "Adopt":
          return keep<Outcome>({ _tag: "Adopted", credentials: decision.credentials, lifetimeMs: lifetimeOf(snapshot) })
        case "Post": {
          const answer = yield* TokenEndpoint.refresh(settings, decision.refreshToken).pipe(
            Effect.map((tokens) => ({ _tag: "Tokens" as const, tokens })),
            Effect.catchTag("InvalidGrant", (error) => Effect.succeed({ _tag: "Refused" as const, error }))
          )
          if (answer._tag === "Refused") {
            // Recorded as refused in the same locked step; nothing is deleted.
            return {
              next: undefined,
              refused: decision.refreshToken,
              result: { _tag: "Refused", refreshToken: decision.refreshToken, error: answer.error } satisfies Outcome
            }
          }
          // Crash tests stop here: the server has rotated, nothing is persisted yet.
          yield* pauseAt("refresh:after-post")
          const response = answer.tokens
          const at = yield* Clock.currentTimeMillis
          const credentials = TokenEndpoint.toCredentials(response, at, decision.stored)
          const lifetimeMs = response.expiresInSeconds * 1000
          // The store writes `next` (with a rotated refresh token) before the locks are released
          // and before the actor publishes it.
          return {
            next: credentials,
            issuedLifetimeSeconds: response.expiresInSeconds,
            result: { _tag: "Refreshed", credentials, lifetimeMs } satisfies Outcome
          }
        }
      }
    })
  )
