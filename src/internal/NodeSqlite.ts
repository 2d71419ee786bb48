/**
 * `node:sqlite`, loaded on demand (only where OpenClaw keeps a SQLite store) with its one
 * ExperimentalWarning silenced: a read-only peek at OpenClaw's database must not print a
 * warning into `status` output. Every other warning still goes through.
 */
import type * as Sqlite from "node:sqlite"

let loaded: Promise<typeof Sqlite> | undefined

const isSqliteWarning = (warning: unknown, rest: ReadonlyArray<unknown>): boolean => {
  const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: unknown } | undefined)?.type
  const text = warning instanceof Error ? warning.message : String(warning)
  const name = warning instanceof Error ? warning.name : type
  return name === "ExperimentalWarning" && /sqlite/i.test(text)
}

/** The `node:sqlite` module (imported once). */
export const load = (): Promise<typeof Sqlite> => {
  if (loaded === undefined) {
    const original = process.emitWarning
    process.emitWarning = function(this: NodeJS.Process, warning: string | Error, ...rest: Array<unknown>) {
      if (isSqliteWarning(warning, rest)) return
      return (original as (...args: Array<unknown>) => void).call(this, warning, ...rest)
    } as typeof process.emitWarning
    loaded = import("node:sqlite").finally(() => {
      process.emitWarning = original
    })
  }
  return loaded
}
