/**
 * What an answer means: a 2xx body decoded with a schema (naming the offending field, never its
 * value), or an unusable answer classified into a tagged error by its OAuth `error` first, then by
 * status (RFC 6749 §5.2, RFC 8628 §3.5, protocol.md §1–3). Pure reading: no requests, no sleeps.
 *
 * @since 0.1.0
 */
import { Clock, Effect, Schema } from "effect"
import * as SchemaIssue from "effect/SchemaIssue"
import type { OAuthSettings } from "./OAuthSettings.ts"
import {
  AccessDenied,
  ExpiredToken,
  InvalidClient,
  InvalidGrant,
  MalformedResponse,
  type NetworkError,
  type OAuthError,
  QuotaExceeded,
  RateLimited,
  ServerError,
  type UntrustedEndpoint
} from "./OAuthError.ts"
import type { Answer } from "./Transport.ts"

const EXCERPT_CHARS = 80

/**
 * A short, printable excerpt of a non-JSON body for error messages. Only ever applied to bodies
 * that did not parse as JSON, so a token response is never quoted.
 */
export const scrubExcerpt = (text: string, max = EXCERPT_CHARS): string => {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ").replace(/\s+/g, " ").trim()
  return flat.length > max ? `${flat.slice(0, max)}…` : flat
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** The OAuth `error` of a body: RFC 6749 §5.2's string, or the `{"error":{"code","message"}}` shape. */
export interface ErrorBody {
  readonly error: string
  readonly description: string | undefined
}

const textOf = (u: unknown) => (typeof u === "string" && u.trim() !== "" ? scrubExcerpt(u, 200) : undefined)

const messageOf = (json: unknown): string | undefined =>
  isRecord(json) ? textOf(json.error_description) ?? textOf(json.message) : undefined

/** The OAuth error of a parsed body, or `undefined` when it carries none (a success, or a bare page). */
export const errorBodyOf = (json: unknown): ErrorBody | undefined => {
  if (!isRecord(json)) return undefined
  const text = textOf
  const topDescription = messageOf(json)
  if (typeof json.error === "string" && json.error.trim() !== "") {
    return { error: json.error.trim(), description: topDescription }
  }
  if (isRecord(json.error)) {
    const code = text(json.error.code) ?? text(json.error.type)
    const description = text(json.error.message) ?? topDescription
    if (code !== undefined) return { error: code, description }
    if (description !== undefined) return { error: "error", description }
  }
  return undefined
}

const QUOTA_TEXT = /quota\s+(exceeded|exhausted)|insufficient[_\s]quota/i

const isQuota = (error: string | undefined, description: string | undefined, text: string | undefined) =>
  error === "insufficient_quota" || QUOTA_TEXT.test(description ?? "") || QUOTA_TEXT.test(text ?? "")

/** `Retry-After` as seconds: delta-seconds or an HTTP-date against the Clock. */
export const retryAfterSeconds = (answer: Answer): Effect.Effect<number | undefined> =>
  Effect.gen(function*() {
    const raw = answer.headers["retry-after"]?.trim()
    if (raw === undefined || raw === "") return undefined
    if (/^\d+$/.test(raw)) return Number(raw)
    const at = Date.parse(raw)
    if (Number.isNaN(at)) return undefined
    const now = yield* Clock.currentTimeMillis
    return Math.max(0, Math.ceil((at - now) / 1000))
  })

/** Every public error an answer can be classified into. */
export type AnswerError = Exclude<OAuthError, NetworkError | UntrustedEndpoint>

const isSuccess = (status: number) => status >= 200 && status < 300

/**
 * Classifies an answer the step could not use, by its `error` field first whatever the status
 * (RFC 8628 §3.5, RFC 6749 §5.2), then by status. Retry signals (`authorization_pending`,
 * `slow_down`) must have been taken out by the caller.
 */
export const classifyFailure = (
  settings: Pick<OAuthSettings, "clientId">,
  answer: Answer
): Effect.Effect<never, AnswerError> =>
  Effect.gen(function*() {
    const { endpoint, status } = answer
    const body = errorBodyOf(answer.json)
    // A body without an OAuth `error` may still explain itself (`{"message": "..."}`).
    const description = body?.description ?? messageOf(answer.json)
    const nonJsonText = answer.json === undefined ? scrubExcerpt(answer.text) : undefined
    const opt = <A>(a: A | undefined) => (a === undefined ? {} : { description: a })
    if (body !== undefined) {
      switch (body.error) {
        case "access_denied":
          return yield* new AccessDenied(opt(description))
        case "expired_token":
          return yield* new ExpiredToken({ reason: "server" })
        case "invalid_grant":
          return yield* new InvalidGrant({ endpoint, ...opt(description) })
        case "invalid_client":
        case "unauthorized_client":
          return yield* new InvalidClient({ endpoint, clientId: settings.clientId, error: body.error, ...opt(description) })
      }
    }
    if (isQuota(body?.error, description, nonJsonText)) {
      const serverMessage = description ?? nonJsonText
      return yield* new QuotaExceeded({ endpoint, ...(serverMessage ? { serverMessage } : {}) })
    }
    if (status === 429) {
      const retryAfter = yield* retryAfterSeconds(answer)
      const serverMessage = description ?? body?.error ?? (nonJsonText || undefined)
      return yield* new RateLimited({
        endpoint,
        ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
        ...(serverMessage !== undefined ? { serverMessage } : {})
      })
    }
    const serverError = (transient: boolean) =>
      new ServerError({
        endpoint,
        status,
        transient,
        ...(body !== undefined ? { error: body.error } : {}),
        ...opt(description)
      })
    // 5xx and RFC 6749's temporarily_unavailable are worth another try, whatever the body says.
    if (status >= 500 || body?.error === "temporarily_unavailable") return yield* serverError(true)
    if (body !== undefined) return yield* serverError(false)
    // A bare 401 on refresh (no OAuth error) is a gateway hiccup more often than a dead token.
    if (status === 401 && endpoint === "refresh") return yield* serverError(true)
    if (answer.json === undefined || isSuccess(status)) {
      return yield* new MalformedResponse({ endpoint, field: "body", status, excerpt: nonJsonText ?? "" })
    }
    return yield* serverError(false)
  })

/**
 * Decodes a successful body with `schema`; a failure names the first offending field (never its
 * value, which may be a secret).
 */
export const decodeAnswer = <S extends Schema.Constraint & { readonly DecodingServices: never }>(
  schema: S,
  answer: Answer
): Effect.Effect<S["Type"], MalformedResponse> => {
  if (!isRecord(answer.json)) {
    return Effect.fail(
      new MalformedResponse({
        endpoint: answer.endpoint,
        field: "body",
        status: answer.status,
        excerpt: answer.json === undefined ? scrubExcerpt(answer.text) : "not a JSON object"
      })
    )
  }
  // Lenient: a JSON null counts as an absent optional field.
  const present = Object.fromEntries(Object.entries(answer.json).filter(([, v]) => v !== null))
  return Schema.decodeUnknownEffect(schema)(present).pipe(
    Effect.mapError((e) => {
      const first = formatter(e.issue).issues[0]
      const field = first?.path?.map(String).join(".") || "body"
      return new MalformedResponse({ endpoint: answer.endpoint, field, status: answer.status, excerpt: "" })
    })
  )
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** Lenient seconds (RFC 8628 / RFC 6749): a number or numeric string, finite and > 0. */
export const Seconds = Schema.Union([Schema.Finite, Schema.FiniteFromString]).pipe(
  Schema.check(Schema.isGreaterThan(0))
)
