/**
 * Parsing JSON files into typed values with errors that name the file and the field, and never
 * quote the file's content (it may hold tokens).
 *
 * @since 0.1.0
 */
import { Effect, Schema, SchemaIssue } from "effect"
import { MalformedFile } from "../domain/Errors.ts"

/** A JSON object as read, unknown keys included. @since 0.1.0 @category models */
export type JsonObject = { readonly [key: string]: unknown }

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** Where JSON.parse stopped, without quoting the text (V8 messages include an excerpt). */
const whereParseFailed = (error: unknown): string => {
  const message = error instanceof Error ? error.message : ""
  const lineCol = /line (\d+) column (\d+)/.exec(message)
  if (lineCol) return ` at line ${lineCol[1]}, column ${lineCol[2]}`
  const position = /position (\d+)/.exec(message)
  if (position) return ` at character ${position[1]}`
  return /end of JSON input/i.test(message) ? " (it ends too early)" : ""
}

/**
 * Parses `text` as a JSON object; anything else is a `MalformedFile` naming `path`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseJsonObject = (path: string, text: string): Effect.Effect<JsonObject, MalformedFile> =>
  Effect.suspend(() => {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (error) {
      return Effect.fail(new MalformedFile({ path, problem: `is not valid JSON${whereParseFailed(error)}` }))
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return Effect.fail(new MalformedFile({ path, problem: "expected a JSON object at the top level" }))
    }
    return Effect.succeed(value as JsonObject)
  })

/** "field `a.b`: Expected string" from a schema issue (no input values). */
export const describeIssue = (issue: SchemaIssue.Issue, prefix: ReadonlyArray<PropertyKey> = []): string => {
  const first = formatter(issue).issues[0]
  const path = [...prefix, ...(first?.path ?? [])].map(String).join(".")
  const message = first?.message ?? "invalid"
  return path === "" ? message : `field "${path}": ${message.charAt(0).toLowerCase()}${message.slice(1)}`
}

/**
 * Decodes `value` with `schema`; a failure is a `MalformedFile` naming the file and the field
 * (`prefix` locates `value` inside the file, e.g. `["profiles", "qwen-portal:default"]`).
 *
 * @since 0.1.0
 * @category parsing
 */
export const decodeField = <S extends Schema.Decoder<unknown>>(
  schema: S,
  path: string,
  value: unknown,
  prefix: ReadonlyArray<PropertyKey> = []
): Effect.Effect<S["Type"], MalformedFile> =>
  Schema.decodeUnknownEffect(schema)(value).pipe(
    Effect.mapError((error) => new MalformedFile({ path, problem: describeIssue(error.issue, prefix) }))
  )

/** JSON as qwen-auth writes it: two-space indent and a final newline. @since 0.1.0 @category encoding */
export const stringifyJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`
