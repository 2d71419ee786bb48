/**
 * The emulator's HTTP routes (emulator.md, protocol.md) on `effect/http`'s `HttpRouter`.
 *
 * Every OAuth and API request goes through `faultable`: the fault is drawn before anything is
 * read or changed, and the request is only processed while its client is still connected.
 * `drop` and `lost-response` need the Node socket, reached through `NodeHttpServerRequest`.
 *
 * Modes (`moved`, `reject-client`, `discontinued`) are the server's state and faults are noise on
 * the way to it, so the fault is drawn and applied first and the mode answers in place of
 * processing: a faulted request never shows the mode, and the PRNG sequence does not depend on it.
 * Control endpoints (`/__emulator/*`) see neither.
 *
 * @since 0.1.0
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import { Clock, Effect } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import type * as Http from "node:http"
import { type FaultKind, isMode, MODES } from "./EmulatorConfig.ts"
import { CLIENT_HEADER, type EmulatorState, type Form, type Reply } from "./EmulatorState.ts"
import type { FaultPlan } from "./Faults.ts"
import * as Api from "./ApiResponses.ts"

/** How long the `delay` fault holds a request before serving it. */
export const DELAY_FAULT_MS = 2000

const FAULT_COUNTER = {
  "500": "faults500",
  delay: "faultsDelay",
  drop: "faultsDrop",
  html: "faultsHtml",
  "lost-response": "faultsLostResponse"
} as const satisfies Record<FaultKind, string>

const nodeOf = (req: HttpServerRequest.HttpServerRequest) => ({
  req: NodeHttpServerRequest.toIncomingMessage(req) as Http.IncomingMessage,
  res: NodeHttpServerRequest.toServerResponse(req) as Http.ServerResponse
})

/** The client hung up (or we hung up on it): nothing may be processed any more. */
const clientGone = (req: HttpServerRequest.HttpServerRequest): boolean => {
  const node = nodeOf(req)
  const socket = node.req.socket as Http.IncomingMessage["socket"] | null
  return node.res.destroyed || socket === null || socket.destroyed
}

/** Closes the connection without an answer; the request fiber ends here. */
const hangUp = (req: HttpServerRequest.HttpServerRequest) =>
  Effect.suspend(() => {
    nodeOf(req).req.socket.destroy()
    return Effect.interrupt
  })

const parseForm = (text: string): Form => {
  const form: Record<string, string> = {}
  for (const [k, v] of new URLSearchParams(text)) if (!(k in form)) form[k] = v
  return form
}

/** @since 0.1.0 @category conversions */
export const toResponse = (reply: Reply): HttpServerResponse.HttpServerResponse =>
  reply.html !== undefined
    ? HttpServerResponse.html(reply.html).pipe(HttpServerResponse.setStatus(reply.status))
    : reply.body === undefined
    ? HttpServerResponse.empty({ status: reply.status, headers: { "cache-control": "no-store", ...reply.headers } })
    : HttpServerResponse.jsonUnsafe(reply.body, {
      status: reply.status,
      headers: { "cache-control": "no-store", ...reply.headers }
    })

const FAULT_HTML = "<!DOCTYPE html><html><head><title>Service busy</title></head>" +
  "<body><h1>Please try again later</h1><p>qwen-emulator injected an HTML page.</p></body></html>"

/**
 * Wraps an OAuth/API handler with fault injection and the disconnect check. `process` receives
 * the raw body and `now`, runs synchronously (one atomic state step) and returns the response.
 * `hold` (from the body) is how many milliseconds to wait before processing (a slow server): the
 * request is processed only if its client is still there afterwards.
 */
const faultable = (
  state: EmulatorState,
  plan: FaultPlan,
  process: (req: HttpServerRequest.HttpServerRequest, body: string, now: number) => HttpServerResponse.HttpServerResponse,
  hold: (body: string) => number = () => 0
) =>
  Effect.gen(function*() {
    const req = yield* HttpServerRequest.HttpServerRequest
    const fault = plan.decide()
    if (fault !== undefined) {
      state.counters.faultsInjected++
      state.counters[FAULT_COUNTER[fault]]++
    }
    switch (fault) {
      case "500":
        return HttpServerResponse.text("Internal Server Error (qwen-emulator injected fault)", { status: 500 })
      case "html":
        return HttpServerResponse.html(FAULT_HTML)
      case "drop":
        return yield* hangUp(req)
      case "delay":
        // Interrupted (and so never processed) if the client gives up meanwhile.
        yield* Effect.sleep(DELAY_FAULT_MS)
        break
    }
    const body = yield* Effect.orElseSucceed(req.text, () => "")
    const holdMs = hold(body)
    if (holdMs > 0) {
      state.counters.refreshesHeld++
      yield* Effect.sleep(holdMs)
    }
    if (clientGone(req)) {
      state.counters.clientAborts++
      return yield* Effect.interrupt
    }
    const now = yield* Clock.currentTimeMillis
    const response = process(req, body, now)
    if (fault === "lost-response") return yield* hangUp(req)
    return response
  })

/** The test client's self-description (`x-emulator-client`), for events only. */
const clientOf = (req: HttpServerRequest.HttpServerRequest): string | null => {
  const value = req.headers[CLIENT_HEADER]
  return typeof value === "string" && value !== "" ? value.slice(0, 200) : null
}

const userCodeOf = (req: HttpServerRequest.HttpServerRequest, body: string): string | undefined =>
  new URL(req.url, "http://127.0.0.1").searchParams.get("user_code") ?? parseForm(body).user_code

const control = (
  act: (userCode: string) => boolean
) =>
  Effect.gen(function*() {
    const req = yield* HttpServerRequest.HttpServerRequest
    const body = yield* Effect.orElseSucceed(req.text, () => "")
    const userCode = userCodeOf(req, body)
    if (userCode === undefined || userCode === "") {
      return toResponse({ status: 400, body: { error: "invalid_request", error_description: "user_code is required." } })
    }
    return act(userCode)
      ? HttpServerResponse.empty({ status: 204 })
      : toResponse({ status: 404, body: { error: "not_found", error_description: "Unknown user_code." } })
  })

/** `POST /__emulator/mode?set=…` (or `set=…` in a form body) → 204; a missing or unknown mode → 400. */
const setMode = (state: EmulatorState) =>
  Effect.gen(function*() {
    const req = yield* HttpServerRequest.HttpServerRequest
    const body = yield* Effect.orElseSucceed(req.text, () => "")
    const mode = new URL(req.url, "http://127.0.0.1").searchParams.get("set") ?? parseForm(body).set
    if (mode === undefined || !isMode(mode)) {
      return toResponse({
        status: 400,
        body: { error: "invalid_request", error_description: `set must be one of ${MODES.join(", ")}.` }
      })
    }
    state.mode = mode
    return HttpServerResponse.empty({ status: 204 })
  })

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const authorizePage = (state: EmulatorState) =>
  Effect.gen(function*() {
    const req = yield* HttpServerRequest.HttpServerRequest
    const userCode = new URL(req.url, "http://127.0.0.1").searchParams.get("user_code") ?? ""
    const ok = userCode !== "" && state.approve(userCode)
    const text = ok
      ? `Device ${escapeHtml(userCode)} approved. You can close this window and return to your terminal.`
      : `Unknown or already used code ${escapeHtml(userCode)}.`
    return HttpServerResponse.html(
      `<!DOCTYPE html><html><head><meta charset="utf-8"><title>qwen-emulator</title></head>` +
        `<body><h1>qwen-emulator</h1><p>${text}</p></body></html>`
    ).pipe(HttpServerResponse.setStatus(ok ? 200 : 404))
  })

/**
 * All routes, as a layer for `HttpRouter.toHttpEffect` / `HttpRouter.serve`.
 *
 * @since 0.1.0
 * @category layers
 */
export const routesLayer = (state: EmulatorState, plan: FaultPlan) =>
  HttpRouter.addAll([
    HttpRouter.route(
      "POST",
      "/api/v1/oauth2/device/code",
      faultable(state, plan, (_req, body, now) => toResponse(state.deviceAuthorization(parseForm(body), now)))
    ),
    HttpRouter.route(
      "POST",
      "/api/v1/oauth2/token",
      faultable(
        state,
        plan,
        (req, body, now) => toResponse(state.token(parseForm(body), now, clientOf(req))),
        // A refused (moved/reject-client) server does not hold anything.
        (body) => (state.servesOAuth && parseForm(body).grant_type === "refresh_token" ? state.config.refreshDelay : 0)
      )
    ),
    HttpRouter.route(
      "GET",
      "/v1/models",
      faultable(state, plan, (req, _body, now) => {
        const check = state.checkApi(req.headers.authorization, now, clientOf(req), false)
        return check._tag === "Rejected" ? toResponse(check.reply) : HttpServerResponse.jsonUnsafe(Api.models(now))
      })
    ),
    HttpRouter.route(
      "POST",
      "/v1/chat/completions",
      faultable(state, plan, (req, body, now) => {
        const check = state.checkApi(req.headers.authorization, now, clientOf(req))
        return check._tag === "Rejected" ? toResponse(check.reply) : Api.chatCompletion(body, now)
      })
    ),
    HttpRouter.route("GET", "/authorize", authorizePage(state)),
    HttpRouter.route("POST", "/__emulator/approve", control((code) => state.approve(code))),
    HttpRouter.route("POST", "/__emulator/deny", control((code) => state.deny(code))),
    HttpRouter.route(
      "POST",
      "/__emulator/revoke",
      Effect.sync(() => {
        state.revoke()
        return HttpServerResponse.empty({ status: 204 })
      })
    ),
    HttpRouter.route(
      "POST",
      "/__emulator/reset",
      Effect.sync(() => {
        state.reset()
        return HttpServerResponse.empty({ status: 204 })
      })
    ),
    HttpRouter.route("POST", "/__emulator/mode", setMode(state)),
    HttpRouter.route("GET", "/__emulator/mode", Effect.sync(() => HttpServerResponse.jsonUnsafe({ mode: state.mode }))),
    HttpRouter.route(
      "GET",
      "/__emulator/stats",
      Effect.map(Clock.currentTimeMillis, (now) => HttpServerResponse.jsonUnsafe(state.stats(now)))
    ),
    HttpRouter.route("GET", "/__emulator/events", Effect.sync(() => HttpServerResponse.jsonUnsafe({ events: state.events })))
  ])
