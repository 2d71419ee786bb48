/**
 * OpenClaw's `$include` directive, read as OpenClaw 2026.3.24 reads it (`IncludeProcessor` in its
 * `config/includes`): a string or a list of paths, relative to the including file, that must stay
 * inside the config's folder; nested at most 10 deep, never circular. An object with `$include`
 * is the included content deep-merged with its other keys (objects merge, arrays concatenate,
 * the object's own values win).
 *
 * qwen-auth never writes such a config (the entries may belong in any of its files): it reads the
 * whole of it to see whether a login would change anything and, when it would, which file
 * OpenClaw reads each entry from, so the user can add them there.
 *
 * @since 0.1.0
 */
import { Effect, type FileSystem, Option } from "effect"
import { dirname, isAbsolute, normalize, relative, resolve } from "node:path"
import { ConfigProblem, type FileAccessError, type MalformedFile } from "../../domain/Errors.ts"
import { readFileIfExists } from "../AtomicWrite.ts"
import { parseJson5Value } from "./ConfigFile.ts"
import { isRecord, type JsonObject } from "./Json.ts"

const INCLUDE_KEY = "$include"
const MAX_DEPTH = 10
const BLOCKED_KEYS = new Set(["__proto__", "prototype", "constructor"])

/** A config with its includes resolved. @since 0.1.0 @category models */
export interface Resolved {
  readonly configPath: string
  /** The config as OpenClaw reads it. */
  readonly value: JsonObject
  /** Every file read, as parsed (the config's own includes unresolved). */
  readonly files: ReadonlyMap<string, unknown>
}

/** Where OpenClaw reads one entry from: a file and the place in it. @since 0.1.0 @category models */
export interface Location {
  readonly file: string
  readonly at: ReadonlyArray<string>
}

const hasOwn = (o: JsonObject, key: string) => Object.prototype.hasOwnProperty.call(o, key)

/** OpenClaw's merge of an include with its siblings. */
const deepMerge = (target: unknown, source: unknown): unknown => {
  if (Array.isArray(target) && Array.isArray(source)) return [...target, ...source]
  if (isRecord(target) && isRecord(source)) {
    const result: Record<string, unknown> = { ...target }
    for (const key of Object.keys(source)) {
      if (BLOCKED_KEYS.has(key)) continue
      result[key] = hasOwn(result, key) ? deepMerge(result[key], source[key]) : source[key]
    }
    return result
  }
  return source
}

const includePaths = (value: unknown): ReadonlyArray<unknown> | undefined =>
  typeof value === "string" ? [value] : Array.isArray(value) ? value : undefined

const problem = (configPath: string, text: string) => new ConfigProblem({ path: configPath, problem: text })

/**
 * Reads every file `root` (the parsed `configPath`) includes and returns the config OpenClaw
 * would read. A missing, unparsable, escaping, circular or too deep include fails, naming it.
 *
 * @since 0.1.0
 * @category reading
 */
export const resolveIncludes = Effect.fnUntraced(function*(
  configPath: string,
  root: JsonObject
): Effect.fn.Return<Resolved, ConfigProblem | MalformedFile | FileAccessError, FileSystem.FileSystem> {
  const rootDir = dirname(configPath)
  const files = new Map<string, unknown>([[configPath, root]])

  const load = Effect.fnUntraced(function*(
    from: string,
    includePath: unknown,
    visited: ReadonlySet<string>,
    depth: number
  ): Effect.fn.Return<unknown, ConfigProblem | MalformedFile | FileAccessError, FileSystem.FileSystem> {
    if (typeof includePath !== "string") {
      return yield* problem(configPath, `has an $include entry that is not a path (in ${from})`)
    }
    const target = normalize(isAbsolute(includePath) ? includePath : resolve(dirname(from), includePath))
    const inside = relative(rootDir, target)
    if (inside.startsWith("..") || isAbsolute(inside)) {
      return yield* problem(configPath, `includes ${includePath}, outside its folder ${rootDir} (OpenClaw refuses that too)`)
    }
    if (visited.has(target)) return yield* problem(configPath, `includes ${target} in a circle`)
    if (depth >= MAX_DEPTH) return yield* problem(configPath, `nests includes more than ${MAX_DEPTH} deep (at ${target})`)
    const read = yield* readFileIfExists(target)
    if (Option.isNone(read)) return yield* problem(configPath, `includes ${target}, which does not exist`)
    const parsed = yield* Effect.fromResult(parseJson5Value(target, read.value.text))
    files.set(target, parsed)
    return yield* process(target, parsed, new Set([...visited, target]), depth + 1)
  })

  const process = (
    file: string,
    value: unknown,
    visited: ReadonlySet<string>,
    depth: number
  ): Effect.Effect<unknown, ConfigProblem | MalformedFile | FileAccessError, FileSystem.FileSystem> =>
    Effect.gen(function*() {
      if (Array.isArray(value)) return yield* Effect.forEach(value, (v) => process(file, v, visited, depth))
      if (!isRecord(value)) return value
      const others: Record<string, unknown> = {}
      for (const [key, v] of Object.entries(value)) {
        if (key !== INCLUDE_KEY) others[key] = yield* process(file, v, visited, depth)
      }
      if (!hasOwn(value, INCLUDE_KEY)) return others
      const paths = includePaths(value[INCLUDE_KEY])
      if (paths === undefined) return yield* problem(configPath, `has an $include that is neither a path nor a list of paths (in ${file})`)
      let included: unknown = typeof value[INCLUDE_KEY] === "string" ? undefined : {}
      for (const p of paths) {
        const loaded = yield* load(file, p, visited, depth)
        included = included === undefined ? loaded : deepMerge(included, loaded)
      }
      if (Object.keys(others).length === 0) return included
      if (!isRecord(included)) {
        return yield* problem(configPath, `includes something other than an object next to other keys (in ${file})`)
      }
      return deepMerge(included, others)
    })

  const value = yield* process(configPath, root, new Set([configPath]), 0)
  if (!isRecord(value)) return yield* problem(configPath, "includes something other than an object at the top level")
  return { configPath, value, files }
})

/**
 * The file OpenClaw reads the entry at `path` from, and the place in it: the file holding its
 * nearest existing parent (following `$include` where the parent is not written out), the
 * config itself when no parent exists.
 *
 * @since 0.1.0
 * @category locating
 */
export const locate = (resolved: Resolved, path: ReadonlyArray<string>): Location => {
  /** Where `key` is set in `obj` (of `file`, at `at`), following includes (the last one wins). */
  const find = (file: string, obj: unknown, at: ReadonlyArray<string>, key: string): { file: string; obj: JsonObject; at: ReadonlyArray<string> } | undefined => {
    if (!isRecord(obj)) return undefined
    if (key !== INCLUDE_KEY && hasOwn(obj, key)) return { file, obj, at }
    for (const p of [...(includePaths(obj[INCLUDE_KEY]) ?? [])].reverse()) {
      if (typeof p !== "string") continue
      const target = normalize(isAbsolute(p) ? p : resolve(dirname(file), p))
      const found = find(target, resolved.files.get(target), [], key)
      if (found !== undefined) return found
    }
    return undefined
  }
  let here: Location = { file: resolved.configPath, at: [] }
  let obj: unknown = resolved.files.get(resolved.configPath)
  for (const [i, key] of path.entries()) {
    const found = find(here.file, obj, here.at, key)
    if (found === undefined) return { file: here.file, at: [...here.at, ...path.slice(i)] }
    const child = found.obj[key]
    if (i === path.length - 1 || !isRecord(child)) return { file: found.file, at: [...found.at, ...path.slice(i)] }
    here = { file: found.file, at: [...found.at, key] }
    obj = child
  }
  return here
}
