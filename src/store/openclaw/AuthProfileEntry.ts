/**
 * The auth profile `auth.profiles["qwen-portal:default"]` in `openclaw.json`: it tells OpenClaw
 * the provider logs in by OAuth (the token itself lives in the agents' auth-profiles files).
 *
 * @since 0.1.0
 */
import { PROFILE_ID, PROVIDER_ID } from "./Ids.ts"
import { isRecord, type JsonObject, updateIn } from "./Json.ts"

/**
 * Sets our profile's `provider` and `mode`, keeping its other keys and every other profile.
 *
 * @since 0.1.0
 * @category merge
 */
export const mergeAuthProfileEntry = (config: JsonObject): JsonObject =>
  updateIn(config, ["auth", "profiles", PROFILE_ID], (e) => ({
    ...(isRecord(e) ? e : {}),
    provider: PROVIDER_ID,
    mode: "oauth"
  }))
