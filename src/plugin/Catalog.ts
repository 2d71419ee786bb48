/**
 * `catalog.run(ctx)`: the provider entry OpenClaw lists when Qwen is usable — an env key, an
 * explicit `apiKey`, or a stored `qwen-portal` profile — else `null` (openclaw-plugin.md).
 *
 * @since 0.1.0
 */
import { Effect, type FileSystem, Option } from "effect"
import { pathsOf, type Settings } from "../Config.ts"
import { readFileIfExists } from "../store/AtomicWrite.ts"
import { API_KEY_MARKER, isRecord, PROVIDER_ID, qwenModels } from "../store/ConfigMerge.ts"
import * as QwenCodeFile from "../store/QwenCodeFile.ts"
import { toBaseUrl } from "../oauth/ResourceUrl.ts"
import type { ProviderCatalogContext, ProviderCatalogResult } from "./types.ts"

const nonEmpty = (u: unknown): string | undefined => (typeof u === "string" && u.trim() !== "" ? u.trim() : undefined)

/** `config.models.providers["qwen-portal"]`, when it is an object. */
export const explicitProvider = (config: unknown): { readonly [key: string]: unknown } | undefined => {
  const models = isRecord(config) ? config.models : undefined
  const providers = isRecord(models) ? models.providers : undefined
  const provider = isRecord(providers) ? providers[PROVIDER_ID] : undefined
  return isRecord(provider) ? provider : undefined
}

/** Does `auth-profiles.json` hold any profile of the provider? A broken file counts as none. */
const hasOpenClawProfile = (authProfiles: string) =>
  readFileIfExists(authProfiles, { credential: true }).pipe(
    Effect.map(Option.match({
      onNone: () => false,
      onSome: (file) => {
        try {
          const json: unknown = JSON.parse(file.text)
          const profiles = isRecord(json) ? json.profiles : undefined
          return isRecord(profiles) &&
            Object.values(profiles).some((p) => isRecord(p) && p.provider === PROVIDER_ID)
        } catch {
          return false
        }
      }
    })),
    Effect.orElseSucceed(() => false)
  )

/**
 * A valid Qwen Code file counts too: OpenClaw imports it as a `qwen-portal:qwen-cli` profile
 * whenever it loads its store (files.md).
 */
const hasQwenCodeLogin = (settings: Settings) =>
  settings.qwenCodeSync
    ? QwenCodeFile.read(pathsOf(settings).qwenCreds).pipe(Effect.map(Option.isSome), Effect.orElseSucceed(() => false))
    : Effect.succeed(false)

/**
 * The catalog entry: `apiKey` = env key ?? explicit `apiKey` ?? the `qwen-oauth` marker (when a
 * profile is stored); `baseUrl` = the explicit one normalized (protocol.md §5), else the default.
 *
 * @since 0.1.0
 * @category catalog
 */
export const catalog = (
  settings: Settings,
  ctx: ProviderCatalogContext
): Effect.Effect<ProviderCatalogResult | null, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const explicit = explicitProvider(ctx.config)
    const envKey = nonEmpty(ctx.resolveProviderApiKey(PROVIDER_ID)?.apiKey)
    const explicitKey = nonEmpty(explicit?.apiKey)
    let apiKey = envKey ?? explicitKey
    if (apiKey === undefined) {
      const agentDir = nonEmpty(ctx.agentDir) ?? settings.openclawAgentDir
      const stored = (yield* hasOpenClawProfile(`${agentDir}/auth-profiles.json`)) ||
        (yield* hasQwenCodeLogin(settings))
      if (stored) apiKey = API_KEY_MARKER
    }
    if (apiKey === undefined) return null
    return {
      provider: {
        baseUrl: toBaseUrl(nonEmpty(explicit?.baseUrl)),
        api: "openai-completions",
        apiKey,
        models: qwenModels()
      }
    }
  })
