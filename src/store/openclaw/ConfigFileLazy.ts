/**
 * Reading `openclaw.json` without loading the JSON5 parser when the file is plain JSON (what
 * OpenClaw and qwen-auth write). For read-only commands: `status` start-up is a benchmarked
 * target (docs/benchmarks.md), and json5 with its Unicode tables costs ~2 ms to load. So this
 * module must not import `ConfigFile.ts` statically.
 *
 * @since 0.1.0
 */
import { Effect, type FileSystem, Option } from "effect"
import type { FileAccessError, MalformedFile } from "../../domain/Errors.ts"
import { readFileIfExists } from "../AtomicWrite.ts"
import { isRecord, type JsonObject } from "./Json.ts"

/**
 * Same result as `ConfigFile.readConfig` (`{}` when the file does not exist): text that
 * `JSON.parse` reads as an object is JSON5 with the same value; anything else (JSON5 syntax, an
 * empty file, a non-object, a syntax error) goes to `ConfigFile.parseJson5`, loaded then, so
 * results and messages stay exactly its own.
 *
 * @since 0.1.0
 * @category reading
 */
export const readConfigLazy = (
  path: string
): Effect.Effect<JsonObject, MalformedFile | FileAccessError, FileSystem.FileSystem> =>
  Effect.flatMap(readFileIfExists(path), (read) => {
    if (Option.isNone(read)) return Effect.succeed({})
    const text = read.value.text
    const plain = parsePlainJson(text)
    if (plain !== undefined) return Effect.succeed(plain)
    return Effect.flatMap(
      Effect.promise(() => import("./ConfigFile.ts")),
      (m) => Effect.fromResult(m.parseJson5(path, text))
    )
  })

/** The object plain JSON text holds, or undefined when it is not one (let JSON5 decide). */
const parsePlainJson = (text: string): JsonObject | undefined => {
  try {
    const value: unknown = JSON.parse(text)
    return isRecord(value) ? value : undefined
  } catch {
    return undefined
  }
}
