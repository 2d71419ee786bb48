/**
 * The sanitiser (issue 13): secrets redacted by value in every form a server may echo them, unsafe
 * characters as `\uXXXX` (or percent-encoded in URLs), server text bounded.
 */
import { Redacted } from "effect"
import { describe, expect, it } from "vitest"
import {
  escapeControls,
  escapeControlsKeepingNewlines,
  escapeUrl,
  hasUnsafeChars,
  MAX_SERVER_TEXT,
  redactSecrets,
  serverText
} from "../../src/domain/Sanitize.ts"

const SECRET = "R3fr/esh+Token_abc-DEF.ghi~0123456789=="

/** Every character the issue names: ESC, BEL, CSI (C1), DEL, NUL, the bidi overrides and isolates. */
const UNSAFE = ["\u001b", "\u0007", "\u009b", "\u007f", "\u0000", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\r", "\n", "\t"]

describe("escapeControls", () => {
  it("writes every control, DEL, C1 and bidi character as \\uXXXX and leaves ordinary text alone", () => {
    for (const c of UNSAFE) {
      const out = escapeControls(`a${c}b`)
      expect(out).toBe(`a\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}b`)
      expect(hasUnsafeChars(out)).toBe(false)
    }
    expect(escapeControls("Qwen – 千问 ✓ é")).toBe("Qwen – 千问 ✓ é")
  })

  it("keeps newlines only in the multi-line variant (our own messages)", () => {
    expect(escapeControlsKeepingNewlines("line one\nline\u001b[2J two\u009b")).toBe("line one\nline\\u001b[2J two\\u009b")
  })
})

describe("escapeUrl", () => {
  it("percent-encodes unsafe characters and spaces, so the link shown is the link opened", () => {
    expect(escapeUrl("https://h/p\u001b]8;;https://evil\u0007 x\u202e")).toBe("https://h/p%1B]8;;https://evil%07%20x%E2%80%AE")
    expect(escapeUrl("https://chat.qwen.ai/authorize?user_code=ABCD-1234")).toBe("https://chat.qwen.ai/authorize?user_code=ABCD-1234")
  })
})

describe("redactSecrets", () => {
  it("redacts a secret raw, form-encoded, percent-encoded and JSON-escaped", () => {
    const forms = [
      SECRET,
      new URLSearchParams({ refresh_token: SECRET }).toString(),
      encodeURIComponent(SECRET),
      JSON.stringify(SECRET).replace(/\//g, "\\/")
    ]
    for (const form of forms) {
      const out = redactSecrets(`echo: ${form} end`, [Redacted.make(SECRET)])
      expect(out, form).toContain("[redacted]")
      expect(out).not.toContain(SECRET)
      expect(out).not.toContain(encodeURIComponent(SECRET))
      expect(out).not.toContain("0123456789")
    }
  })

  it("redacts a long piece of a secret (a server quoting half of it)", () => {
    expect(redactSecrets(`token ${SECRET.slice(0, 20)}…`, [SECRET])).toBe("token [redacted]…")
    // Short common runs are left alone.
    expect(redactSecrets("invalid_grant", [SECRET])).toBe("invalid_grant")
  })
})

describe("serverText", () => {
  it("redacts before cutting: a secret straddling the cut is never half-printed", () => {
    const text = `${"x ".repeat(95)}${SECRET} tail`
    const out = serverText(text, [SECRET])
    expect(out).not.toContain(SECRET.slice(0, 12))
    expect(out.length).toBeLessThanOrEqual(MAX_SERVER_TEXT + 1)
  })

  it("is one line, escaped, at most 200 characters", () => {
    const out = serverText(`a\nb\u001b[2J\u0007${"z".repeat(5000)}`)
    expect(out.startsWith("a b\\u001b[2J\\u0007zz")).toBe(true)
    expect(out.length).toBe(MAX_SERVER_TEXT + 1)
    expect(hasUnsafeChars(out)).toBe(false)
  })

  it("redacts a secret the escaping could not have joined (interleaved controls stay escaped)", () => {
    const out = serverText(`${SECRET.slice(0, 10)}\u001b${SECRET.slice(10)}`, [SECRET])
    expect(out).not.toContain(SECRET)
    expect(hasUnsafeChars(out)).toBe(false)
  })
})
