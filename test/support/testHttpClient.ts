/**
 * A test `HttpClient` layer built from a handler `(request) => reply`. Each request is recorded
 * with the Clock time it was made (TestClock time under `it.effect`), its form body decoded, so
 * tests assert exact request times and bodies without sockets.
 *
 * Usage:
 *   const http = testHttpClient((req) => req.index === 0 ? reply.json(400, { error: "authorization_pending" }) : reply.json(200, tokens))
 *   yield* program.pipe(Effect.provide(http.layer))
 *   assert.deepStrictEqual(http.times(), [5000, 10000])
 */
import { Duration, Clock, Effect, Layer } from "effect"
import { HttpClient, HttpClientError, type HttpClientRequest, HttpClientResponse } from "effect/http"
import { DEFAULT_CLIENT_ID, DEFAULT_SCOPE, DEFAULT_TUNING, type Settings } from "../../src/Config.ts"

/** One request as the server saw it. */
export interface RecordedRequest {
  /** 0-based position among all requests this client received. */
  readonly index: number
  /** Clock time (ms) when the request was made. */
  readonly atMs: number
  readonly method: string
  readonly url: string
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>
  /** The `application/x-www-form-urlencoded` body, decoded (empty for other bodies). */
  readonly form: Readonly<Record<string, string>>
  readonly contentType: string | undefined
}

/** What the fake server does. */
export type Reply =
  | {
    readonly _tag: "Response"
    readonly status: number
    readonly body: string
    readonly headers: Readonly<Record<string, string>>
  }
  /** The connection fails before the request is sent (connection refused). */
  | { readonly _tag: "Refused" }
  /** The connection breaks after the request was sent (reset). */
  | { readonly _tag: "Reset" }
  /** No answer at all: only the caller's timeout ends the wait. */
  | { readonly _tag: "Hang" }

export const reply = {
  json: (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({
    _tag: "Response",
    status,
    body: JSON.stringify(body),
    headers: { "content-type": "application/json", ...headers }
  }),
  text: (status: number, body: string, headers: Record<string, string> = {}): Reply => ({
    _tag: "Response",
    status,
    body,
    headers: { "content-type": "text/html", ...headers }
  }),
  refused: { _tag: "Refused" } as Reply,
  reset: { _tag: "Reset" } as Reply,
  hang: { _tag: "Hang" } as Reply
}

export type Handler = (request: RecordedRequest) => Reply | Effect.Effect<Reply>

export interface TestHttpClient {
  readonly layer: Layer.Layer<HttpClient.HttpClient>
  /** Every request so far, in order (a live view). */
  readonly requests: ReadonlyArray<RecordedRequest>
  /** The request times in ms, in order. */
  readonly times: () => ReadonlyArray<number>
}

const formOf = (request: HttpClientRequest.HttpClientRequest): Record<string, string> => {
  const body = request.body
  if (body._tag !== "Uint8Array") return {}
  const text = body.text ?? new TextDecoder().decode(body.body)
  return Object.fromEntries(new URLSearchParams(text))
}

const errnoError = (code: string) => Object.assign(new Error(code), { code })

/** Builds the layer; `requests` fills as the program runs. */
export const testHttpClient = (handler: Handler): TestHttpClient => {
  const requests: Array<RecordedRequest> = []
  const client = HttpClient.make((request, url) =>
    Effect.gen(function*() {
      const atMs = yield* Clock.currentTimeMillis
      const recorded: RecordedRequest = {
        index: requests.length,
        atMs,
        method: request.method,
        url: url.toString(),
        headers: { ...request.headers },
        form: formOf(request),
        contentType: request.body._tag === "Uint8Array" ? request.body.contentType : undefined
      }
      requests.push(recorded)
      const out = handler(recorded)
      const r = Effect.isEffect(out) ? yield* out : out
      switch (r._tag) {
        case "Refused":
        case "Reset":
          return yield* Effect.fail(
            new HttpClientError.HttpClientError({
              reason: new HttpClientError.TransportError({
                request,
                cause: errnoError(r._tag === "Refused" ? "ECONNREFUSED" : "ECONNRESET")
              })
            })
          )
        case "Hang":
          return yield* Effect.never
        case "Response":
          return HttpClientResponse.fromWeb(request, new Response(r.body, { status: r.status, headers: r.headers }))
      }
    })
  )
  return {
    layer: Layer.succeed(HttpClient.HttpClient, client),
    requests,
    times: () => requests.map((r) => r.atMs)
  }
}

/** A handler that answers with the given replies in order, repeating the last one. */
export const sequence = (...replies: ReadonlyArray<Reply>): Handler => (request) =>
  replies[Math.min(request.index, replies.length - 1)] ?? reply.hang

/** Settings for protocol tests: a loopback OAuth server, no real home folder. */
export const testSettings = (overrides: Partial<Settings> = {}): Settings => ({
  oauthBaseUrl: "http://127.0.0.1:9",
  clientId: DEFAULT_CLIENT_ID,
  scope: DEFAULT_SCOPE,
  refreshMargin: Duration.seconds(300),
  qwenHome: "/nonexistent/.qwen",
  openclawStateDir: "/nonexistent/.openclaw",
  openclawConfigPath: "/nonexistent/.openclaw/openclaw.json",
  openclawAgentDir: "/nonexistent/.openclaw/agents/main/agent",
  qwenCodeSync: true,
  logLevel: "warn",
  noBrowser: true,
  ...DEFAULT_TUNING,
  userAgent: "qwen-auth/test",
  ...overrides
})
