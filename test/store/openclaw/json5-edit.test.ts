/**
 * In-place JSON5 editing (issue 13, "the user's config is sacred"): only what a merge changes is
 * touched; comments, formatting, key order and values JSON cannot hold keep their text.
 */
import { assert, describe, it } from "@effect/vitest"
import { type ObjectNode, parse } from "@humanwhocodes/momoa"
import { Result } from "effect"
import fc from "fast-check"
import JSON5 from "json5"
import { differences, editJson5 } from "../../../src/store/openclaw/Json5Edit.ts"
import { isRecord, type JsonObject, jsonEqual } from "../../../src/store/openclaw/Json.ts"
import { mergeLogin } from "../../../src/store/openclaw/Login.ts"
import { setDefaultModel } from "../../../src/store/openclaw/Models.ts"
import { removeLoadPath, addLoadPath } from "../../../src/store/openclaw/PluginRegistration.ts"
import { HAND_WRITTEN, insertedOnly, OURS } from "./fixtures.ts"

const edit = (text: string, f: (before: JsonObject) => JsonObject): string => {
  const before = JSON5.parse(text) as JsonObject
  return Result.getOrThrow(editJson5(text, before, f(before)))
}

describe("editJson5", () => {
  it("login --set-default on a hand-written JSON5 config: the user's bytes stay, ours follow its style", () => {
    const out = edit(HAND_WRITTEN, (c) => mergeLogin(c, { baseUrl: OURS, setDefault: true }).config)
    // The one value of the user's that changes is the default model's primary.
    const expectedKept = HAND_WRITTEN.replace(`primary: "openai/gpt-5"`, `primary: 'qwen-portal/coder-model'`)
    assert.isTrue(insertedOnly(expectedKept, out), out)
    for (const kept of ["12345678901234567890", "ratio: Infinity", "floor: -Infinity", "unset: NaN", "mask: 0xFF", "half: .5",
      "// My OpenClaw config: hand-written, keep my notes!", "/* the gateway */", "// mine", "'models': {"]) {
      assert.include(out, kept)
    }
    // Our entries, in the file's style: unquoted keys where possible, single quotes, trailing commas.
    assert.include(out, `\n  plugins: {\n    entries: {\n      'qwen-portal-auth': {\n        enabled: true,\n      },\n    },\n  },\n`)
    assert.include(out, `      openai: { baseUrl: 'https://api.openai.com/v1', models: [], }, // mine\n      'qwen-portal': {\n        baseUrl: 'https://portal.qwen.ai/v1',\n`)
    assert.include(out, `fallbacks: ["anthropic/claude-sonnet",], },\n      models: {\n        'qwen-portal/coder-model': {\n          alias: 'qwen',\n        },\n        'qwen-portal/vision-model': {},\n      },\n    },\n`)
    const c = JSON5.parse(out)
    assert.deepStrictEqual(c.agents.defaults.model, { primary: "qwen-portal/coder-model", fallbacks: ["anthropic/claude-sonnet"] })
    assert.isTrue(Number.isNaN(c.gateway.unset))
  })

  it("a plain JSON config (as OpenClaw writes it) stays plain JSON in the same layout", () => {
    const user = { gateway: { port: 1 }, agents: { defaults: { model: "openai/gpt-5" } } }
    const text = `${JSON.stringify(user, null, 2)}\n`
    const next = mergeLogin(user, { baseUrl: OURS, setDefault: true }).config
    const out = edit(text, () => next)
    assert.strictEqual(out, `${JSON.stringify(next, null, 2)}\n`)
  })

  it("keeps CRLF line ends and tab indentation", () => {
    const out = edit(`{\r\n\t"a": {\r\n\t\t"b": 1\r\n\t}\r\n}\r\n`, () => ({ a: { b: 1, c: [1] } }))
    assert.strictEqual(out, `{\r\n\t"a": {\r\n\t\t"b": 1,\r\n\t\t"c": [\r\n\t\t\t1\r\n\t\t]\r\n\t}\r\n}\r\n`)
  })

  it("adds after a last entry's line comment, so the comment keeps its entry", () => {
    assert.strictEqual(edit(`{\n  a: 1,\n  b: 2 // note\n}\n`, (c) => ({ ...c, c: 3 })), `{\n  a: 1,\n  b: 2, // note\n  c: 3\n}\n`)
  })

  it("a one-line object takes one-line entries", () => {
    assert.strictEqual(edit(`{ a: { b: 1 } }`, (c) => ({ ...c, d: { e: [1, 2] } })), `{ a: { b: 1 }, d: { e: [1, 2] } }`)
  })

  it("an empty object is laid out afresh; one holding only a comment keeps it", () => {
    assert.strictEqual(edit(`{\n  a: {},\n}\n`, () => ({ a: { b: 1 } })), `{\n  a: {\n    b: 1,\n  },\n}\n`)
    assert.strictEqual(edit(`{\n  // nothing yet\n}\n`, () => ({ a: 1 })), `{\n  "a": 1\n  // nothing yet\n}\n`)
  })

  it("removes entries with their commas and lines, keeping comments on other lines", () => {
    assert.strictEqual(edit(`{\n  a: 1,\n  b: 2,\n  c: 3,\n}\n`, ({ b: _, ...c }) => c), `{\n  a: 1,\n  c: 3,\n}\n`)
    assert.strictEqual(edit(`{\n  "a": 1,\n  "b": { "x": 1 }\n}\n`, ({ b: _, ...c }) => c), `{\n  "a": 1\n}\n`)
    assert.strictEqual(edit(`{\n  a: 1, // about a\n  b: 2\n}\n`, ({ b: _, ...c }) => c), `{\n  a: 1 // about a\n}\n`)
    // The removed entry's own line comment stays, where it was (CRLF and a BOM kept).
    assert.strictEqual(edit(`\uFEFF{\r\n  a: 1, // c\r\n  b: 2 // d\r\n}\r\n`, ({ b: _, ...c }) => c), `\uFEFF{\r\n  a: 1 // c\r\n  // d\r\n}\r\n`)
    assert.strictEqual(edit(`{ paths: [ "x", "y", "z" ] }`, () => ({ paths: ["x"] })), `{ paths: [ "x" ] }`)
    assert.strictEqual(edit(`{ paths: [ "x", "y", "z" ] }`, () => ({ paths: ["y"] })), `{ paths: [ "y" ] }`)
  })

  it("setup-openclaw's load path added and removed again gives back the user's bytes", () => {
    const before = `// plugins\n{\n  plugins: {\n    load: { paths: ["/opt/other"] }, // mine\n    allow: ["other",],\n  },\n}\n`
    const added = addLoadPath(JSON5.parse(before), "/opt/qwen")
    const withPath = edit(before, () => added.next)
    assert.isTrue(insertedOnly(before, withPath), withPath)
    const removed = edit(withPath, (c) => removeLoadPath(c, "/opt/qwen", added.record).next)
    assert.strictEqual(removed, before)
  })

  it("models set replaces only the primary's value", () => {
    const text = `{\n  agents: { defaults: {\n    model: { primary: 'openai/gpt-5' }, // mine\n    models: { 'openai/gpt-5': {}, 'qwen-portal/coder-model': { alias: 'qwen' } },\n  } },\n}\n`
    const out = edit(text, (c) => Result.getOrThrow(setDefaultModel(c, "qwen")).config)
    assert.strictEqual(out, text.replace("'openai/gpt-5' }", "'qwen-portal/coder-model' }"))
  })

  it("refuses, saying why, rather than write what would not read back", () => {
    // A duplicate key: JSON5 keeps the last one; removing it would bring the first one back.
    const text = `{ a: 1, a: 2 }`
    const r = editJson5(text, { a: 2 }, {})
    assert.isTrue(Result.isFailure(r))
    assert.strictEqual(Result.isFailure(r) && r.failure, "the edited text would not read back as intended")
  })

  it("differences: smallest edits; NaN equals NaN", () => {
    assert.deepStrictEqual(differences({ a: NaN, b: [1], c: { d: 1 } }, { a: NaN, b: [1, 2], c: { d: 2 }, e: 1 }), [
      { _tag: "Append", path: ["b"], values: [2] },
      { _tag: "Set", path: ["c", "d"], value: 2 },
      { _tag: "Set", path: ["e"], value: 1 }
    ])
    assert.deepStrictEqual(differences({ b: [1, 2] }, { b: [2] }, { wholeArrays: true }), [{ _tag: "Set", path: ["b"], value: [2] }])
    assert.isTrue(jsonEqual({ x: [NaN] }, { x: [NaN] }))
  })
})

// =============================================================================
// Random configs, random layouts, random edits
// =============================================================================

/** A JSON value with the numbers JSON5 allows, as value and as the text it was written with. */
const leaf: fc.Arbitrary<{ value: unknown; text: string }> = fc.oneof(
  fc.string({ maxLength: 6 }).map((s) => ({ value: s, text: JSON.stringify(s) })),
  fc.constantFrom("it's", "x").map((s) => ({ value: s, text: `'${s.replace("'", "\\'")}'` })),
  fc.integer().map((n) => ({ value: n, text: String(n) })),
  fc.constantFrom(
    { value: 12345678901234567890, text: "12345678901234567890" },
    { value: Infinity, text: "Infinity" },
    { value: -Infinity, text: "-Infinity" },
    { value: NaN, text: "NaN" },
    { value: 255, text: "0xFF" },
    { value: 0.5, text: ".5" },
    { value: true, text: "true" },
    { value: null, text: "null" }
  )
)

const key = fc.constantFrom("a", "b", "models", "providers", "agents", "defaults", "model", "plugins", "entries", "qwen-portal", "x_1", "$y", "with space")

interface Doc {
  value: unknown
  text: (indent: string) => string
}

/** A value and a random layout for it: one line or many, comments, quotes, trailing commas. */
const doc: fc.Arbitrary<Doc> = fc.letrec<{ node: Doc; object: Doc; array: Doc }>((tie) => ({
  node: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf.map((l) => ({ value: l.value, text: () => l.text })), tie("object"), tie("array")),
  object: fc.record({
    entries: fc.uniqueArray(fc.tuple(key, tie("node")), { maxLength: 4, selector: ([k]) => k }),
    multiline: fc.boolean(),
    trailing: fc.boolean(),
    quote: fc.constantFrom("none", "double", "single"),
    comment: fc.boolean()
  }).map(({ entries, multiline, trailing, quote, comment }) => ({
    value: Object.fromEntries(entries.map(([k, d]) => [k, d.value])),
    text: (indent: string) => {
      const name = (k: string) => quote === "none" && /^[A-Za-z_$][\w$]*$/.test(k) ? k : quote === "single" ? `'${k}'` : JSON.stringify(k)
      const inner = `${indent}  `
      if (entries.length === 0) return comment && multiline ? `{\n${inner}// empty\n${indent}}` : "{}"
      if (!multiline) return `{ ${entries.map(([k, d]) => `${name(k)}: ${d.text(inner)}`).join(", ")}${trailing ? "," : ""} }`
      const lines = entries.map(([k, d], i) =>
        `${comment && i === 0 ? `${inner}/* ${k} */\n` : ""}${inner}${name(k)}: ${d.text(inner)}${i < entries.length - 1 || trailing ? "," : ""}${comment ? ` // ${k}` : ""}`
      )
      return `{\n${lines.join("\n")}\n${indent}}`
    }
  })),
  array: fc.record({ items: fc.array(tie("node"), { maxLength: 3 }), multiline: fc.boolean(), trailing: fc.boolean() }).map(
    ({ items, multiline, trailing }) => ({
      value: items.map((d) => d.value),
      text: (indent: string) => {
        const inner = `${indent}  `
        if (items.length === 0) return "[]"
        return multiline
          ? `[\n${items.map((d) => inner + d.text(inner)).join(",\n")}${trailing ? "," : ""}\n${indent}]`
          : `[${items.map((d) => d.text(inner)).join(", ")}${trailing ? "," : ""}]`
      }
    })
  )
})).object

/** Paths to every object in a value. */
const objectPaths = (v: unknown, at: Array<string> = []): Array<Array<string>> =>
  isRecord(v) ? [at, ...Object.entries(v).flatMap(([k, c]) => objectPaths(c, [...at, k]))] : []

const setIn = (v: unknown, path: ReadonlyArray<string>, f: (o: JsonObject) => JsonObject): JsonObject => {
  const o = v as JsonObject
  if (path.length === 0) return f(o)
  return { ...o, [path[0]!]: setIn(o[path[0]!], path.slice(1), f) }
}

describe("editJson5 on random configs", () => {
  it("adding entries anywhere keeps every byte of the original and reads back as intended", () => {
    fc.assert(
      fc.property(doc, fc.nat(), fc.constantFrom<unknown>({ enabled: true }, ["text", "image"], "x", 1), (d, pick, value) => {
        const text = `${d.text("")}\n`
        const before = JSON5.parse(text) as JsonObject
        const paths = objectPaths(before)
        const at = paths[pick % paths.length]!
        const after = setIn(before, at, (o) => ({ ...o, "qwen-new": value }))
        const r = editJson5(text, before, after)
        if (Result.isFailure(r)) throw new Error(`${r.failure}\n${text}`)
        if (!jsonEqual(JSON5.parse(r.success), after)) throw new Error(r.success)
        if (!insertedOnly(text, r.success)) throw new Error(`bytes lost:\n${text}\n---\n${r.success}`)
      }),
      { numRuns: 300 }
    )
  })

  it("replacing or removing one entry leaves the other top-level entries' text as it was", () => {
    fc.assert(
      fc.property(doc, fc.nat(), fc.boolean(), (d, pick, remove) => {
        const text = `${d.text("")}\n`
        const before = JSON5.parse(text) as JsonObject
        const paths = objectPaths(before).flatMap((p) => Object.keys(getAt(before, p)).map((k) => [...p, k]))
        if (paths.length === 0) return
        const target = paths[pick % paths.length]!
        const after = setIn(before, target.slice(0, -1), (o) => {
          const { [target[target.length - 1]!]: _, ...rest } = o
          return remove ? rest : { ...o, [target[target.length - 1]!]: { replaced: [1, "two"] } }
        })
        const r = editJson5(text, before, after)
        if (Result.isFailure(r)) throw new Error(`${r.failure}\n${text}`)
        if (!jsonEqual(JSON5.parse(r.success), after)) throw new Error(r.success)
        // Every top-level entry the edit did not go through keeps its text.
        const members = (parse(text, { mode: "json5", ranges: true }).body as ObjectNode).members
        for (const m of members) {
          const name = m.name.type === "Identifier" ? m.name.name : m.name.value
          const source = text.slice(m.loc.start.offset, m.loc.end.offset)
          if (name !== target[0] && !r.success.includes(source)) throw new Error(`lost ${source}\n${text}\n---\n${r.success}`)
        }
      }),
      { numRuns: 300 }
    )
  })
})

describe("editJson5 on random configs, many edits at once", () => {
  it("a login merge, or edits adding, replacing and removing together, read back as intended", () => {
    fc.assert(
      fc.property(doc, fc.boolean(), fc.array(fc.tuple(fc.nat(), fc.constantFrom("add", "replace", "remove")), { maxLength: 5 }), (d, login, ops) => {
        const text = `${d.text("")}\n`
        const before = JSON5.parse(text) as JsonObject
        let after: JsonObject = before
        if (login) {
          after = mergeLogin(before, { baseUrl: OURS, setDefault: ops.length % 2 === 0 }).config
        } else {
          for (const [pick, op] of ops) {
            const paths = objectPaths(after)
            const at = paths[pick % paths.length]!
            after = setIn(after, at, (o) => {
              const keys = Object.keys(o)
              const k = keys[pick % Math.max(1, keys.length)]
              if (op === "add" || k === undefined) return { ...o, [`new${pick % 3}`]: [pick] }
              if (op === "replace") return { ...o, [k]: "replaced" }
              const { [k]: _, ...rest } = o
              return rest
            })
          }
        }
        const r = editJson5(text, before, after)
        if (Result.isFailure(r)) throw new Error(`${r.failure}\n${text}`)
        if (!jsonEqual(JSON5.parse(r.success), after)) throw new Error(r.success)
      }),
      { numRuns: 300 }
    )
  })
})

const getAt = (v: unknown, path: ReadonlyArray<string>): JsonObject =>
  path.reduce<JsonObject>((o, k) => o[k] as JsonObject, v as JsonObject)
