/**
 * The auth profile `auth.profiles["qwen-portal:default"]` in `openclaw.json`: it tells OpenClaw
 * the provider logs in by OAuth (the token itself lives in the agents' auth-profiles files).
 *
 * @since 0.1.0
 */
import { PROFILE_ID, PROVIDER_ID } from "./Ids.ts"
import { getIn, isRecord, type JsonObject, updateIn } from "./Json.ts"

/**
 * Sets our profile's `provider` and `mode`, keeping its other keys and every other profile. A
 * user's own profile under our id with another mode (e.g. `api_key`) is kept as it is, with a
 * warning: it is theirs, not an OAuth login (issue 13).
 *
 * @since 0.1.0
 * @category merge
 */
export const mergeAuthProfileEntry = (config: JsonObject): { readonly config: JsonObject; readonly warnings: ReadonlyArray<string> } => {
  const mode = getIn(config, ["auth", "profiles", PROFILE_ID, "mode"])
  if (typeof mode === "string" && mode !== "oauth") {
    return {
      config,
      warnings: [`auth.profiles.${PROFILE_ID} is your own "${mode}" profile; it was left as it is, so OpenClaw keeps using it rather than the Qwen login.`]
    }
  }
  return {
    config: updateIn(config, ["auth", "profiles", PROFILE_ID], (e) => ({
      ...(isRecord(e) ? e : {}),
      provider: PROVIDER_ID,
      mode: "oauth"
    })),
    warnings: []
  }
}
