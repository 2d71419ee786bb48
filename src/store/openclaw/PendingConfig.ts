/**
 * Config entries qwen-auth did not write itself and leaves to the user: those of a config using
 * `$include` (which file an entry belongs in is the user's call), or of a config it could not
 * edit in place. Each says where OpenClaw would read it from.
 *
 * @since 0.1.0
 */
import { differences } from "./Json5Edit.ts"
import type { JsonObject } from "./Json.ts"
import { type Location, locate, type Resolved } from "./Includes.ts"

/**
 * One entry to add (or, with `remove`, to take out).
 *
 * @since 0.1.0
 * @category models
 */
export interface PendingEntry {
  /** The place in the config, dotted as `openclaw config set` takes it. */
  readonly path: string
  readonly value?: unknown
  readonly remove?: true
  /** The file OpenClaw reads that place from. */
  readonly file: string
  /** The place in that file (dotted; empty for its top level). */
  readonly at: string
}

/** A config path, dotted; a key OpenClaw's path syntax would split goes in brackets. */
export const formatPath = (path: ReadonlyArray<string | number>): string =>
  path.map((k) => /[.[\]\s]/.test(String(k)) ? `[${k}]` : `.${k}`).join("").replace(/^\./, "")

/**
 * The entries that turn `resolved` (the config as OpenClaw reads it) into `next`, each with the
 * file OpenClaw reads it from. Arrays are given whole.
 *
 * @since 0.1.0
 * @category models
 */
export const pendingEntries = (resolved: Resolved, next: JsonObject): ReadonlyArray<PendingEntry> =>
  differences(resolved.value, next, { wholeArrays: true }).map((d) => {
    const path = d.path.map(String)
    const where: Location = locate(resolved, path)
    const common = { path: formatPath(path), file: where.file, at: formatPath(where.at) }
    return d._tag === "Remove" ? { ...common, remove: true as const } : { ...common, value: d._tag === "Set" ? d.value : d.values }
  })

/**
 * The text of entries left to the user: `lead` (why, and what to do), then each entry under the
 * file it goes in. A login prints it as a warning; `models set` and `setup-openclaw` fail with it.
 *
 * @since 0.1.0
 * @category rendering
 */
export const describePending = (lead: string, entries: ReadonlyArray<PendingEntry>): string => {
  const lines = [lead]
  for (const e of entries) {
    const place = e.at === "" ? "the top level" : e.at
    lines.push(e.remove === true ? `  in ${e.file}, remove ${place}` : `  in ${e.file}, at ${place}:`)
    if (e.remove !== true) lines.push(...JSON.stringify(e.value, null, 2).split("\n").map((l) => `    ${l}`))
  }
  return lines.join("\n")
}
