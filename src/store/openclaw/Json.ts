/**
 * Plain-JSON helpers shared by the OpenClaw config modules: a guard, structural equality and
 * copy-on-write path updates. Nothing here mutates its input.
 *
 * @since 0.1.0
 */

/** A parsed JSON object. @since 0.1.0 @category models */
export type JsonObject = { readonly [key: string]: unknown }

/** @since 0.1.0 @category guards */
export const isRecord = (u: unknown): u is JsonObject => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * Structural equality of parsed JSON values (key order ignored). `NaN` equals `NaN`: a JSON5
 * config may hold it, and an unchanged one must not count as a change.
 *
 * @since 0.1.0
 * @category utils
 */
export const jsonEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (typeof a === "number" && typeof b === "number") return Number.isNaN(a) && Number.isNaN(b)
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]))
  if (!isRecord(a) || !isRecord(b)) return false
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((k) => k in b && jsonEqual(a[k], b[k]))
}

/** The object at `o[key]`, or `{}` when it is missing or not an object. */
export const objectAt = (o: JsonObject, key: string): JsonObject => {
  const v = o[key]
  return isRecord(v) ? v : {}
}

/** Returns a copy of `o` with `path` set through `f`, creating objects on the way. */
export const updateIn = (o: JsonObject, path: ReadonlyArray<string>, f: (current: unknown) => unknown): JsonObject => {
  const [head, ...rest] = path
  if (head === undefined) return o
  const next = rest.length === 0 ? f(o[head]) : updateIn(objectAt(o, head), rest, f)
  return { ...o, [head]: next }
}

/** The value at `path`, or undefined when some step is not an object. */
export const getIn = (o: unknown, path: ReadonlyArray<string>): unknown =>
  path.reduce<unknown>((cur, key) => (isRecord(cur) ? cur[key] : undefined), o)
