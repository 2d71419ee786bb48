/**
 * The transport of the OAuth steps: the form POST every step sends, and one timed exchange through
 * the `HttpClient` service that reads the whole (capped) answer, mapping transport failures to
 * `NetworkError` (protocol.md "All requests", §1–3). Never sleeps, retries or writes: the poller
 * and the token actor do that. What an answer means is `ErrorClassification.ts`'s business.
 *
 * @since 0.1.0
 */
import { Duration, Effect, type Redacted, Stream } from "effect"
import { HttpClient, type HttpClientError, HttpClientRequest } from "effect/http"
import type { OAuthSettings } from "./OAuthSettings.ts"
import { type Endpoint, NetworkError } from "./OAuthError.ts"

/** A form POST with the headers every OAuth request carries (protocol.md "All requests"). */
export const formPost = (
  url: string,
  settings: Pick<OAuthSettings, "userAgent">,
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
  /** The secrets the request carried: redacted by value from anything quoted from the answer. */
  readonly secrets?: ReadonlyArray<Redacted.Redacted<string>> | undefined
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
 * Sends one request and reads the whole answer (at most `MAX_BODY_BYTES`) within `timeout` (measured on the Clock, so
 * TestClock drives it). A timeout is ambiguous: the server may have acted on the request. `secrets`
 * (what the request carries) travel with the answer, so whatever quotes it can redact them.
 */
export const exchange = (
  endpoint: Endpoint,
  request: HttpClientRequest.HttpClientRequest,
  timeout: Duration.Duration,
  secrets: ReadonlyArray<Redacted.Redacted<string>> = []
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
    return { endpoint, status: response.status, headers: response.headers, text, json, secrets }
  }).pipe(
    Effect.catchTag("HttpClientError", (e) => Effect.fail(networkErrorOf(endpoint, e))),
    Effect.timeoutOrElse({
      duration: timeout,
      orElse: () =>
        Effect.fail(
          new NetworkError({ endpoint, detail: `no answer within ${Math.round(Duration.toSeconds(timeout))} s`, ambiguous: true })
        )
    })
  )
