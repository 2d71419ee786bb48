/**
 * What an answer means: a 2xx body decoded with a schema (naming the offending field, never its
 * value), or an unusable answer classified into a tagged error by its OAuth `error` first, then by
 * status (RFC 6749 §5.2, RFC 8628 §3.5, protocol.md §1–3). Pure reading: no requests, no sleeps.
 *
 * Every string an error takes from the server goes through `Sanitize.serverText` here: the secrets
 * the request carried (`Answer.secrets`) are redacted by value (a server may echo them anywhere),
 * unsafe characters escaped and the text cut to 200 characters.
 *
 * @since 0.1.0
 */
import { Clock, Effect, Schema } from "effect"
import * as SchemaIssue from "effect/SchemaIssue"
import { serverText } from "../domain/Sanitize.ts"
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

/** How much of a non-JSON body an error quotes. */
const EXCERPT_CHARS = 80

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * The OAuth `error` of a body: RFC 6749 §5.2's string, or the `{"error":{"code","message"}}` shape.
 * `error` is `undefined` when the server sent one outside RFC 6749's charset (it is never quoted).
 */
export interface ErrorBody {
  readonly error: string | undefined
  readonly description: string | undefined
}

/** RFC 6749 §5.2: `error` is %x20-21 / %x23-5B / %x5D-7E (printable ASCII but `"` and `\`). */
const ERROR_CODE = /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/

type Secrets = Answer["secrets"]

/** Server text as an error may quote it: secrets redacted, unsafe characters escaped, cut short. */
const textOf = (u: unknown, secrets: Secrets) =>
  typeof u === "string" && u.trim() !== "" ? serverText(u, secrets ?? []) : undefined

/** An error code in RFC 6749's charset (secrets still redacted), or `null` when it is outside it. */
const codeOf = (u: unknown, secrets: Secrets): string | null | undefined => {
  if (typeof u !== "string" || u.trim() === "") return undefined
  const code = u.trim()
  return ERROR_CODE.test(code) ? serverText(code, secrets ?? []) : null
}

const messageOf = (json: unknown, secrets: Secrets): string | undefined =>
  isRecord(json) ? textOf(json.error_description, secrets) ?? textOf(json.message, secrets) : undefined

/**
 * The OAuth error of a parsed body, or `undefined` when it carries none (a success, or a bare page).
 * `secrets` (what the request carried) are redacted from every string taken from the body.
 */
export const errorBodyOf = (json: unknown, secrets: Secrets = []): ErrorBody | undefined => {
  if (!isRecord(json)) return undefined
  const topDescription = messageOf(json, secrets)
  const top = codeOf(json.error, secrets)
  if (top !== undefined) return { error: top ?? undefined, description: topDescription }
  if (isRecord(json.error)) {
    const code = codeOf(json.error.code, secrets) ?? codeOf(json.error.type, secrets)
    const description = textOf(json.error.message, secrets) ?? topDescription
    if (code !== undefined) return { error: code ?? undefined, description }
    if (description !== undefined) return { error: "error", description }
  }
  return undefined
}

const QUOTA_TEXT = /quota\s+(exceeded|exhausted)|insufficient[_\s]quota/i

const isQuota = (error: string | undefined, description: string | undefined, text: string | undefined) =>
  error === "insufficient_quota" || QUOTA_TEXT.test(description ?? "") || QUOTA_TEXT.test(text ?? "")

/**
 * The longest `Retry-After` believed: one day. A larger one is broken or hostile advice (it would
 * read "try again in 999999999999 s") and counts as none.
 */
export const MAX_RETRY_AFTER_SECONDS = 86_400

/** `Retry-After` as seconds: delta-seconds or an HTTP-date against the Clock; absent when not sane. */
export const retryAfterSeconds = (answer: Answer): Effect.Effect<number | undefined> =>
  Effect.gen(function*() {
    const raw = answer.headers["retry-after"]?.trim()
    if (raw === undefined || raw === "") return undefined
    const seconds = /^\d+$/.test(raw) ? Number(raw) : yield* secondsUntil(raw)
    return seconds !== undefined && seconds <= MAX_RETRY_AFTER_SECONDS ? seconds : undefined
  })

const secondsUntil = (date: string) =>
  Effect.gen(function*() {
    const at = Date.parse(date)
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
    const body = errorBodyOf(answer.json, answer.secrets)
    // A body without an OAuth `error` may still explain itself (`{"message": "..."}`).
    const description = body?.description ?? messageOf(answer.json, answer.secrets)
    const nonJsonText = answer.json === undefined ? serverText(answer.text, answer.secrets ?? [], EXCERPT_CHARS) : undefined
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
      const retryAfter = yield* retryAfterSeconds(answer)
      return yield* new QuotaExceeded({
        endpoint,
        ...(serverMessage ? { serverMessage } : {}),
        ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {})
      })
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
        ...(body?.error !== undefined ? { error: body.error } : {}),
        ...opt(description)
      })
    // 5xx and RFC 6749's temporarily_unavailable are worth another try, whatever the body says.
    if (status >= 500 || body?.error === "temporarily_unavailable") return yield* serverError(true)
    // An `error` outside RFC 6749's charset is no code we can name: the answer is unusable.
    if (body !== undefined && body.error === undefined) {
      return yield* new MalformedResponse({ endpoint, field: "error", status, excerpt: "" })
    }
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
        excerpt: answer.json === undefined
          ? serverText(answer.text, answer.secrets ?? [], EXCERPT_CHARS)
          : "not a JSON object"
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
