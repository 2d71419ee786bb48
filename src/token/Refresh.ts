/**
 * The refresh transaction: the one way any front end (the token actor and so `qwen-auth token`
 * and the Layer, `login`'s reuse, the OpenClaw plugin) renews credentials (protocol.md §3,
 * files.md). Under the store's locks: re-read; adopt a peer's newer token instead of calling the
 * network; otherwise one POST with the refresh token just read (never a remembered one). What the
 * server sends is validated before anything is written, and the store persists the result before
 * the locks are released. Retries and waits belong to the caller and happen outside the locks.
 *
 * A 200 answer that carries a rotated refresh token is never thrown away (the server has already
 * spent the old one): an untrusted `resource_url` is dropped with a warning; an unusable access
 * token or lifetime still persists the new refresh token, marked expired, before failing.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Redacted } from "effect"
import type { HttpClient } from "effect/http"
import type { Settings } from "../Config.ts"
import type { Credentials } from "../domain/Credentials.ts"
import type { LockError } from "../domain/Errors.ts"
import { pauseAt } from "../internal/TestPause.ts"
import type { InvalidGrant, MalformedResponse, OAuthError } from "../oauth/OAuthError.ts"
import * as TokenEndpoint from "../oauth/TokenEndpoint.ts"
import { checkResourceUrl } from "../oauth/Trust.ts"
import type { CredentialStore, Snapshot, StoreError, UpdateDecision } from "../store/CredentialStore.ts"

/** Why no credentials are usable. @since 0.1.0 @category models */
export type AbsentReason = "logged-out" | "refused" | "none" | "not-refreshable"

/** What one transaction ended with (failures are the error channel). @since 0.1.0 @category models */
export type Outcome =
  /** We refreshed; the store holds the result. */
  | { readonly _tag: "Refreshed"; readonly credentials: Credentials }
  /** A peer (or an earlier write) already holds a newer token: taken without a POST. */
  | { readonly _tag: "Adopted"; readonly credentials: Credentials }
  | { readonly _tag: "Absent"; readonly reason: AbsentReason }
  /** `invalid_grant` for this refresh token, found under the locks (recorded as refused; nothing deleted). */
  | { readonly _tag: "Refused"; readonly refreshToken: Redacted.Redacted<string>; readonly error: InvalidGrant }

/** What the caller knows when it starts. @since 0.1.0 @category models */
export interface RefreshInput {
  /** The credentials the caller holds now, if any. */
  readonly known: Credentials | undefined
  /** Forced refresh: the access token an API call rejected. */
  readonly failedToken: Redacted.Redacted<string> | undefined
}

type Decision =
  | { readonly _tag: "Adopt"; readonly credentials: Credentials }
  | { readonly _tag: "Absent"; readonly reason: AbsentReason }
  | { readonly _tag: "Post"; readonly stored: Credentials; readonly refreshToken: Redacted.Redacted<string> }

const same = (a: Redacted.Redacted<string>, b: Redacted.Redacted<string>) => Redacted.value(a) === Redacted.value(b)

/**
 * The decision under the locks, from the freshly read snapshot. A forced refresh adopts any other
 * stored token that is still usable (so N processes seeing the same 401 cause one POST); a
 * scheduled one adopts a different stored token that is not yet due itself.
 *
 * @since 0.1.0
 * @category refresh
 */
export const decide = (snapshot: Snapshot, nowMs: number, input: RefreshInput, margin: Duration.Duration): Decision => {
  const stored = snapshot.credentials
  if (stored === undefined) return { _tag: "Absent", reason: snapshot.absentReason ?? "none" }
  if (input.failedToken !== undefined) {
    if (!same(stored.accessToken, input.failedToken) && stored.isUsable(nowMs)) return { _tag: "Adopt", credentials: stored }
  } else {
    const differs = input.known === undefined || !same(stored.accessToken, input.known.accessToken)
    if (differs && !stored.isDue(nowMs, margin)) return { _tag: "Adopt", credentials: stored }
  }
  if (stored.refreshToken === undefined) {
    return stored.isExpired(nowMs) ? { _tag: "Absent", reason: "not-refreshable" } : { _tag: "Adopt", credentials: stored }
  }
  return { _tag: "Post", stored, refreshToken: stored.refreshToken }
}

/** What a validated answer makes of the stored credentials. */
type Validated =
  | { readonly _tag: "Usable"; readonly credentials: Credentials }
  /** Only the rotated refresh token is usable: kept (marked expired), then `problem` is reported. */
  | { readonly _tag: "RotatedOnly"; readonly credentials: Credentials; readonly problem: MalformedResponse }

/**
 * Validates a 200 answer against the trust rules before anything is written: a `resource_url`
 * tokens may not go to is dropped (the previous one kept), with a warning naming it.
 */
const validate = (settings: Settings, stored: Credentials, answer: TokenEndpoint.RefreshAnswer) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    if (answer._tag === "RotatedOnly") {
      yield* Effect.logWarning(
        `Qwen rotated the refresh token but sent an unusable ${answer.problem.field}; the new refresh token is saved ` +
          "(marked expired) so the next refresh uses it"
      )
      return {
        _tag: "RotatedOnly",
        credentials: stored.with({ refreshToken: answer.refreshToken, expiresAt: Math.min(stored.expiresAt, now) }),
        problem: answer.problem
      } satisfies Validated
    }
    const tokens = answer.tokens
    const trusted = tokens.resourceUrl === undefined
      ? tokens
      : yield* checkResourceUrl(settings, tokens.resourceUrl).pipe(
        Effect.as(tokens),
        Effect.catch((untrusted) =>
          Effect.as(
            Effect.logWarning(
              `Qwen's refresh answer named an API host qwen-auth does not trust (${untrusted.url}); the new tokens ` +
                "are kept with the previous API host (allow the host in the configuration if it is expected)"
            ),
            { ...tokens, resourceUrl: undefined }
          )
        )
      )
    return { _tag: "Usable", credentials: TokenEndpoint.toCredentials(trusted, now, stored) } satisfies Validated
  })

/** What the locked step hands back: an outcome, or a rotated-only answer to fail with once persisted. */
type StepResult = Outcome | { readonly _tag: "Rejected"; readonly problem: MalformedResponse }

/** The locked step: decide, maybe POST, and say what the store must write. */
const step = (settings: Settings, input: RefreshInput) => (snapshot: Snapshot) =>
  Effect.gen(function*(): Effect.fn.Return<UpdateDecision<StepResult>, OAuthError, HttpClient.HttpClient> {
    const decision = decide(snapshot, yield* Clock.currentTimeMillis, input, settings.refreshMargin)
    switch (decision._tag) {
      case "Absent":
        return { next: undefined, result: { _tag: "Absent", reason: decision.reason } }
      case "Adopt":
        // Adopting also brings behind copies up to date (OpenClaw 2026.3.24's profile, qwen-auth's
        // own copy, Qwen Code's file): a host that reads a stale copy would refresh a spent chain.
        return {
          next: snapshot.stale ? decision.credentials : undefined,
          result: { _tag: "Adopted", credentials: decision.credentials }
        }
      case "Post": {
        // The access token being replaced is redacted too: the server knows it and may echo it.
        const answer = yield* TokenEndpoint.refresh(settings, decision.refreshToken, [decision.stored.accessToken]).pipe(
          Effect.catchTag("InvalidGrant", (error) => Effect.succeed({ _tag: "Refused" as const, error }))
        )
        if (answer._tag === "Refused") {
          // Recorded as refused in the same locked step; nothing is deleted.
          return {
            next: undefined,
            refused: decision.refreshToken,
            result: { _tag: "Refused", refreshToken: decision.refreshToken, error: answer.error }
          }
        }
        // Crash tests stop here: the server has rotated, nothing is persisted yet.
        yield* pauseAt("refresh:after-post")
        const validated = yield* validate(settings, decision.stored, answer)
        // The refresh token just sent is spent now: a copy still holding it is behind, never a candidate.
        return validated._tag === "Usable"
          ? {
            next: validated.credentials,
            spent: decision.refreshToken,
            result: { _tag: "Refreshed", credentials: validated.credentials }
          }
          : { next: validated.credentials, spent: decision.refreshToken, result: { _tag: "Rejected", problem: validated.problem } }
      }
    }
  })

/**
 * Many processes refreshing at once can keep one waiting for the locks past their timeout, while
 * a peer has long written a new token. Files are replaced atomically, so a token read without the
 * lock is as good as one read under it: if it is new to the caller and still valid, take it;
 * otherwise the lock timeout stands.
 */
const adoptUnlocked = (store: CredentialStore["Service"], input: RefreshInput, timeout: LockError) =>
  Effect.gen(function*() {
    const stored = (yield* store.load).credentials
    const now = yield* Clock.currentTimeMillis
    const seen = [input.known?.accessToken, input.failedToken].filter((t) => t !== undefined)
    if (stored === undefined || stored.isExpired(now) || seen.some((t) => same(t, stored.accessToken))) {
      return yield* Effect.fail(timeout)
    }
    return { _tag: "Adopted", credentials: stored } satisfies Outcome
  })

/**
 * Runs one refresh transaction through `CredentialStore.update`. Every run re-reads under the
 * locks, so after an ambiguous failure (request sent, no answer) the next one starts from what
 * the server or a peer may have written meanwhile.
 *
 * @since 0.1.0
 * @category refresh
 */
export const run = (
  store: CredentialStore["Service"],
  settings: Settings,
  input: RefreshInput
): Effect.Effect<Outcome, OAuthError | StoreError, HttpClient.HttpClient> => {
  const once: Effect.Effect<Outcome, OAuthError | StoreError, HttpClient.HttpClient> = store.update(step(settings, input)).pipe(
    Effect.flatMap((result): Effect.Effect<Outcome, MalformedResponse> =>
      result._tag === "Rejected" ? Effect.fail(result.problem) : Effect.succeed(result)
    ),
    Effect.catchIf((e): e is LockError => e._tag === "LockError" && e.reason === "timeout", (e) => adoptUnlocked(store, input, e))
  )
  // `invalid_grant` is not yet "log in again": another copy may hold a live chain (a peer
  // rotated while the copies expired together). The refused chain is recorded, so a second run
  // re-reads every copy under the locks and can only pick a different, unspent one.
  return once.pipe(
    Effect.flatMap((outcome) =>
      outcome._tag !== "Refused"
        ? Effect.succeed(outcome)
        : Effect.map(once, (second): Outcome => second._tag === "Absent" ? outcome : second)
    ),
    Effect.withSpan("Refresh.run")
  )
}
