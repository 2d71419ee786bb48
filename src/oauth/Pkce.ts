/**
 * PKCE S256 (RFC 7636): a verifier of 32 random bytes, base64url (43 characters), and its
 * challenge `base64url(sha256(verifier))`, unpadded.
 *
 * @since 0.1.0
 */
import { Effect, Redacted } from "effect"
import { createHash, randomBytes } from "node:crypto"

/**
 * A PKCE pair. The verifier is a secret until the token poll sends it.
 *
 * @since 0.1.0
 * @category models
 */
export interface PkcePair {
  readonly verifier: Redacted.Redacted<string>
  readonly challenge: string
  readonly method: "S256"
}

/** RFC 7636 §4.1: 43–128 characters of `[A-Za-z0-9-._~]`. */
export const isValidVerifier = (verifier: string): boolean => /^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)

/**
 * `BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`.
 *
 * @see RFC 7636 §4.2
 */
export const challengeOf = (verifier: string): string => createHash("sha256").update(verifier, "ascii").digest("base64url")

/**
 * The pair for a given verifier (tests inject RFC 7636 Appendix B's).
 *
 * @returns a pair for `deviceAuthorizationRequest`.
 */
export const pkceFromVerifier = (verifier: string | Redacted.Redacted<string>): PkcePair => {
  const plain = typeof verifier === "string" ? verifier : Redacted.value(verifier)
  return { verifier: Redacted.make(plain), challenge: challengeOf(plain), method: "S256" }
}

/**
 * A fresh pair. The verifier needs cryptographic randomness, so it comes from node:crypto rather
 * than Effect's seedable `Random`.
 *
 * @see RFC 7636 §4.1, §7.1
 * @returns a pair for `deviceAuthorizationRequest`.
 */
export const generatePkce: Effect.Effect<PkcePair> = Effect.sync(() =>
  pkceFromVerifier(randomBytes(32).toString("base64url"))
)
