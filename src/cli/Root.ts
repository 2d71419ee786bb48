/**
 * The root command and the flags every command shares (cli-contract.md "Configuration"):
 * flag > environment > default. Subcommands read them with `yield* Root`.
 */
import { Command, Flag } from "effect/cli"
import { QWEN_CODE_SYNC_FLAG, REFRESH_MARGIN_FLAG, type SharedFlags, STRING_FLAGS, VERBOSE_FLAG } from "./SharedFlags.ts"

export { commandConfigLayer, overridesFromFlags, type SharedFlags } from "./SharedFlags.ts"

const optionalString = (name: string, description: string) =>
  Flag.String(name).pipe(Flag.withDescription(description), Flag.optional)

export const sharedFlags = {
  oauthBaseUrl: optionalString(STRING_FLAGS.oauthBaseUrl, "OAuth server origin (env QWEN_OAUTH_BASE_URL; default https://chat.qwen.ai)"),
  clientId: optionalString(STRING_FLAGS.clientId, "OAuth client id (env QWEN_OAUTH_CLIENT_ID)"),
  scope: optionalString(STRING_FLAGS.scope, "OAuth scope (env QWEN_OAUTH_SCOPE)"),
  refreshMargin: Flag.Finite(REFRESH_MARGIN_FLAG).pipe(
    Flag.filter((s) => s >= 0, () => "a number of seconds ≥ 0"),
    Flag.withDescription("Seconds before expiry to refresh (env QWEN_AUTH_REFRESH_MARGIN; default 300)"),
    Flag.optional
  ),
  qwenHome: optionalString(STRING_FLAGS.qwenHome, "Qwen Code folder (env QWEN_HOME; default ~/.qwen)"),
  openclawStateDir: optionalString(STRING_FLAGS.openclawStateDir, "OpenClaw state folder (env OPENCLAW_STATE_DIR; default ~/.openclaw)"),
  openclawConfig: optionalString(STRING_FLAGS.openclawConfig, "OpenClaw config file (env OPENCLAW_CONFIG_PATH)"),
  openclawAgentDir: optionalString(STRING_FLAGS.openclawAgentDir, "OpenClaw agent folder (env OPENCLAW_AGENT_DIR)"),
  qwenCodeSync: Flag.Boolean(QWEN_CODE_SYNC_FLAG).pipe(
    Flag.withDescription("Keep ~/.qwen/oauth_creds.json in sync (--no-qwen-code-sync or QWEN_AUTH_QWEN_CODE_SYNC=0 turns it off)"),
    Flag.optional
  ),
  verbose: Flag.Boolean(VERBOSE_FLAG).pipe(
    Flag.withDescription("Debug logging on stderr (env QWEN_AUTH_LOG_LEVEL)"),
    Flag.withDefault(false)
  )
}

// The effect/cli flags must parse into exactly the shape the effect/cli-free code expects.
const _sameShape: SharedFlags = {} as Command.Command.Config.Infer<typeof sharedFlags>
void _sameShape

export const Root = Command.make("qwen-auth").pipe(
  Command.withSharedFlags(sharedFlags),
  Command.withDescription(
    "Log in to Qwen (OAuth device code + PKCE) and keep OpenClaw and Qwen Code supplied with fresh tokens"
  )
)
