/**
 * The settings the OAuth steps read, and nothing else. A structural subset of `Config.Settings`
 * (same names, same types), so callers pass their `Settings` unchanged while `oauth/` stays free
 * of the configuration module. Each step asks for the narrowest `Pick` it needs.
 *
 * @since 0.1.0
 */
import type { Duration } from "effect"

/**
 * Every setting a spec step reads.
 *
 * @since 0.1.0
 * @category models
 */
export interface OAuthSettings {
  /** Scheme, host and optional path prefix of the OAuth server, without a trailing slash. */
  readonly oauthBaseUrl: string
  readonly clientId: string
  /** Requested with the device code (RFC 8628 §3.1). */
  readonly scope: string
  /** User-Agent sent with every OAuth request. */
  readonly userAgent: string
  /** Timeout of one OAuth request (device code, poll). */
  readonly requestTimeout: Duration.Duration
  /** Timeout of one refresh POST; short, because it runs under the locks. */
  readonly refreshTimeout: Duration.Duration
  /** Extra hosts a server's `resource_url` may point at (protocol.md §5). */
  readonly allowedResourceHosts: ReadonlyArray<string>
}

/**
 * OAuth endpoints under the configured base (protocol.md "Constants").
 *
 * @since 0.1.0
 * @category constructors
 */
export const endpointsOf = (settings: Pick<OAuthSettings, "oauthBaseUrl">) => ({
  deviceCode: `${settings.oauthBaseUrl}/api/v1/oauth2/device/code`,
  token: `${settings.oauthBaseUrl}/api/v1/oauth2/token`
})
