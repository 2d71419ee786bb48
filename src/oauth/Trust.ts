/**
 * The trust rules, in one place: which hosts may receive a device code, a refresh token or a
 * bearer token. Plain http only to loopback; the OAuth base must be https; a server's
 * `resource_url` must be https and under `qwen.ai`, the OAuth server's host, loopback or an
 * allowed host (protocol.md "Constants", §5).
 *
 * Kept free of the HTTP client (`effect/http`, `Transport.ts`): `status` is start-up benchmarked
 * and reaches these rules without ever sending a request.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { toBaseUrl } from "../domain/ApiBaseUrl.ts"
import { escapeControls, escapeUrl } from "../domain/Sanitize.ts"
import type { OAuthSettings } from "./OAuthSettings.ts"
import { UntrustedEndpoint } from "./OAuthError.ts"

// ---------------------------------------------------------------------------------------------
// Hosts
// ---------------------------------------------------------------------------------------------

/**
 * Loopback hosts: the only ones plain http (and a bearer token over it) may go to.
 * 127.0.0.0/8, `localhost` (and `*.localhost`), `::1`. Brackets of IPv6 URL hosts are accepted.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isLoopbackHost = (host: string): boolean => {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "").replace(/\.$/, "")
  if (h === "localhost" || h.endsWith(".localhost")) return true
  if (h === "::1" || h === "0:0:0:0:0:0:0:1" || h === "::ffff:127.0.0.1") return true
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}

const hostOf = (url: string): string | undefined => {
  try {
    return new URL(url).hostname.toLowerCase()
  } catch {
    return undefined
  }
}

// ---------------------------------------------------------------------------------------------
// OAuth base
// ---------------------------------------------------------------------------------------------

/**
 * The OAuth base URL must be https unless its host is loopback (protocol.md "Constants").
 * Checked before any request, so a device code or refresh token never travels in clear text.
 *
 * @since 0.1.0
 * @category trust
 */
export const checkOAuthBase = (
  settings: Pick<OAuthSettings, "oauthBaseUrl">
): Effect.Effect<void, UntrustedEndpoint> => {
  let url: URL
  try {
    url = new URL(settings.oauthBaseUrl)
  } catch {
    return Effect.fail(new UntrustedEndpoint({ url: settings.oauthBaseUrl, reason: "not a valid URL" }))
  }
  if (url.protocol === "https:") return Effect.void
  if (url.protocol === "http:" && isLoopbackHost(url.hostname)) return Effect.void
  return Effect.fail(
    new UntrustedEndpoint({
      url: url.origin,
      reason: url.protocol === "http:"
        ? "plain http is allowed only for loopback hosts (127.0.0.1, localhost, ::1); use https"
        : `unsupported scheme ${url.protocol}`
    })
  )
}

/** `user:password@` (even an empty one) in a URL's authority: a link that reads as another host. */
const hasUserinfo = (raw: string, url: URL) =>
  url.username !== "" || url.password !== "" || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(raw)

/**
 * How a refused URL is named in an error: scheme and host only (`…@` marks userinfo without
 * showing it), never the path or raw bytes.
 */
const shown = (raw: string, url: URL | undefined): string =>
  url !== undefined && url.host !== ""
    ? `${url.protocol}//${hasUserinfo(raw, url) ? "…@" : ""}${url.host}`
    : escapeControls(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw)

const parse = (raw: string): URL | undefined => {
  try {
    return new URL(raw)
  } catch {
    return undefined
  }
}

// ---------------------------------------------------------------------------------------------
// Verification URIs
// ---------------------------------------------------------------------------------------------

/**
 * A `verification_uri` / `verification_uri_complete` the CLI may show, QR-encode and open:
 * https, or http to a loopback host, and no userinfo (`https://chat.qwen.ai@evil.example` reads
 * as Qwen's host). Unsafe characters come back percent-encoded, so what is shown is what is opened.
 *
 * @see RFC 8628 §3.2, §5.4 (remote phishing)
 * @returns the URL to show and open.
 * @since 0.1.0
 * @category trust
 */
export const checkVerificationUri = (
  field: "verification_uri" | "verification_uri_complete",
  value: string
): Effect.Effect<string, UntrustedEndpoint> => {
  const raw = escapeUrl(value.trim())
  const url = parse(raw)
  if (url === undefined) {
    return Effect.fail(new UntrustedEndpoint({ url: shown(raw, url), reason: `the server's ${field} is not a valid URL` }))
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname))) {
    return Effect.fail(
      new UntrustedEndpoint({
        url: shown(raw, url),
        reason: `the server's ${field} is not https (plain http is allowed only for loopback hosts); it is not shown or opened`
      })
    )
  }
  if (hasUserinfo(raw, url)) {
    return Effect.fail(
      new UntrustedEndpoint({
        url: shown(raw, url),
        reason: `the server's ${field} carries a user name or password (user@host); it is not shown or opened`
      })
    )
  }
  return Effect.succeed(raw)
}

// ---------------------------------------------------------------------------------------------
// resource_url
// ---------------------------------------------------------------------------------------------

/**
 * Normalizes `value` (`toBaseUrl`, unsafe characters percent-encoded) and checks it may receive
 * bearer tokens: no userinfo, https (or http to loopback), and a host under `qwen.ai`, the OAuth
 * server's own host, loopback, or `settings.allowedResourceHosts`.
 *
 * @see protocol.md §5
 * @returns the API base URL to keep with the token.
 * @since 0.1.0
 * @category trust
 */
export const checkResourceUrl = (
  settings: Pick<OAuthSettings, "oauthBaseUrl" | "allowedResourceHosts">,
  value: string | undefined
): Effect.Effect<string, UntrustedEndpoint> => {
  const base = toBaseUrl(value === undefined ? undefined : escapeUrl(value))
  const url = parse(base)
  if (url === undefined) {
    return Effect.fail(new UntrustedEndpoint({ url: shown(base, url), reason: "the server's resource_url is not a valid URL" }))
  }
  if (hasUserinfo(base, url)) {
    // Refused like a foreign host: `https://portal.qwen.ai@evil.example` is evil.example.
    return Effect.fail(
      new UntrustedEndpoint({ url: shown(base, url), reason: "the server's resource_url carries a user name or password (user@host)" })
    )
  }
  const host = url.hostname.toLowerCase()
  const loopback = isLoopbackHost(host)
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    return Effect.fail(
      new UntrustedEndpoint({ url: url.origin, reason: "tokens are only sent over https (or to loopback hosts)" })
    )
  }
  const allowed = settings.allowedResourceHosts.map((h) => h.toLowerCase())
  const trusted = host === "qwen.ai" || host.endsWith(".qwen.ai") || host === hostOf(settings.oauthBaseUrl) ||
    loopback || allowed.includes(host) || allowed.includes(url.host.toLowerCase())
  return trusted
    ? Effect.succeed(base)
    : Effect.fail(
      new UntrustedEndpoint({
        url: url.origin,
        reason:
          `the server's resource_url host ${host} is neither under qwen.ai nor the OAuth server's host; allow it explicitly in the configuration if it is expected`
      })
    )
}
