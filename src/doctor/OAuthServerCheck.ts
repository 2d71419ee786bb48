/**
 * The `oauth-server` check: one refresh-grant POST with a made-up refresh token. A server that
 * knows the client answers `invalid_grant` to it, so the answer tells endpoint and client apart
 * without touching the user's login; the device flow is never started.
 *
 * @since 0.1.0
 */
import { Effect, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import type { Settings } from "../Config.ts"
import { errorBodyOf } from "../oauth/ErrorClassification.ts"
import { endpointsOf } from "../oauth/OAuthSettings.ts"
import { exchange, formPost } from "../oauth/Transport.ts"
import { checkOAuthBase } from "../oauth/Trust.ts"
import { type CheckResult, ok, problem, shellWord } from "./Check.ts"
import { route } from "./Network.ts"
import type { HttpClient } from "effect/http"

/** `qwen-auth-doctor-probe-` and 43 random base64url characters: never a token the server issued. */
export const PROBE_PREFIX = "qwen-auth-doctor-probe-"

const probeToken = (): Redacted.Redacted<string> => Redacted.make(`${PROBE_PREFIX}${randomBytes(32).toString("base64url")}`)

/** An HTML page where an OAuth server answers JSON: a web server, not the token endpoint. */
export const looksLikeHtml = (contentType: string | undefined, text: string): boolean =>
  /text\/html|application\/xhtml/i.test(contentType ?? "") || /^\s*<(!doctype|html|head|body)\b/i.test(text)

/** @since 0.1.0 @category checks */
export const checkOAuthServer = (settings: Settings): Effect.Effect<CheckResult, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const url = endpointsOf(settings).token
    const untrusted = yield* Effect.flip(checkOAuthBase(settings)).pipe(Effect.option)
    if (untrusted._tag === "Some") {
      return problem("oauth-server", "untrusted-endpoint", untrusted.value.message, "qwen-auth doctor --oauth-base-url https://chat.qwen.ai")
    }
    const probe = probeToken()
    const request = formPost(url, settings, {
      grant_type: "refresh_token",
      refresh_token: Redacted.value(probe),
      client_id: settings.clientId
    })
    const sent = yield* Effect.result(exchange("refresh", request, settings.requestTimeout, [probe]))
    if (sent._tag === "Failure") {
      return problem(
        "oauth-server",
        "unreachable",
        `${url}: ${sent.failure.detail} (${yield* route(url)})`,
        `curl -sS -o /dev/null -w '%{http_code}\\n' ${shellWord(url)}`
      )
    }
    const answer = sent.success
    const error = errorBodyOf(answer.json, [probe])?.error
    const said = `${url} answered HTTP ${answer.status}${error !== undefined ? ` ${error}` : ""}`
    const otherClient = "qwen-auth doctor --client-id <the client id the server expects>"
    if (error === "invalid_grant") {
      return ok("oauth-server", `${said} to a made-up refresh token: the endpoint is there and client id ${settings.clientId} is accepted`)
    }
    if (error === "invalid_client" || error === "unauthorized_client") {
      return problem("oauth-server", "client-refused", `${said}: the server does not accept client id ${settings.clientId}`, otherClient)
    }
    if (answer.status === 404 || looksLikeHtml(answer.headers["content-type"], answer.text)) {
      return problem(
        "oauth-server",
        "endpoint-not-found",
        `${said}${looksLikeHtml(answer.headers["content-type"], answer.text) ? " with an HTML page" : ""}: no OAuth token endpoint there (the service may have moved)`,
        "qwen-auth doctor --oauth-base-url <the server's current origin>"
      )
    }
    if (error === "insufficient_quota") {
      return problem("oauth-server", "quota-exhausted", `${said}`, "qwen-auth doctor")
    }
    if (answer.status === 429) return problem("oauth-server", "throttled", `${said}: too many requests`, "qwen-auth doctor")
    if (answer.status >= 500) return problem("oauth-server", "server-error", `${said}: the server failed`, "qwen-auth doctor")
    return problem("oauth-server", "unexpected-answer", `${said}, not the invalid_grant an OAuth server gives an unknown refresh token`, "qwen-auth doctor --verbose")
  })
