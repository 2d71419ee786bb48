/**
 * The plugin entry `plugins.entries.qwen-portal-auth` in `openclaw.json`, and the warnings when
 * `plugins.allow` / `plugins.deny` would keep OpenClaw from loading it.
 *
 * @since 0.1.0
 */
import { Effect, FileSystem } from "effect"
import { PLUGIN_ID } from "./Ids.ts"
import { getIn, isRecord, type JsonObject, updateIn } from "./Json.ts"

/**
 * Whether OpenClaw has qwen-auth's plugin to load: installed under `<state>/extensions/` or a
 * folder in `plugins.load.paths` whose manifest names it.
 *
 * @since 0.1.0
 * @category queries
 */
export const isPluginInstalled = (stateDir: string, config: JsonObject): Effect.Effect<boolean, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const paths = getIn(config, ["plugins", "load", "paths"])
    const folders = [`${stateDir}/extensions/${PLUGIN_ID}`, ...(Array.isArray(paths) ? paths.filter((p) => typeof p === "string") : [])]
    for (const folder of folders) {
      const manifest = yield* fs.readFileString(`${folder}/openclaw.plugin.json`).pipe(Effect.option)
      if (manifest._tag === "Some" && manifest.value.includes(`"${PLUGIN_ID}"`)) return true
    }
    return false
  })

/**
 * Enables our plugin entry (keeping its other keys) and warns about an allow list without it or
 * a deny list with it.
 *
 * @since 0.1.0
 * @category merge
 */
export const mergePluginEntry = (
  config: JsonObject
): { readonly config: JsonObject; readonly warnings: ReadonlyArray<string> } => {
  const warnings: Array<string> = []
  const next = updateIn(config, ["plugins", "entries", PLUGIN_ID], (e) => ({ ...(isRecord(e) ? e : {}), enabled: true }))
  const allow = getIn(next, ["plugins", "allow"])
  if (Array.isArray(allow) && !allow.includes(PLUGIN_ID)) {
    warnings.push(`plugins.allow does not list ${PLUGIN_ID}; add it there or OpenClaw will not load the plugin.`)
  }
  const deny = getIn(next, ["plugins", "deny"])
  if (Array.isArray(deny) && deny.includes(PLUGIN_ID)) {
    warnings.push(`plugins.deny lists ${PLUGIN_ID}; remove it there or OpenClaw will not load the plugin.`)
  }
  return { config: next, warnings }
}
