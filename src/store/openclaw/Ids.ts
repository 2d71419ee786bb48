/**
 * The names qwen-auth owns in OpenClaw's config (files.md "OpenClaw: config openclaw.json"): the
 * provider, plugin and auth-profile ids, our two model refs and their alias, and the provider's
 * model list.
 *
 * @since 0.1.0
 */
import type { JsonObject } from "./Json.ts"

/** @since 0.1.0 @category constants */
export const PROVIDER_ID = "qwen-portal"
/** @since 0.1.0 @category constants */
export const PLUGIN_ID = "qwen-portal-auth"
/** @since 0.1.0 @category constants */
export const PROFILE_ID = "qwen-portal:default"
/** @since 0.1.0 @category constants */
export const CODER_REF = "qwen-portal/coder-model"
/** @since 0.1.0 @category constants */
export const VISION_REF = "qwen-portal/vision-model"
/** @since 0.1.0 @category constants */
export const ALIAS = "qwen"
/** The marker OpenClaw reads as "take the token from the auth profile"; not a secret. */
export const API_KEY_MARKER = "qwen-oauth"

const zeroCost = () => ({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0 })

/**
 * The provider's model list exactly as files.md shows it (a fresh copy each call).
 *
 * @since 0.1.0
 * @category constants
 */
export const qwenModels = (): Array<JsonObject> => [
  {
    id: "coder-model",
    name: "Qwen Coder",
    reasoning: false,
    input: ["text"],
    cost: zeroCost(),
    contextWindow: 128000,
    maxTokens: 8192
  },
  {
    id: "vision-model",
    name: "Qwen Vision",
    reasoning: false,
    input: ["text", "image"],
    cost: zeroCost(),
    contextWindow: 128000,
    maxTokens: 8192
  }
]
