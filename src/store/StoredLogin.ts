/**
 * Whether a Qwen login is stored anywhere OpenClaw would find one: any `qwen-portal` profile in
 * `<agent>/auth-profiles.json`, or a valid Qwen Code file (OpenClaw imports it as
 * `qwen-portal:qwen-cli` whenever it loads its store, files.md). For the plugin's catalog.
 *
 * @since 0.1.0
 */
import { Effect, type FileSystem } from "effect"
import { pathsOf, type Settings } from "../Config.ts"
import * as CredentialFile from "./CredentialFile.ts"
import { isRecord } from "./openclaw/Json.ts"
import * as OpenClawProfiles from "./OpenClawProfiles.ts"
import * as QwenCodeFile from "./QwenCodeFile.ts"

/** Does `auth-profiles.json` hold any profile of the provider? A broken file counts as none. */
const hasOpenClawProfile = (authProfiles: string) =>
  Effect.map(CredentialFile.read(OpenClawProfiles.codec, authProfiles), (read) => {
    if (read._tag !== "Ok") return false
    const profiles = read.value.raw["profiles"]
    return isRecord(profiles) &&
      Object.values(profiles).some((p) => isRecord(p) && p["provider"] === OpenClawProfiles.PROVIDER_ID)
  })

/**
 * @since 0.1.0
 * @category queries
 */
export const hasStoredLogin = (settings: Settings, agentDir: string): Effect.Effect<boolean, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    if (yield* hasOpenClawProfile(`${agentDir}/auth-profiles.json`)) return true
    if (!settings.qwenCodeSync) return false
    return (yield* CredentialFile.read(QwenCodeFile.codec, pathsOf(settings).qwenCreds))._tag === "Ok"
  })
