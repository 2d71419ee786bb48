/**
 * In-memory credentials: what a login or refresh produced, whatever file they came from.
 *
 * @since 0.1.0
 */
import { Redacted, Schema } from "effect"
import { createHash } from "node:crypto"

/**
 * Tokens are `Redacted` from the moment they are decoded; `expiresAt` is epoch milliseconds.
 *
 * @since 0.1.0
 * @category models
 */
export class Credentials extends Schema.Class<Credentials>("qwen-auth/Credentials")({
  accessToken: Schema.Redacted(Schema.String),
  refreshToken: Schema.optionalKey(Schema.Redacted(Schema.String)),
  idToken: Schema.optionalKey(Schema.Redacted(Schema.String)),
  tokenType: Schema.String,
  expiresAt: Schema.Number,
  /** The server's `resource_url` as sent (normalise with `ResourceUrl.toBaseUrl`). */
  resourceUrl: Schema.optionalKey(Schema.String)
}) {}

/** Where loaded credentials came from. @since 0.1.0 @category models */
export type CredentialSource = "openclaw" | "qwen-code"

/**
 * A hash of a token for the state file: the state file keeps hashes, never tokens.
 *
 * @since 0.1.0
 * @category utils
 */
export const tokenHash = (token: Redacted.Redacted<string> | string): string =>
  createHash("sha256").update(typeof token === "string" ? token : Redacted.value(token)).digest("hex")

/** Same access token? (compares the secrets without exposing them elsewhere) */
export const sameAccessToken = (a: Credentials, b: Credentials): boolean =>
  Redacted.value(a.accessToken) === Redacted.value(b.accessToken)

/** Same refresh token (both absent counts as the same). */
export const sameRefreshToken = (a: Credentials, b: Credentials): boolean =>
  (a.refreshToken === undefined ? undefined : Redacted.value(a.refreshToken)) ===
    (b.refreshToken === undefined ? undefined : Redacted.value(b.refreshToken))
