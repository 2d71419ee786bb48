/**
 * The API base URL from a token response's `resource_url` (protocol.md §5), and the host rule
 * that keeps a hostile answer from sending bearer tokens elsewhere.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { DEFAULT_API_BASE_URL, type Settings } from "../Config.ts"
import { isLoopbackHost } from "./Loopback.ts"
import { UntrustedEndpoint } from "./OAuthError.ts"

/**
 * `normalize(value)`: trim; empty → the default; no scheme → `https://`; strip trailing
 * slashes; append `/v1` unless already there. `portal.qwen.ai` → `https://portal.qwen.ai/v1`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const toBaseUrl = (resourceUrl: string | undefined): string => {
  const trimmed = (resourceUrl ?? "").trim()
  if (trimmed === "") return DEFAULT_API_BASE_URL
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`
  const bare = withScheme.replace(/\/+$/, "")
  return bare.endsWith("/v1") ? bare : `${bare}/v1`
}

const hostOf = (url: string): string | undefined => {
  try {
    return new URL(url).hostname.toLowerCase()
  } catch {
    return undefined
  }
}

/**
 * Normalizes `value` and checks it may receive bearer tokens: https (or http to loopback), and a
 * host under `qwen.ai`, the OAuth server's own host, loopback, or `settings.allowedResourceHosts`.
 *
 * @see protocol.md §5
 * @returns the API base URL to keep with the token.
 */
export const checkResourceUrl = (
  settings: Settings,
  value: string | undefined
): Effect.Effect<string, UntrustedEndpoint> => {
  const base = toBaseUrl(value)
  let url: URL
  try {
    url = new URL(base)
  } catch {
    return Effect.fail(new UntrustedEndpoint({ url: base, reason: "the server's resource_url is not a valid URL" }))
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
