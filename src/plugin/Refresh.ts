/**
 * `refreshOAuth(cred)`: one refresh transaction under Qwen Code's lock only (OpenClaw already
 * holds its `auth-profiles.json` lock when it calls this). Re-read `oauth_creds.json`; adopt a
 * newer token a peer (Qwen Code, qwen-auth's CLI) stored there, with no POST; otherwise one POST
 * with the newest refresh token known, and the rotated tokens written back before the lock is
 * released. OpenClaw saves the returned credential in its own store.
 *
 * @since 0.1.0
 */
import { Clock, Effect, Redacted } from "effect"
import type { Settings } from "../Config.ts"
import { Credentials, sameRefreshToken } from "../domain/Credentials.ts"
import { checkResourceUrl } from "../oauth/ResourceUrl.ts"
import * as TokenEndpoint from "../oauth/TokenEndpoint.ts"
import { windowsOf } from "../token/TokenState.ts"
import { NotRefreshable } from "./PluginErrors.ts"
import { readShared, type Shared, stateOf, usableStored, withQwenLock, writeShared } from "./QwenCodeSync.ts"
import type { OAuthCredential } from "./types.ts"

/** OpenClaw's credential as qwen-auth `Credentials` (no `resource_url`: OpenClaw keeps none). */
export const fromOpenClaw = (cred: OAuthCredential): Credentials =>
  new Credentials({
    accessToken: Redacted.make(cred.access),
    tokenType: "Bearer",
    expiresAt: cred.expires,
    ...(typeof cred.refresh === "string" && cred.refresh !== "" ? { refreshToken: Redacted.make(cred.refresh) } : {})
  })

/** `cred` with the tokens of `next`; everything else OpenClaw keeps (email, …) stays. */
export const toOpenClaw = (cred: OAuthCredential, next: Credentials): OAuthCredential => {
  const { refresh: _old, ...rest } = cred
  const refresh = next.refreshToken ?? (typeof cred.refresh === "string" && cred.refresh !== "" ? Redacted.make(cred.refresh) : undefined)
  return {
    ...rest,
    type: "oauth",
    provider: cred.provider,
    access: Redacted.value(next.accessToken),
    ...(refresh !== undefined ? { refresh: Redacted.value(refresh) } : {}),
    expires: next.expiresAt
  }
}

/** What to do under the lock, decided from the files just read. */
type Plan =
  | { readonly _tag: "Adopt"; readonly credentials: Credentials }
  | { readonly _tag: "Post"; readonly base: Credentials; readonly refreshToken: Redacted.Redacted<string> }

/**
 * Adopt a different stored token that is not yet due for refresh itself; else refresh the newer
 * of the two chains (the stored one when it expires later: under rotation OpenClaw's refresh
 * token may already be dead).
 */
export const plan = (settings: Settings, shared: Shared, cred: Credentials, nowMs: number): Plan | undefined => {
  const stored = usableStored(shared)
  if (stored !== undefined) {
    const lifetime = stateOf(shared).issuedLifetimeSeconds
    const due = windowsOf(stored.expiresAt, settings.refreshMarginSeconds * 1000, lifetime !== undefined ? lifetime * 1000 : undefined)
      .advisoryAt
    const differs = Redacted.value(stored.accessToken) !== Redacted.value(cred.accessToken)
    if (differs && nowMs < due) return { _tag: "Adopt", credentials: stored }
  }
  const storedRefreshable = stored?.refreshToken !== undefined ? stored : undefined
  const preferStored = storedRefreshable !== undefined &&
    (storedRefreshable.expiresAt > cred.expiresAt || sameRefreshToken(storedRefreshable, cred) ||
      cred.refreshToken === undefined)
  const base = preferStored ? storedRefreshable : cred
  return base.refreshToken === undefined ? undefined : { _tag: "Post", base, refreshToken: base.refreshToken }
}

/**
 * The refresh transaction. A refused refresh token is recorded (by hash) in the state file and
 * fails with `InvalidGrant`; nothing is deleted.
 *
 * @since 0.1.0
 * @category refresh
 */
export const refreshCredential = Effect.fn("Plugin.refreshOAuth")(function*(settings: Settings, cred: OAuthCredential) {
  const current = fromOpenClaw(cred)
  const transaction = Effect.gen(function*() {
    const shared = yield* readShared(settings)
    const decided = plan(settings, shared, current, yield* Clock.currentTimeMillis)
    if (decided === undefined) return yield* new NotRefreshable()
    if (decided._tag === "Adopt") return toOpenClaw(cred, decided.credentials)

    const answer = yield* TokenEndpoint.refresh(settings, decided.refreshToken).pipe(
      Effect.catchTag("InvalidGrant", (error) =>
        // Recorded in the same locked step, so the CLI reports "needs login" too.
        writeShared(settings, shared, undefined, { refused: decided.refreshToken }).pipe(
          Effect.ignore,
          Effect.andThen(Effect.fail(error))
        ))
    )
    // A resource_url we would not send tokens to is not passed on to Qwen Code.
    const trusted = answer.resourceUrl === undefined
      ? answer
      : yield* checkResourceUrl(settings, answer.resourceUrl).pipe(
        Effect.as(answer),
        Effect.catch((e) =>
          Effect.logWarning(`qwen-auth: ignoring the refreshed resource_url (${e.message})`).pipe(
            Effect.as({ ...answer, resourceUrl: undefined })
          )
        )
      )
    const next = TokenEndpoint.toCredentials(trusted, yield* Clock.currentTimeMillis, decided.base)
    // The rotated refresh token is returned to OpenClaw even if Qwen Code's file cannot take it.
    const written = yield* writeShared(settings, shared, next, { issuedLifetimeSeconds: answer.expiresInSeconds }).pipe(
      Effect.catch((e) => Effect.logWarning(`qwen-auth: could not update ${e.path}: ${e.message}`).pipe(Effect.as(undefined)))
    )
    if (written?.skipped !== undefined) {
      yield* Effect.logWarning(`qwen-auth: left Qwen Code's credentials alone: ${written.skipped.message}`)
    }
    return toOpenClaw(cred, next)
  })
  // The state file is only ever rewritten under Qwen Code's lock, so the lock is taken even with sync off.
  return yield* withQwenLock(settings, transaction)
})
