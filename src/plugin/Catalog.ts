/**
 * `catalog.run(ctx)`: the provider entry OpenClaw lists when Qwen is usable — an env key, an
 * explicit `apiKey`, or a stored `qwen-portal` profile — else `null` (openclaw-plugin.md).
 *
 * @since 0.1.0
 */
import { Effect, type FileSystem } from "effect"
import type { Settings } from "../Config.ts"
import { toBaseUrl } from "../domain/ApiBaseUrl.ts"
import { API_KEY_MARKER, PROVIDER_ID, qwenModels } from "../store/openclaw/Ids.ts"
import { isRecord } from "../store/openclaw/Json.ts"
import { hasStoredLogin } from "../store/StoredLogin.ts"
import type { ProviderCatalogContext, ProviderCatalogResult } from "./types.ts"

const nonEmpty = (u: unknown): string | undefined => (typeof u === "string" && u.trim() !== "" ? u.trim() : undefined)

/** `config.models.providers["qwen-portal"]`, when it is an object. */
export const explicitProvider = (config: unknown): { readonly [key: string]: unknown } | undefined => {
  const models = isRecord(config) ? config.models : undefined
  const providers = isRecord(models) ? models.providers : undefined
  const provider = isRecord(providers) ? providers[PROVIDER_ID] : undefined
  return isRecord(provider) ? provider : undefined
}

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
      if (yield* hasStoredLogin(settings, agentDir)) apiKey = API_KEY_MARKER
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
