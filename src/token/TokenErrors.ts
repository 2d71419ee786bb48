/**
 * The token actor's failure when a refresh was needed and did not succeed. Wraps the reason (an
 * OAuth or store error) instead of listing a dozen errors on every `get` (style.md 4).
 *
 * @since 0.1.0
 */
import { Runtime, Schema } from "effect"
import * as CliError from "effect/cli/CliError"
import { ExitCode, FileAccessError, LockError, MalformedFile } from "../domain/Errors.ts"
import { isOAuthError, isTransient, OAuthErrors } from "../oauth/OAuthError.ts"

/**
 * A bug (defect) inside one refresh attempt. The actor logs it and carries on with backoff.
 *
 * @since 0.1.0
 * @category errors
 */
export class RefreshDefect extends Schema.TaggedError<RefreshDefect>()("RefreshDefect", {
  detail: Schema.String
}) {
  override get message() {
    return `Internal error while refreshing: ${this.detail}`
  }
  override get [CliError.userMessage]() {
    return `Internal error while refreshing the token (${this.detail}).`
  }
  override readonly [Runtime.errorExitCode] = ExitCode.error
}

/** Why a refresh attempt failed. @since 0.1.0 @category models */
export const RefreshFailure = Schema.Union([OAuthErrors, MalformedFile, FileAccessError, LockError, RefreshDefect])
/** @since 0.1.0 @category models */
export type RefreshFailure = typeof RefreshFailure.Type

/**
 * Failures that say "not now" rather than "never": the server or the network, or a lock another
 * process held too long (many processes refreshing at once can starve one of them).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isTransientFailure = (reason: RefreshFailure): boolean =>
  (isOAuthError(reason) && isTransient(reason)) || (reason._tag === "LockError" && reason.reason === "timeout")

/**
 * No usable token: it is in (or past) its last 30 s and the refresh failed. `reason` is the
 * failure of the last attempt; the actor keeps retrying with backoff.
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenUnavailable extends Schema.TaggedError<TokenUnavailable>()("TokenUnavailable", {
  reason: RefreshFailure
}) {
  override get message() {
    return `No usable access token: refresh failed (${this.reason.message})`
  }
  override get [CliError.userMessage]() {
    return `The access token could not be refreshed.\n${this.reason[CliError.userMessage]}`
  }
  override readonly [Runtime.errorExitCode]: number = this.reason[Runtime.errorExitCode] ?? ExitCode.error
}
