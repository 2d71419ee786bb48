/**
 * Shared plumbing of the OAuth steps: the form POST every step sends, one timed exchange through
 * the `HttpClient` service, and the classification of unusable answers into tagged errors
 * (protocol.md §1–3). Never sleeps, retries or writes: the poller and the token actor do that.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Schema, Stream } from "effect"
import { HttpClient, type HttpClientError, HttpClientRequest } from "effect/http"
import * as SchemaIssue from "effect/SchemaIssue"
import type { Settings } from "../Config.ts"
import { isLoopbackHost } from "./Loopback.ts"
import {
  AccessDenied,
  type Endpoint,
  ExpiredToken,
  InvalidClient,
  InvalidGrant,
  MalformedResponse,
  NetworkError,
  QuotaExceeded,
  RateLimited,
  type OAuthError,
  ServerError,
  UntrustedEndpoint
} from "./OAuthError.ts"

// ---------------------------------------------------------------------------------------------
// Hosts
// ---------------------------------------------------------------------------------------------

export { isLoopbackHost }

/**
 * The OAuth base URL must be https unless its host is loopback (protocol.md "Constants").
 * Checked before any request, so a device code or refresh token never travels in clear text.
 */
export const checkOAuthBase = (settings: Settings): Effect.Effect<void, UntrustedEndpoint> => {
  let url: URL
  try {
    url = new URL(settings.oauthBaseUrl)
  } catch {
    return Effect.fail(new UntrustedEndpoint({ url: settings.oauthBaseUrl, reason: "not a valid URL" }))
  }
  if (url.protocol === "https:") return Effect.void
  if (url.protocol === "http:" && isLoopbackHost(url.hostname)) return Effect.void
  return Effect.fail(
    new UntrustedEndpoint({
      url: url.origin,
      reason: url.protocol === "http:"
        ? "plain http is allowed only for loopback hosts (127.0.0.1, localhost, ::1); use https"
        : `unsupported scheme ${url.protocol}`
    })
  )
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/** A form POST with the headers every OAuth request carries (protocol.md "All requests"). */
export const formPost = (
  url: string,
  settings: Settings,
  params: Record<string, string>,
  extraHeaders: Record<string, string> = {}
): HttpClientRequest.HttpClientRequest =>
  HttpClientRequest.post(url).pipe(
    HttpClientRequest.bodyUrlParams(params),
    HttpClientRequest.setHeaders({
      accept: "application/json",
      "user-agent": settings.userAgent,
      ...extraHeaders
    })
  )

/** What came back, read in full. `json` is `undefined` when the body is not JSON. */
export interface Answer {
  readonly endpoint: Endpoint
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly text: string
  readonly json: unknown
}

const parseJson = (text: string): unknown => {
  if (text.trim() === "") return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Error codes that prove the request never reached the server (safe to resend). */
const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "ERR_TLS_CERT_ALTNAME_INVALID"
])

const DESCRIBE: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "DNS lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ECONNRESET: "connection reset",
  EPIPE: "connection closed",
  UND_ERR_SOCKET: "connection closed",
  UND_ERR_CONNECT_TIMEOUT: "connect timeout"
}

/** Collects `code`s along a cause chain (undici nests them; happy eyeballs uses AggregateError). */
const errorCodes = (cause: unknown, depth = 0): Array<string> => {
  if (depth > 5 || typeof cause !== "object" || cause === null) return []
  const own = "code" in cause && typeof cause.code === "string" ? [cause.code] : []
  const nested = "cause" in cause ? errorCodes(cause.cause, depth + 1) : []
  const many = "errors" in cause && Array.isArray(cause.errors)
    ? cause.errors.flatMap((e: unknown) => errorCodes(e, depth + 1))
    : []
  return [...own, ...nested, ...many]
}

/** A transport failure as a NetworkError; `ambiguous` unless the request provably never left. */
export const networkErrorOf = (endpoint: Endpoint, error: HttpClientError.HttpClientError): NetworkError => {
  const reason = error.reason
  if (reason._tag === "InvalidUrlError" || reason._tag === "EncodeError") {
    return new NetworkError({ endpoint, detail: "the request could not be built", ambiguous: false })
  }
  const codes = errorCodes(reason.cause)
  const sent = !codes.some((c) => NOT_SENT_CODES.has(c))
  const named = codes.find((c) => DESCRIBE[c] !== undefined)
  const detail = named !== undefined
    ? `${DESCRIBE[named]} (${named})`
    : codes[0] !== undefined
    ? `transport error (${codes[0]})`
    : reason._tag === "TransportError"
    ? "transport error"
    : "the answer could not be read"
  return new NetworkError({ endpoint, detail, ambiguous: sent })
}

/** OAuth answers are a few hundred bytes; anything past this is read no further. */
export const MAX_BODY_BYTES = 256 * 1024

/**
 * Sends one request and reads the whole answer (at most `MAX_BODY_BYTES`) within `timeoutMs` (measured on the Clock, so
 * TestClock drives it). A timeout is ambiguous: the server may have acted on the request.
 */
export const exchange = (
  endpoint: Endpoint,
  request: HttpClientRequest.HttpClientRequest,
  timeoutMs: number
): Effect.Effect<Answer, NetworkError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(request)
    // A hostile or broken server must not fill memory: stop reading past the cap (the
    // connection is dropped) and treat the answer as not JSON.
    let size = 0
    const chunks = yield* response.stream.pipe(
      Stream.takeUntil((chunk) => (size += chunk.length) > MAX_BODY_BYTES),
      Stream.runCollect
    )
    const bytes = Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES)
    const text = new TextDecoder().decode(bytes)
    const json = size > MAX_BODY_BYTES ? undefined : parseJson(text)
    return { endpoint, status: response.status, headers: response.headers, text, json }
  }).pipe(
    Effect.catchTag("HttpClientError", (e) => Effect.fail(networkErrorOf(endpoint, e))),
    Effect.timeoutOrElse({
      duration: Duration.millis(timeoutMs),
      orElse: () =>
        Effect.fail(
          new NetworkError({ endpoint, detail: `no answer within ${Math.round(timeoutMs / 1000)} s`, ambiguous: true })
        )
    })
  )

// ---------------------------------------------------------------------------------------------
// Reading answers
// ---------------------------------------------------------------------------------------------

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
export const classifyFailure = (settings: Settings, answer: Answer): Effect.Effect<never, AnswerError> =>
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
