/**
 * The API refused an access token that was issued moments earlier: not a stale token, the service
 * itself no longer takes these tokens (as Qwen's API has done since the free tier ended). Decided
 * by status codes and the token's age only, never by the server's wording.
 *
 * @since 0.1.0
 */
import { Runtime, Schema } from "effect"
import * as CliError from "effect/cli/CliError"
import { ExitCode } from "../domain/Errors.ts"
import { DISCONTINUATION } from "../domain/QwenService.ts"

/**
 * A token issued this recently and still refused means the service rejects tokens.
 *
 * @since 0.1.0
 * @category constants
 */
export const FRESH_TOKEN_MS = 60_000

/**
 * @since 0.1.0
 * @category errors
 */
export class ServiceRejectsTokens extends Schema.TaggedError<ServiceRejectsTokens>()("ServiceRejectsTokens", {
  /** 401 or 403. */
  status: Schema.Number,
  /** How old the refused token was, in whole seconds. */
  tokenAgeSeconds: Schema.Number,
  /** The server's words, sanitised (secrets redacted, controls escaped, cut short). */
  serverMessage: Schema.optional(Schema.String)
}) {
  override get message() {
    return `The Qwen API answered ${this.status} to a token issued ${this.tokenAgeSeconds} s earlier`
  }
  override get [CliError.userMessage]() {
    const said = this.serverMessage !== undefined ? `: "${this.serverMessage}"` : ""
    return `Qwen's API refused a token issued ${this.tokenAgeSeconds} s earlier (HTTP ${this.status}${said}).\n${DISCONTINUATION}`
  }
  override readonly [Runtime.errorExitCode] = ExitCode.error
}
