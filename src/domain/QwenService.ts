/**
 * What is known about Qwen's own service (../shared/docs/hosts.md), said the same way by every
 * front end: the API error, `doctor` and the plugin.
 *
 * @since 0.1.0
 */

/** The day Qwen ended the Qwen OAuth free tier. @since 0.1.0 @category constants */
export const DISCONTINUED_ON = "2026-04-15"

/** What Qwen Code's README recommends instead. @since 0.1.0 @category constants */
export const ALTERNATIVES = ["Alibaba Cloud Coding Plan", "OpenRouter", "Fireworks AI", "an API key"] as const

/**
 * The explanation for an API that rejects freshly issued tokens.
 *
 * @since 0.1.0
 * @category constants
 */
export const DISCONTINUATION =
  `Qwen discontinued the Qwen OAuth free tier on ${DISCONTINUED_ON}; since then its API rejects every Qwen OAuth ` +
  `token, fresh ones included. Qwen recommends ${ALTERNATIVES.slice(0, -1).join(", ")} or ${ALTERNATIVES.at(-1)} instead.`
