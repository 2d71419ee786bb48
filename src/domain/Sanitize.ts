/**
 * Making server- and file-supplied text safe to show, log or save (issue 13): secrets a request
 * carried are redacted by value, control and bidi characters are written as `\uXXXX` (or
 * percent-encoded inside URLs), and server text is cut to a bounded length. A leaf module (only
 * `Redacted` from effect), shared by the OAuth code, the token code and the CLI.
 *
 * Where it runs: server text when it becomes part of an error (`oauth/ErrorClassification.ts`),
 * URLs when they are decoded (`oauth/DeviceAuthorization.ts`, `oauth/TokenEndpoint.ts`), and file
 * text when the CLI prints it (`cli/Output.ts`).
 *
 * @since 0.1.0
 */
import { Redacted } from "effect"

/**
 * Characters that must never reach a terminal as they are: C0 controls, DEL, C1 controls (U+009B
 * is CSI on many terminals), the Arabic letter mark, LRM/RLM, the line and paragraph separators
 * and the bidi embeddings, overrides and isolates (U+202A–202E, U+2066–2069), which make a link's
 * text read differently from its target.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g
// eslint-disable-next-line no-control-regex
const UNSAFE_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g
// eslint-disable-next-line no-control-regex
const UNSAFE_ONE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/

const uEscape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`

/**
 * Does `text` hold a character that must not reach a terminal?
 *
 * @since 0.1.0
 * @category predicates
 */
export const hasUnsafeChars = (text: string): boolean => UNSAFE_ONE.test(text)

/**
 * One line of display text: every unsafe character (newlines included) as `\uXXXX`.
 *
 * @since 0.1.0
 * @category sanitizing
 */
export const escapeControls = (text: string): string => text.replace(UNSAFE, uEscape)

/**
 * Text of several lines that we composed ourselves: `\n` is kept, every other unsafe character
 * becomes `\uXXXX`. The CLI's console applies it to everything it prints; server text has had its
 * newlines escaped already (`serverText`), so only our own line breaks survive. JSON text passes
 * through unchanged in meaning: `JSON.stringify` leaves no raw newline inside a string, and a
 * `\uXXXX` there is the same character.
 *
 * @since 0.1.0
 * @category sanitizing
 */
export const escapeControlsKeepingNewlines = (text: string): string => text.replace(UNSAFE_BUT_NEWLINE, uEscape)

/**
 * A URL safe to print, QR-encode and open: unsafe characters and spaces percent-encoded (a
 * URL's own escape, so the link shown is the link opened). Characters that `URL` would drop or
 * trim silently (tab, CR, LF) are encoded too rather than removed.
 *
 * @since 0.1.0
 * @category sanitizing
 */
export const escapeUrl = (url: string): string =>
  url.replace(UNSAFE, (c) => encodeURIComponent(c)).replace(/ /g, "%20")

/** How much server text an error quotes. */
export const MAX_SERVER_TEXT = 200

const REDACTED = "[redacted]"

/** The forms a server may echo a secret in: as sent in the form body, raw, JSON-escaped. */
const formsOf = (secret: string): Array<string> => {
  const forms = new Set([secret, encodeURIComponent(secret), new URLSearchParams({ s: secret }).toString().slice(2)])
  forms.add(secret.replace(/\//g, "\\/"))
  return [...forms].filter((f) => f.length > 0)
}

/** Runs of token characters long enough to be (part of) a secret. */
const TOKEN_RUN = /[A-Za-z0-9\-._~+/=%]{12,}/g

/**
 * Replaces every secret in `text` by value, in each form a server could echo it in, and any long
 * run of token characters that is a piece of a secret (a server may quote half of one). Secrets
 * shorter than 8 characters are not searched for (they would match ordinary words).
 *
 * @since 0.1.0
 * @category sanitizing
 */
export const redactSecrets = (text: string, secrets: ReadonlyArray<Redacted.Redacted<string> | string>): string => {
  const values = secrets.map((s) => (typeof s === "string" ? s : Redacted.value(s))).filter((s) => s.length >= 8)
  if (values.length === 0) return text
  let out = text
  for (const value of values) {
    for (const form of formsOf(value)) out = out.split(form).join(REDACTED)
  }
  return out.replace(TOKEN_RUN, (run) => (values.some((v) => v.includes(run) || run.includes(v)) ? REDACTED : run))
}

/**
 * Server-supplied text (an OAuth `error_description`, a 429 `message`, an HTML body) as an error
 * may quote it: secrets redacted by value, whitespace runs made one space, unsafe characters as
 * `\uXXXX`, cut to `max` characters (at most `MAX_SERVER_TEXT`). Redaction runs before the cut,
 * so a secret is never half-printed at the end, and again after escaping, which could only have
 * separated characters, never joined them.
 *
 * @since 0.1.0
 * @category sanitizing
 */
export const serverText = (
  text: string,
  secrets: ReadonlyArray<Redacted.Redacted<string> | string> = [],
  max: number = MAX_SERVER_TEXT
): string => {
  const limit = Math.min(max, MAX_SERVER_TEXT)
  const flat = escapeControls(redactSecrets(text, secrets).replace(/[\t\n\v\f\r ]+/g, " ").trim())
  const clean = redactSecrets(flat, secrets)
  return clean.length > limit ? `${clean.slice(0, limit)}…` : clean
}
