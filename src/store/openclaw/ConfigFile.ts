/**
 * Reading and parsing OpenClaw's `openclaw.json` (JSON5) and `<agent>/models.json`, finding
 * `$include`, and the format and hash of what qwen-auth writes to a new file (files.md "OpenClaw:
 * config openclaw.json" and "Writing any of these files"). Rewriting lives in `ConfigRewrite.ts`;
 * read-only commands use `ConfigFileLazy.ts`, which loads this module (and json5) only when needed.
 *
 * @since 0.1.0
 */
import { Effect, type FileSystem, Option, Result } from "effect"
import JSON5 from "json5"
import { createHash } from "node:crypto"
import { type FileAccessError, MalformedFile } from "../../domain/Errors.ts"
import { type FileRead, readFileIfExists } from "../AtomicWrite.ts"
import { isRecord, type JsonObject } from "./Json.ts"

/** What qwen-auth last wrote, as kept in its state file. @since 0.1.0 @category models */
export interface LastWritten {
  readonly baseUrl?: string | undefined
  readonly configSha256?: string | undefined
}

/** @since 0.1.0 @category utils */
export const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex")

/** Our format for a new file: JSON, 2-space indent, final newline. @since 0.1.0 @category utils */
export const renderJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`

// =============================================================================
// Parsing
// =============================================================================

/** A file as read: its bytes (none when missing), parsed value and hash. */
export interface Parsed {
  readonly read: Option.Option<FileRead>
  readonly value: JsonObject
  readonly sha256: string | undefined
}

/**
 * Parses JSON5 text of any value; a syntax error names the file and line/column.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseJson5Value = (path: string, text: string): Result.Result<unknown, MalformedFile> => {
  try {
    return Result.succeed(JSON5.parse(text))
  } catch (e) {
    const err = e as { message?: unknown; lineNumber?: unknown; columnNumber?: unknown }
    const where = typeof err.lineNumber === "number" && typeof err.columnNumber === "number"
      ? `line ${err.lineNumber}, column ${err.columnNumber}: `
      : ""
    const detail = typeof err.message === "string" ? err.message.replace(/^JSON5: /, "").replace(/ at \d+:\d+$/, "") : "unparsable"
    return Result.fail(new MalformedFile({ path, problem: `not valid JSON5 (${where}${detail})` }))
  }
}

/**
 * Parses JSON5 text; a syntax error names the file and line/column, a non-object root is refused.
 * An empty (whitespace-only) file counts as `{}`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseJson5 = (path: string, text: string): Result.Result<JsonObject, MalformedFile> => {
  if (text.trim() === "") return Result.succeed({})
  return Result.flatMap(parseJson5Value(path, text), (value) =>
    isRecord(value)
      ? Result.succeed(value)
      : Result.fail(new MalformedFile({ path, problem: "expected a JSON object at the top level" })))
}

/** The dotted path of the first `$include` key, if any. @since 0.1.0 @category parsing */
export const findInclude = (value: unknown, at: string = ""): string | undefined => {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = findInclude(v, `${at}[${i}]`)
      if (found !== undefined) return found
    }
  } else if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) {
      const here = at === "" ? k : `${at}.${k}`
      if (k === "$include") return here
      const found = findInclude(v, here)
      if (found !== undefined) return found
    }
  }
  return undefined
}

/** Reads and parses a file; a missing one is `{}` with no bytes and no hash. */
export const readParsed = Effect.fnUntraced(function*(
  path: string
): Effect.fn.Return<Parsed, MalformedFile | FileAccessError, FileSystem.FileSystem> {
  const read = yield* readFileIfExists(path)
  if (Option.isNone(read)) return { read, value: {}, sha256: undefined }
  const value = yield* Effect.fromResult(parseJson5(path, read.value.text))
  return { read, value, sha256: sha256Hex(read.value.text) }
})

/**
 * Reads `openclaw.json` (JSON5); `{}` when it does not exist.
 *
 * @since 0.1.0
 * @category reading
 */
export const readConfig = (path: string): Effect.Effect<JsonObject, MalformedFile | FileAccessError, FileSystem.FileSystem> =>
  Effect.map(readParsed(path), (p) => p.value)
