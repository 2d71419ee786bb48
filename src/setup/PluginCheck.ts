/**
 * Reading `openclaw plugins list --json` after setup: is qwen-auth's plugin the one OpenClaw
 * loads, and if not, why not (in words a user can act on).
 *
 * @since 0.1.0
 */
import { Effect, FileSystem } from "effect"
import { resolve } from "node:path"
import { PLUGIN_ID, PROVIDER_ID } from "../store/openclaw/Ids.ts"
import { type ListedPlugin, quoteOutput } from "./OpenClawCli.ts"

const realOr = (fs: FileSystem.FileSystem, path: string) => fs.realPath(path).pipe(Effect.orElseSucceed(() => resolve(path)))

/**
 * Whether `plugins list` shows our plugin loaded from `pluginDir` (and no bundled one loaded);
 * otherwise why not.
 *
 * @since 0.1.0
 * @category checks
 */
export const judgeListing = Effect.fnUntraced(function*(
  plugins: ReadonlyArray<ListedPlugin>,
  pluginDir: string
) {
  const fs = yield* FileSystem.FileSystem
  const home = yield* realOr(fs, pluginDir)
  const same = [] as Array<ListedPlugin>
  const ids = plugins.filter((p) => p.id === PLUGIN_ID)
  for (const p of ids) {
    if (p.origin !== "bundled" && p.rootDir !== undefined && (resolve(p.rootDir) === resolve(pluginDir) || (yield* realOr(fs, p.rootDir)) === home)) {
      same.push(p)
    }
  }
  const bundled = ids.find((p) => p.origin === "bundled" && p.status === "loaded")
  const loaded = same.find((p) => p.status === "loaded" && p.providerIds.includes(PROVIDER_ID))
  if (loaded !== undefined && bundled === undefined) return { loaded: true, reason: undefined } as const
  const ours = same[0]
  const describe = (p: ListedPlugin) =>
    `${p.status || "unknown status"}${p.error !== undefined ? ` (${quoteOutput(p.error, 300)})` : ""}`
  let reason: string
  if (bundled !== undefined) {
    reason = `OpenClaw's bundled ${PLUGIN_ID} is still the one loaded` + (ours === undefined ? "" : `; ${pluginDir} is ${describe(ours)}`)
  } else if (ours === undefined) {
    const other = ids.map((p) => `${p.rootDir ?? "?"} (${p.origin}, ${p.status})`)
    reason = other.length === 0
      ? `it is not listed by \`openclaw plugins list\``
      : `only another copy is listed: ${other.join("; ")}`
  } else if (ours.status === "loaded") {
    reason = `it loaded from ${pluginDir} without registering provider ${PROVIDER_ID}`
  } else {
    reason = `${pluginDir} is ${describe(ours)}`
  }
  return { loaded: false, reason } as const
})

