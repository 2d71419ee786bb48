/**
 * The names of the flags every command shares (cli-contract.md "Configuration"). Plain constants:
 * `Root.ts` builds the effect/cli flags from them, and the `status` fast path reads arguments with
 * them before any other module loads.
 */

/** Shared flags that take a string value, by field. */
export const STRING_FLAGS = {
  oauthBaseUrl: "oauth-base-url",
  clientId: "client-id",
  scope: "scope",
  qwenHome: "qwen-home",
  openclawStateDir: "openclaw-state-dir",
  openclawConfig: "openclaw-config",
  openclawAgentDir: "openclaw-agent-dir"
} as const

export const REFRESH_MARGIN_FLAG = "refresh-margin"
export const QWEN_CODE_SYNC_FLAG = "qwen-code-sync"
export const VERBOSE_FLAG = "verbose"
