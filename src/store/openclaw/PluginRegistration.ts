/**
 * The `openclaw.json` edits of `qwen-auth setup-openclaw` (its issue), as pure merges that say
 * what they changed and return a record of it, so `--remove` undoes exactly that:
 *
 * - 2026.3.24 and earlier: qwen-auth's plugin folder in `plugins.load.paths` (origin `config`,
 *   which wins over the bundled plugin) and `plugins.entries.qwen-portal-auth.enabled`;
 * - later releases: `openclaw plugins install` edits the config itself and `plugins uninstall`
 *   removes more than it added (the entry, the id in `plugins.allow`/`plugins.deny`), so what
 *   was there before is kept here and put back after an uninstall.
 *
 * Either way a non-empty `plugins.allow` gets the id appended and an absent one stays absent:
 * the allow list is an allowlist, so creating it would disable every other plugin (hosts.md).
 *
 * @since 0.1.0
 */
import { resolve } from "node:path"
import { PLUGIN_ID } from "./Ids.ts"
import { getIn, isRecord, type JsonObject, jsonEqual, updateIn } from "./Json.ts"

/** A value that was there or not. @since 0.1.0 @category models */
export type Previous = { readonly present: false } | { readonly present: true; readonly value: unknown }

/** What `addLoadPath` added, to be undone by `removeLoadPath`. @since 0.1.0 @category models */
export interface LoadPathAdded {
  readonly loadPath: boolean
  /** The entry before we enabled it; absent when we left it alone. */
  readonly entry?: Previous
  readonly allow: boolean
  /** Containers that did not exist before (`plugins`, `plugins.load`, …), removed again when empty. */
  readonly created: ReadonlyArray<string>
}

/** A merge's outcome: the next config and one line per change, for people. @since 0.1.0 @category models */
export interface Edit<A> {
  readonly next: JsonObject
  readonly changes: ReadonlyArray<string>
  readonly record: A
}

const ENTRY = ["plugins", "entries", PLUGIN_ID] as const
const samePath = (a: unknown, folder: string) => typeof a === "string" && (a === folder || resolve(a) === resolve(folder))
const previous = (config: JsonObject, path: ReadonlyArray<string>): Previous => {
  const parent = getIn(config, path.slice(0, -1))
  const key = path[path.length - 1]!
  return isRecord(parent) && key in parent ? { present: true, value: parent[key] } : { present: false }
}

/** Deletes `path`'s last key (copy-on-write); a missing parent is left alone. */
const deleteIn = (o: JsonObject, path: ReadonlyArray<string>): JsonObject => {
  const [head, ...rest] = path
  if (head === undefined || !(head in o)) return o
  if (rest.length === 0) {
    const { [head]: _removed, ...others } = o
    return others
  }
  const child = o[head]
  return isRecord(child) ? { ...o, [head]: deleteIn(child, rest) } : o
}

/** Appends the id to a non-empty allow list that lacks it. */
const appendToAllow = (config: JsonObject): { next: JsonObject; appended: boolean } => {
  const allow = getIn(config, ["plugins", "allow"])
  if (!Array.isArray(allow) || allow.length === 0 || allow.includes(PLUGIN_ID)) return { next: config, appended: false }
  return { next: updateIn(config, ["plugins", "allow"], () => [...allow, PLUGIN_ID]), appended: true }
}

/**
 * Problems in `plugins` that keep OpenClaw from loading the plugin whatever setup does.
 *
 * @since 0.1.0
 * @category checks
 */
export const blockers = (config: JsonObject): ReadonlyArray<string> => {
  const out: Array<string> = []
  if (getIn(config, ["plugins", "enabled"]) === false) out.push("plugins.enabled is false: OpenClaw loads no plugins at all.")
  const deny = getIn(config, ["plugins", "deny"])
  if (Array.isArray(deny) && deny.includes(PLUGIN_ID)) out.push(`plugins.deny lists ${PLUGIN_ID}: remove it there.`)
  return out
}

/**
 * 2026.3.24 and earlier: adds `folder` to `plugins.load.paths`, enables the plugin's entry and
 * appends the id to a non-empty allow list. Already there is not a change.
 *
 * @since 0.1.0
 * @category merge
 */
export const addLoadPath = (config: JsonObject, folder: string): Edit<LoadPathAdded> => {
  const changes: Array<string> = []
  const created = ["plugins", "plugins.load", "plugins.load.paths", "plugins.entries"].filter((dotted) =>
    !previous(config, dotted.split(".")).present
  )
  let next = config
  const paths = getIn(config, ["plugins", "load", "paths"])
  const loadPath = !(Array.isArray(paths) && paths.some((p) => samePath(p, folder)))
  if (loadPath) {
    next = updateIn(next, ["plugins", "load", "paths"], () => [...(Array.isArray(paths) ? paths : []), folder])
    changes.push(`plugins.load.paths += ${folder}`)
  }
  const entryBefore = previous(config, ENTRY)
  const entryValue = entryBefore.present ? entryBefore.value : undefined
  const enableEntry = !(isRecord(entryValue) && entryValue.enabled === true)
  if (enableEntry) {
    next = updateIn(next, [...ENTRY], (e) => ({ ...(isRecord(e) ? e : {}), enabled: true }))
    changes.push(`plugins.entries.${PLUGIN_ID}.enabled = true`)
  }
  const allow = appendToAllow(next)
  next = allow.next
  if (allow.appended) changes.push(`plugins.allow += ${PLUGIN_ID}`)
  return {
    next,
    changes,
    record: {
      loadPath,
      ...(enableEntry ? { entry: entryBefore } : {}),
      allow: allow.appended,
      created: changes.length === 0 ? [] : created.filter((c) => getIn(next, c.split(".")) !== undefined)
    }
  }
}

/**
 * Undoes `addLoadPath`: removes `folder` from `plugins.load.paths`, puts the entry back as it was
 * (or removes it), removes the id from the allow list, and removes containers it created that
 * are now empty. Whatever the user changed since is kept.
 *
 * @since 0.1.0
 * @category merge
 */
export const removeLoadPath = (config: JsonObject, folder: string, added: LoadPathAdded): Edit<void> => {
  const changes: Array<string> = []
  let next = config
  const paths = getIn(next, ["plugins", "load", "paths"])
  if (added.loadPath && Array.isArray(paths) && paths.some((p) => samePath(p, folder))) {
    next = updateIn(next, ["plugins", "load", "paths"], () => paths.filter((p) => !samePath(p, folder)))
    changes.push(`plugins.load.paths -= ${folder}`)
  }
  if (added.entry !== undefined) {
    const now = previous(next, ENTRY)
    if (added.entry.present) {
      if (!now.present || !jsonEqual(now.value, added.entry.value)) {
        const value = added.entry.value
        next = updateIn(next, [...ENTRY], () => value)
        changes.push(`plugins.entries.${PLUGIN_ID} restored`)
      }
    } else if (now.present) {
      next = deleteIn(next, ENTRY)
      changes.push(`plugins.entries.${PLUGIN_ID} removed`)
    }
  }
  const allow = getIn(next, ["plugins", "allow"])
  if (added.allow && Array.isArray(allow) && allow.includes(PLUGIN_ID)) {
    next = updateIn(next, ["plugins", "allow"], () => allow.filter((id) => id !== PLUGIN_ID))
    changes.push(`plugins.allow -= ${PLUGIN_ID}`)
  }
  // Deepest first, so `plugins` goes only once what we created inside it is gone.
  for (const dotted of [...added.created].sort((a, b) => b.split(".").length - a.split(".").length)) {
    const path = dotted.split(".")
    const value = getIn(next, path)
    const empty = (Array.isArray(value) && value.length === 0) || (isRecord(value) && Object.keys(value).length === 0)
    if (empty) next = deleteIn(next, path)
  }
  return { next, changes, record: undefined }
}

/** What `plugins uninstall` would remove that was there before the install. @since 0.1.0 @category models */
export interface BeforeInstall {
  readonly entry: Previous
  readonly allowHad: boolean
  readonly denyHad: boolean
}

/**
 * Later releases: notes what `openclaw plugins uninstall` would remove that the install did not
 * add (the entry as it was, the id in the allow and deny lists).
 *
 * @since 0.1.0
 * @category merge
 */
export const beforeInstall = (config: JsonObject): BeforeInstall => {
  const has = (key: string) => {
    const list = getIn(config, ["plugins", key])
    return Array.isArray(list) && list.includes(PLUGIN_ID)
  }
  return { entry: previous(config, ENTRY), allowHad: has("allow"), denyHad: has("deny") }
}

/**
 * After `openclaw plugins uninstall`: puts back what `beforeInstall` noted, and removes an
 * entry that was not there before.
 *
 * @since 0.1.0
 * @category merge
 */
export const restoreAfterUninstall = (config: JsonObject, before: BeforeInstall): Edit<void> => {
  const changes: Array<string> = []
  let next = config
  const now = previous(next, ENTRY)
  if (before.entry.present && (!now.present || !jsonEqual(now.value, before.entry.value))) {
    const value = before.entry.value
    next = updateIn(next, [...ENTRY], () => value)
    changes.push(`plugins.entries.${PLUGIN_ID} restored`)
  } else if (!before.entry.present && now.present) {
    // 2026.9.6's uninstall of a folder installed in place keeps the files and leaves
    // `{ enabled: false }` so they do not load; setup removes the files, so the entry goes too.
    next = deleteIn(next, ENTRY)
    changes.push(`plugins.entries.${PLUGIN_ID} removed`)
  }
  for (const [key, had] of [["allow", before.allowHad], ["deny", before.denyHad]] as const) {
    const list = getIn(next, ["plugins", key])
    if (had && !(Array.isArray(list) && list.includes(PLUGIN_ID))) {
      next = updateIn(next, ["plugins", key], () => [...(Array.isArray(list) ? list : []), PLUGIN_ID])
      changes.push(`plugins.${key} += ${PLUGIN_ID} (restored)`)
    }
  }
  return { next, changes, record: undefined }
}
