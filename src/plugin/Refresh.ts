/**
 * `refreshOAuth(cred)`: OpenClaw's credential in, the one it should save out. An adapter over
 * the core's refresh transaction in host mode: OpenClaw's copy is the credential it passed (it
 * already holds its own store's lock), so only Qwen Code's lock is taken; a newer token a peer
 * stored is adopted without a POST, otherwise one POST, persisted to qwen-auth's copies before
 * the result goes back.
 *
 * @since 0.1.0
 */
import { Effect, Redacted } from "effect"
import { Credentials } from "../domain/Credentials.ts"
import { LoginRequired } from "../domain/Errors.ts"
import { QwenAuthConfig } from "../Config.ts"
import { CredentialStore } from "../store/CredentialStore.ts"
import * as Refresh from "../token/Refresh.ts"
import { NotRefreshable } from "./PluginErrors.ts"
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

/**
 * The credential OpenClaw should save. Runs with the store in host mode over `cred`; a refused
 * refresh token is recorded (by hash) and fails with `InvalidGrant`; nothing is deleted.
 *
 * @since 0.1.0
 * @category refresh
 */
export const refreshCredential = Effect.fn("Plugin.refreshOAuth")(function*(cred: OAuthCredential) {
  const settings = yield* QwenAuthConfig
  const store = yield* CredentialStore
  const outcome = yield* Refresh.run(store, settings, { known: fromOpenClaw(cred), failedToken: undefined })
  switch (outcome._tag) {
    case "Refreshed":
    case "Adopted":
      // The host cell holds what the store wrote; an adoption leaves it as OpenClaw passed it.
      return toOpenClaw(cred, outcome.credentials)
    case "Refused":
      return yield* outcome.error
    case "Absent":
      return yield* (outcome.reason === "not-refreshable" || outcome.reason === "none"
        ? new NotRefreshable()
        : new LoginRequired({ reason: outcome.reason === "logged-out" ? "You logged out of Qwen with qwen-auth." : "Qwen refused the stored refresh token." }))
  }
})
