/**
 * The API base URL: the default, and the normalisation of a token response's `resource_url`
 * (protocol.md §5). A leaf module with no imports, so `status` (start-up benchmarked), the
 * plugin's catalog and the OAuth trust rules can all share it without loading each other.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 @category constants */
export const DEFAULT_API_BASE_URL = "https://portal.qwen.ai/v1"

/**
 * `normalize(value)`: trim; empty → the default; no scheme → `https://`; strip trailing
 * slashes; append `/v1` unless already there. `portal.qwen.ai` → `https://portal.qwen.ai/v1`.
 * Pure: whether tokens may go there is `oauth/Trust.checkResourceUrl`'s call.
 *
 * @see protocol.md §5
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
