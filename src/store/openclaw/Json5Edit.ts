/**
 * Editing JSON5 text in place (issue 13, "the user's config is sacred"): the differences between
 * two parsed values are spliced into the text, so every byte outside the values qwen-auth changes
 * keeps its original text: comments, formatting, key order, and numbers JSON cannot hold
 * (integers above 2^53, `Infinity`, `NaN`).
 *
 * `@humanwhocodes/momoa` supplies the syntax tree with source ranges and comment tokens; the
 * splicing is ours. The JSON5 editors on npm were tried first: `@croct/json5-parser` re-lays out
 * the text around an edit (a dropped final newline, a closing brace re-indented) and `jju` is
 * unmaintained and moves comments to the wrong entry.
 *
 * @since 0.1.0
 */
import { type ArrayNode, type DocumentNode, type ObjectNode, parse, type Token, type ValueNode } from "@humanwhocodes/momoa"
import { Result } from "effect"
import JSON5 from "json5"
import { isRecord, type JsonObject, jsonEqual } from "./Json.ts"

/** A place in a parsed value: object keys and array indexes. @since 0.1.0 @category models */
export type Path = ReadonlyArray<string | number>

/**
 * One difference between two parsed values, as the smallest edit that makes it.
 *
 * @since 0.1.0
 * @category models
 */
export type Difference =
  /** Add or replace the value at `path`. */
  | { readonly _tag: "Set"; readonly path: Path; readonly value: unknown }
  /** Add `values` at the end of the array at `path`. */
  | { readonly _tag: "Append"; readonly path: Path; readonly values: ReadonlyArray<unknown> }
  | { readonly _tag: "Remove"; readonly path: Path }

const hasOwn = (o: JsonObject, key: string) => Object.prototype.hasOwnProperty.call(o, key)

/** Whether `part`, in order, is what is left of `whole` after removing some elements. */
const removedIndexes = (whole: ReadonlyArray<unknown>, part: ReadonlyArray<unknown>): Array<number> | undefined => {
  const removed: Array<number> = []
  let j = 0
  for (let i = 0; i < whole.length; i++) {
    if (j < part.length && jsonEqual(whole[i], part[j])) j++
    else removed.push(i)
  }
  return j === part.length ? removed : undefined
}

/**
 * The differences that turn `before` into `after`: objects are compared key by key, arrays
 * element by element where they keep their length, grow at the end or lose elements; anything
 * else is replaced whole. With `wholeArrays`, a changed array is always replaced whole.
 *
 * @since 0.1.0
 * @category diff
 */
export const differences = (
  before: unknown,
  after: unknown,
  options: { readonly wholeArrays?: boolean } = {},
  at: Path = []
): Array<Difference> => {
  if (jsonEqual(before, after)) return []
  if (isRecord(before) && isRecord(after)) {
    const out: Array<Difference> = []
    for (const [key, value] of Object.entries(after)) {
      if (!hasOwn(before, key)) out.push({ _tag: "Set", path: [...at, key], value })
      else out.push(...differences(before[key], value, options, [...at, key]))
    }
    for (const key of Object.keys(before)) {
      if (!hasOwn(after, key)) out.push({ _tag: "Remove", path: [...at, key] })
    }
    return out
  }
  if (Array.isArray(before) && Array.isArray(after) && options.wholeArrays !== true) {
    if (before.length === after.length) return after.flatMap((v, i) => differences(before[i], v, options, [...at, i]))
    if (after.length > before.length && before.every((v, i) => jsonEqual(v, after[i]))) {
      return [{ _tag: "Append", path: at, values: after.slice(before.length) }]
    }
    const removed = removedIndexes(before, after)
    if (removed !== undefined) return removed.map((i) => ({ _tag: "Remove", path: [...at, i] }))
  }
  return [{ _tag: "Set", path: at, value: after }]
}

// =============================================================================
// The text's style, for what we add
// =============================================================================

interface Style {
  readonly unit: string
  readonly nl: string
  readonly quote: "\"" | "'"
  readonly unquotedKeys: boolean
  readonly trailingComma: boolean
}

type Container = ObjectNode | ArrayNode
type Spanned = { readonly loc: { readonly start: { readonly offset: number }; readonly end: { readonly offset: number } } }
type Child = Spanned

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** Where a node or token starts and ends in the text (momoa gives every one a `loc`, not always a `range`). */
const rangeOf = (node: Spanned): readonly [number, number] => [node.loc.start.offset, node.loc.end.offset]

const childrenOf = (c: Container): ReadonlyArray<Child & { readonly value: ValueNode }> =>
  c.type === "Object" ? c.members : c.elements

const memberName = (m: ObjectNode["members"][number]) => m.name.type === "Identifier" ? m.name.name : m.name.value

/** A source text with its tokens, and the position helpers the edits need. */
const makeSource = (text: string, doc: DocumentNode) => {
  const tokens: ReadonlyArray<Token> = doc.tokens ?? []
  const lineStart = (pos: number) => text.lastIndexOf("\n", pos - 1) + 1
  /** The first token starting at or after `pos`, comments included or not (tokens are in text order). */
  const tokenAfter = (pos: number, comments: boolean): Token | undefined => {
    let lo = 0
    let hi = tokens.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (rangeOf(tokens[mid]!)[0] < pos) lo = mid + 1
      else hi = mid
    }
    for (let i = lo; i < tokens.length; i++) if (comments || !tokens[i]!.type.endsWith("Comment")) return tokens[i]
    return undefined
  }
  return {
    text,
    tokens,
    lineStart,
    tokenAfter,
    /** The spaces and tabs that start the line holding `pos`. */
    indentAt: (pos: number) => /^[ \t]*/.exec(text.slice(lineStart(pos)))![0],
    /** Whether only spaces and tabs precede `pos` on its line. */
    firstOnLine: (pos: number) => text.slice(lineStart(pos), pos).trim() === "",
    sameLine: (a: number, b: number) => !text.slice(a, b).includes("\n"),
    /** The comma right after `node` (only comments and whitespace between), if any. */
    commaAfter: (node: Child): Token | undefined => {
      const next = tokenAfter(rangeOf(node)[1], false)
      return next?.type === "Comma" ? next : undefined
    },
    /** From `pos`, past spaces, tabs and comments starting on this line: where its content ends. */
    lineContentEnd: (pos: number): number => {
      let at = pos
      for (;;) {
        while (text[at] === " " || text[at] === "\t") at++
        const token = tokenAfter(at, true)
        if (token !== undefined && rangeOf(token)[0] === at && token.type.endsWith("Comment")) at = rangeOf(token)[1]
        else return at
      }
    },
    atLineEnd: (pos: number) => pos >= text.length || text[pos] === "\n" || text.startsWith("\r\n", pos),
    /** The position after the newline that ends the line holding `pos` (or the end of the text). */
    nextLineStart: (pos: number) => {
      const nl = text.indexOf("\n", pos)
      return nl < 0 ? text.length : nl + 1
    }
  }
}
type Source = ReturnType<typeof makeSource>

const detectStyle = (src: Source, doc: DocumentNode): Style => {
  let unit: string | undefined
  let trailingComma = false
  let unquotedKeys = false
  const visit = (node: ValueNode) => {
    if (node.type !== "Object" && node.type !== "Array") return
    const children = childrenOf(node)
    const first = children[0]
    const last = children[children.length - 1]
    if (first !== undefined && !src.sameLine(rangeOf(node)[0], rangeOf(first)[0]) && src.firstOnLine(rangeOf(first)[0])) {
      const outer = src.indentAt(rangeOf(node)[0])
      const inner = src.indentAt(rangeOf(first)[0])
      if (unit === undefined && inner.length > outer.length && inner.startsWith(outer)) unit = inner.slice(outer.length)
      if (last !== undefined && src.commaAfter(last) !== undefined) trailingComma = true
    }
    if (node.type === "Object") {
      for (const m of node.members) {
        if (m.name.type === "Identifier") unquotedKeys = true
        visit(m.value)
      }
    } else {
      for (const e of node.elements) visit(e.value)
    }
  }
  visit(doc.body)
  const firstString = src.tokens.find((t) => t.type === "String")
  return {
    unit: unit ?? "  ",
    nl: src.text.includes("\r\n") ? "\r\n" : "\n",
    quote: firstString !== undefined && src.text[rangeOf(firstString)[0]] === "'" ? "'" : "\"",
    unquotedKeys,
    trailingComma
  }
}

// =============================================================================
// Rendering what we add
// =============================================================================

const quoted = (s: string, quote: Style["quote"]) => {
  const json = JSON.stringify(s)
  if (quote === "\"") return json
  // Single quotes: unescape double quotes, escape single ones.
  return `'${json.slice(1, -1).replace(/\\.|'/g, (m) => m === "\\\"" ? "\"" : m === "'" ? "\\'" : m)}'`
}

const renderKey = (key: string, style: Style) =>
  style.unquotedKeys && IDENTIFIER.test(key) ? key : quoted(key, style.quote)

/** `value` as JSON5 in the file's style; nested lines start with `indent` plus one unit. */
const render = (value: unknown, indent: string, inline: boolean, style: Style): string => {
  if (typeof value === "string") return quoted(value, style.quote)
  if (typeof value === "number") {
    return Number.isFinite(value) ? JSON.stringify(value) : Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity"
  }
  if (typeof value === "boolean" || value === null) return String(value)
  const entries: Array<string> | undefined = Array.isArray(value)
    ? value.map((v) => render(v, indent + style.unit, inline, style))
    : isRecord(value)
    ? Object.entries(value).map(([k, v]) => `${renderKey(k, style)}: ${render(v, indent + style.unit, inline, style)}`)
    : undefined
  if (entries === undefined) throw new Error(`cannot write a ${typeof value} value`)
  const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"]
  if (entries.length === 0) return `${open}${close}`
  if (inline) return Array.isArray(value) ? `[${entries.join(", ")}]` : `{ ${entries.join(", ")} }`
  const inner = indent + style.unit
  return `${open}${style.nl}${entries.map((e) => inner + e).join(`,${style.nl}`)}${style.trailingComma ? "," : ""}${style.nl}${indent}${close}`
}

// =============================================================================
// Splicing
// =============================================================================

interface Splice {
  readonly start: number
  readonly end: number
  readonly text: string
}

/** A node located by path, with whether its surroundings are laid out on one line. */
interface Located {
  readonly node: ValueNode
  readonly inline: boolean
}

const fail = (why: string): never => {
  throw new Error(why)
}

const isEmptyContainer = (node: ValueNode) =>
  (node.type === "Object" && node.members.length === 0) || (node.type === "Array" && node.elements.length === 0)

const locate = (src: Source, doc: DocumentNode, path: Path): Located => {
  // A container with entries is laid out as it is; anything else as the container it sits in.
  const inlineOf = (node: ValueNode, parentInline: boolean) =>
    (node.type === "Object" || node.type === "Array") && !isEmptyContainer(node)
      ? src.sameLine(rangeOf(node)[0], rangeOf(node)[1])
      : parentInline
  let here: Located = { node: doc.body, inline: inlineOf(doc.body, false) }
  for (const step of path) {
    const node = here.node
    let next: ValueNode | undefined
    if (typeof step === "string" && node.type === "Object") {
      next = node.members.findLast((m) => memberName(m) === step)?.value
    } else if (typeof step === "number" && node.type === "Array") {
      next = node.elements[step]?.value
    }
    if (next === undefined) return fail(`nothing at ${path.join(".")}`)
    here = { node: next, inline: inlineOf(next, here.inline) }
  }
  return here
}

type Entry = readonly [string | undefined, unknown]

/**
 * One container's edits: the children at `removed` go, `entries` (`key: value`, or elements
 * where the key is undefined) are added at its end, after the last child that stays.
 */
const editContainer = (
  src: Source,
  style: Style,
  at: Located,
  entries: ReadonlyArray<Entry>,
  removed: ReadonlyArray<number>
): Array<Splice> => {
  const container = at.node as Container
  const [open, close] = rangeOf(container)
  const children = childrenOf(container)
  const keptIndex = children.findLastIndex((_, i) => !removed.includes(i))
  const fresh = () => {
    const value = container.type === "Object"
      ? Object.fromEntries(entries.map(([k, v]) => [k!, v]))
      : entries.map(([, v]) => v)
    return render(value, src.indentAt(open), at.inline, style)
  }
  if (keptIndex < 0 && children.length > 0) {
    // Nothing of the user's stays (their comments between the entries go with them).
    return [{ start: open, end: close, text: entries.length > 0 ? fresh() : container.type === "Object" ? "{}" : "[]" }]
  }
  if (entries.length === 0) return removeFrom(src, children, removed, true)
  const entryText = (indent: string, inline: boolean) =>
    entries.map(([k, v]) => (k === undefined ? "" : `${renderKey(k, style)}: `) + render(v, indent, inline, style))

  if (children.length === 0) {
    // Nothing of the user's inside: lay the container out afresh.
    if (src.text.slice(open + 1, close - 1).trim() === "") return [{ start: open, end: close, text: fresh() }]
    // Only comments inside: ours go first, the comments stay after them.
    if (at.inline) return [{ start: open + 1, end: open + 1, text: ` ${entryText("", true).join(", ")}` }]
    const comment = src.tokenAfter(open + 1, true)!
    const indent = src.firstOnLine(rangeOf(comment)[0]) ? src.indentAt(rangeOf(comment)[0]) : src.indentAt(open) + style.unit
    return [{ start: open + 1, end: open + 1, text: entryText(indent, false).map((e) => style.nl + indent + e).join(",") }]
  }

  const splices = removeFrom(src, children, removed, false)
  const kept = children[keptIndex]!
  // Our entries end with a comma when the container's last entry did.
  const trailing = src.commaAfter(children[children.length - 1]!) !== undefined
  const comma = src.commaAfter(kept)
  const anchor = comma === undefined ? rangeOf(kept)[1] : rangeOf(comma)[1]
  if (comma === undefined) splices.push({ start: anchor, end: anchor, text: "," })
  if (at.inline) {
    splices.push({ start: anchor, end: anchor, text: ` ${entryText("", true).join(", ")}${trailing ? "," : ""}` })
    return splices
  }
  const keptStart = rangeOf(kept)[0]
  const indent = src.firstOnLine(keptStart) ? src.indentAt(keptStart) : src.indentAt(open) + style.unit
  // After the entry's line comment, if any, so the comment keeps its entry.
  const lineEnd = src.lineContentEnd(anchor)
  const where = src.atLineEnd(lineEnd) ? lineEnd : anchor
  const text = entryText(indent, false).map((e) => style.nl + indent + e).join(",") + (trailing ? "," : "")
  splices.push({ start: where, end: where, text })
  return splices
}

/**
 * Removes the children at `indexes` (not all of them), with their commas and, where alone, their
 * lines. With `last`, whatever stays ends the container: when the last child goes and had no
 * trailing comma, the new last one loses its comma too.
 */
const removeFrom = (src: Source, children: ReadonlyArray<Child>, indexes: ReadonlyArray<number>, last: boolean): Array<Splice> => {
  if (indexes.length === 0) return []
  const lastIndex = children.length - 1
  const kept = children.findLastIndex((_, i) => !indexes.includes(i))
  const keptComma = src.commaAfter(children[kept]!)
  const tailGoes = last && kept < lastIndex && src.commaAfter(children[lastIndex]!) === undefined && keptComma !== undefined
  if (tailGoes) {
    // A run at the end of a one-line list goes in one piece, from the comma before it: `[a, b, c]` → `[a]`.
    const [start, end] = [rangeOf(keptComma)[0], rangeOf(children[lastIndex]!)[1]]
    const comments = src.tokens.some((t) => t.type.endsWith("Comment") && rangeOf(t)[0] >= start && rangeOf(t)[1] <= end)
    if (src.sameLine(start, end) && !comments) {
      return [...removeEach(src, children, indexes.filter((i) => i < kept)), { start, end, text: "" }]
    }
  }
  const splices = removeEach(src, children, indexes)
  if (tailGoes) splices.push({ start: rangeOf(keptComma)[0], end: rangeOf(keptComma)[1], text: "" })
  return splices
}

/** Each child with its comma; a child alone on its line(s) takes the lines with it. */
const removeEach = (src: Source, children: ReadonlyArray<Child>, indexes: ReadonlyArray<number>): Array<Splice> => {
  const spacesFrom = (pos: number) => /^[ \t]*/.exec(src.text.slice(pos))![0].length
  const spacesBefore = (pos: number) => /[ \t]*$/.exec(src.text.slice(0, pos))![0].length
  return indexes.map((i) => {
    const child = children[i]!
    const [start, end] = rangeOf(child)
    const comma = src.commaAfter(child)
    const after = comma === undefined ? end : rangeOf(comma)[1]
    if (src.firstOnLine(start) && src.atLineEnd(after + spacesFrom(after))) {
      return { start: src.lineStart(start), end: src.nextLineStart(after), text: "" }
    }
    // First on its line with a comment after it: the comment stays where it was, indented.
    if (src.firstOnLine(start) && src.atLineEnd(src.lineContentEnd(after))) {
      return { start, end: after + spacesFrom(after), text: "" }
    }
    // One of several on a line: its comma and the spaces on one side go, so one space stays.
    const closes = src.tokenAfter(after, false)?.type.startsWith("R") === true
    return comma !== undefined && !closes
      ? { start, end: after + spacesFrom(after), text: "" }
      : { start: start - spacesBefore(start), end: after, text: "" }
  })
}

const applySplices = (text: string, splices: ReadonlyArray<Splice>): string => {
  // At one position, insertions (in the order made) go before a removal starting there.
  const wide = (s: Splice) => s.end > s.start ? 1 : 0
  const ordered = splices.map((s, seq) => ({ ...s, seq })).sort((a, b) => a.start - b.start || wide(a) - wide(b) || a.seq - b.seq)
  let out = ""
  let at = 0
  for (const s of ordered) {
    // Two removals may both claim the whitespace between them.
    const start = s.text === "" ? Math.max(s.start, at) : s.start
    if (start < at) fail("overlapping edits")
    if (s.end < start) continue
    out += text.slice(at, start) + s.text
    at = s.end
  }
  return out + text.slice(at)
}

const isPlainJson = (text: string) => {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/**
 * Applies the differences between `before` (what `text` parses to) and `after` to `text` in
 * place. Fails, saying why, when the result would not parse back to `after` (or would stop being
 * plain JSON where `text` was): the caller then writes nothing.
 *
 * @since 0.1.0
 * @category editing
 */
export const editJson5 = (text: string, before: JsonObject, after: JsonObject): Result.Result<string, string> => {
  try {
    const doc = parse(text, { mode: "json5", ranges: true, tokens: true })
    if (doc.body.type !== "Object") return Result.fail("the top level is not an object")
    const src = makeSource(text, doc)
    const style = detectStyle(src, doc)
    const splices: Array<Splice> = []
    const inserts = new Map<ValueNode, { at: Located; entries: Array<Entry> }>()
    const removals = new Map<Container, { at: Located; indexes: Array<number> }>()
    const queueInsert = (at: Located, key: string | undefined, value: unknown) => {
      const queued = inserts.get(at.node) ?? { at, entries: [] }
      queued.entries.push([key, value])
      inserts.set(at.node, queued)
    }
    for (const d of differences(before, after)) {
      const parentPath = d.path.slice(0, -1)
      const key = d.path[d.path.length - 1]
      switch (d._tag) {
        case "Append": {
          const at = locate(src, doc, d.path)
          if (at.node.type !== "Array") return Result.fail(`not an array at ${d.path.join(".")}`)
          for (const v of d.values) queueInsert(at, undefined, v)
          break
        }
        case "Set": {
          const parent = locate(src, doc, parentPath)
          const exists = parent.node.type === "Object" && typeof key === "string"
            ? parent.node.members.some((m) => memberName(m) === key)
            : parent.node.type === "Array" && typeof key === "number" && key < parent.node.elements.length
          if (!exists) {
            if (parent.node.type !== "Object" || typeof key !== "string") return Result.fail(`cannot add ${d.path.join(".")}`)
            queueInsert(parent, key, d.value)
            break
          }
          const target = locate(src, doc, d.path)
          const [start, end] = rangeOf(target.node)
          splices.push({ start, end, text: render(d.value, src.indentAt(start), target.inline, style) })
          break
        }
        case "Remove": {
          const at = locate(src, doc, parentPath)
          const parent = at.node
          if (parent.type !== "Object" && parent.type !== "Array") return Result.fail(`cannot remove ${d.path.join(".")}`)
          const index = parent.type === "Object"
            ? parent.members.findLastIndex((m) => memberName(m) === key)
            : typeof key === "number" ? key : -1
          if (index < 0) return Result.fail(`nothing to remove at ${d.path.join(".")}`)
          removals.set(parent, { at, indexes: [...(removals.get(parent)?.indexes ?? []), index] })
          break
        }
      }
    }
    for (const node of new Set<ValueNode>([...inserts.keys(), ...removals.keys()])) {
      const queued = inserts.get(node)
      const removed = removals.get(node as Container)
      splices.push(...editContainer(src, style, queued?.at ?? removed!.at, queued?.entries ?? [], removed?.indexes ?? []))
    }
    const edited = applySplices(text, splices)
    // The guarantee, checked: the result reads back as `after`, in the same dialect.
    let reread: unknown
    try {
      reread = JSON5.parse(edited)
    } catch {
      return Result.fail("the edited text would not parse")
    }
    if (!jsonEqual(reread, after)) return Result.fail("the edited text would not read back as intended")
    if (isPlainJson(text) && !isPlainJson(edited)) return Result.fail("the edited text would no longer be plain JSON")
    return Result.succeed(edited)
  } catch (e) {
    return Result.fail(e instanceof Error ? e.message : String(e))
  }
}
