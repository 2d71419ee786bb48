/**
 * Typed outcomes of talking to Qwen's OAuth server (protocol.md). Every error says plainly what
 * the server answered, without secrets.
 *
 * CONTRACT: the tags and fields below are relied on by the poller, the token actor, the CLI and
 * the plugin. Add fields if needed; do not rename.
 *
 * @since 0.1.0
 */
import { Runtime, Schema } from "effect"
import * as CliError from "effect/cli/CliError"
import { ExitCode } from "../domain/Errors.ts"

/** Which OAuth step an error belongs to. */
export const Endpoint = Schema.Literals(["device_authorization", "token", "refresh", "api"])
export type Endpoint = typeof Endpoint.Type

/** RFC 8628 §3.5 `access_denied`: the user refused. */
export class AccessDenied extends Schema.TaggedError<AccessDenied>()("AccessDenied", {
  description: Schema.optional(Schema.String)
}) {
  override get message() {
    return "The authorization request was denied"
  }
  override get [CliError.userMessage]() {
    return "Access was denied in the browser.\nRun `qwen-auth login` to try again."
  }
  override readonly [Runtime.errorExitCode] = ExitCode.loginRequired
}

/** RFC 8628 §3.5 `expired_token`, or our own deadline (`expires_in`, `--timeout`) passed. */
export class ExpiredToken extends Schema.TaggedError<ExpiredToken>()("ExpiredToken", {
  reason: Schema.Literals(["server", "deadline", "timeout"])
}) {
  override get message() {
    return `The device code expired (${this.reason})`
  }
  override get [CliError.userMessage]() {
    return this.reason === "timeout"
      ? "Gave up waiting for approval (--timeout reached).\nRun `qwen-auth login` again."
      : "The device code expired before it was approved.\nRun `qwen-auth login` again."
  }
  override readonly [Runtime.errorExitCode] = ExitCode.timedOut
}

/** `invalid_grant`: on refresh the refresh token is dead; on a poll, the device code/verifier was refused. */
export class InvalidGrant extends Schema.TaggedError<InvalidGrant>()("InvalidGrant", {
  endpoint: Endpoint,
  description: Schema.optional(Schema.String)
}) {
  override get message() {
    return `invalid_grant at ${this.endpoint}${this.description ? `: ${this.description}` : ""}`
  }
  override get [CliError.userMessage]() {
    return this.endpoint === "refresh"
      ? "Qwen refused the refresh token (invalid_grant): the login has expired or was revoked.\nRun `qwen-auth login` to log in again."
      : `Qwen refused the device login (invalid_grant${this.description ? `: ${this.description}` : ""}).\nRun \`qwen-auth login\` again.`
  }
  override readonly [Runtime.errorExitCode] = ExitCode.loginRequired
}

/** `invalid_client` / `unauthorized_client`: a configuration error, not "log in again". */
export class InvalidClient extends Schema.TaggedError<InvalidClient>()("InvalidClient", {
  endpoint: Endpoint,
  clientId: Schema.String,
  error: Schema.String,
  description: Schema.optional(Schema.String)
}) {
  override get message() {
    return `${this.error} for client id ${this.clientId} at ${this.endpoint}`
  }
  override get [CliError.userMessage]() {
    return `Qwen rejected the client id ${this.clientId} (${this.error}${this.description ? `: ${this.description}` : ""}).\nCheck --client-id / QWEN_OAUTH_CLIENT_ID.`
  }
  override readonly [Runtime.errorExitCode] = ExitCode.error
}

/** A 429 that is not `slow_down` and not a quota error. */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  endpoint: Endpoint,
  retryAfterSeconds: Schema.optional(Schema.Number),
  serverMessage: Schema.optional(Schema.String)
}) {
  override get message() {
    return `Rate limited at ${this.endpoint}${this.retryAfterSeconds !== undefined ? ` (retry after ${this.retryAfterSeconds}s)` : ""}`
  }
  override get [CliError.userMessage]() {
    return `Qwen is rate-limiting requests${this.serverMessage ? `: ${this.serverMessage}` : ""}.\n${this.retryAfterSeconds !== undefined ? `Try again in ${this.retryAfterSeconds} s.` : "Try again later."}`
  }
  override readonly [Runtime.errorExitCode] = ExitCode.error
}

/** `insufficient_quota` / "Free allocated quota exceeded". Never retried in a loop. */
export class QuotaExceeded extends Schema.TaggedError<QuotaExceeded>()("QuotaExceeded", {
  endpoint: Endpoint,
  serverMessage: Schema.optional(Schema.String),
  /** From a sane `Retry-After`, when the server sent one: when the quota is expected back. */
  retryAfterSeconds: Schema.optional(Schema.Number)
}) {
  override get message() {
    return `Quota exceeded at ${this.endpoint}`
  }
  override get [CliError.userMessage]() {
    return `Qwen's free quota is used up${this.serverMessage ? ` (${this.serverMessage})` : ""}.\n${this.retryAfterSeconds !== undefined ? `The server expects it back in ${this.retryAfterSeconds} s.` : "Wait for the daily reset."}`
  }
  override readonly [Runtime.errorExitCode] = ExitCode.error
}

/** A 5xx, or a permanent OAuth error (`invalid_request`, `invalid_scope`, …) with the server's words. */
export class ServerError extends Schema.TaggedError<ServerError>()("ServerError", {
  endpoint: Endpoint,
  status: Schema.Number,
  error: Schema.optional(Schema.String),
  description: Schema.optional(Schema.String),
  /** 5xx and bare 401s are transient; a named OAuth error is not. */
  transient: Schema.Boolean
}) {
  override get message() {
    return `${this.endpoint} answered HTTP ${this.status}${this.error ? ` ${this.error}` : ""}${this.description ? `: ${this.description}` : ""}`
  }
  override get [CliError.userMessage]() {
    return `Qwen's OAuth server answered HTTP ${this.status}${this.error ? ` (${this.error}${this.description ? `: ${this.description}` : ""})` : ""} at ${this.endpoint}.`
  }
  override readonly [Runtime.errorExitCode] = ExitCode.error
}

/** No answer: connection refused/reset, DNS, timeout. `ambiguous` = the request may have been processed. */
export class NetworkError extends Schema.TaggedError<NetworkError>()("NetworkError", {
  endpoint: Endpoint,
  detail: Schema.String,
  ambiguous: Schema.Boolean
}) {
  override get message() {
    return `Network error at ${this.endpoint}: ${this.detail}`
  }
  override get [CliError.userMessage]() {
    return `Could not reach Qwen's OAuth server (${this.endpoint}): ${this.detail}.\nCheck your connection or proxy settings and try again.`
  }
  override readonly [Runtime.errorExitCode] = ExitCode.error
}

/** An answer we cannot use: non-JSON, a missing or wrong field. Names endpoint and field; quotes a short scrubbed excerpt. */
export class MalformedResponse extends Schema.TaggedError<MalformedResponse>()("MalformedResponse", {
  endpoint: Endpoint,
  field: Schema.String,
  status: Schema.Number,
  excerpt: Schema.String
}) {
  override get message() {
    return `Malformed ${this.endpoint} response (HTTP ${this.status}): ${this.field}`
  }
  override get [CliError.userMessage]() {
    return `Qwen's OAuth server sent an unusable ${this.endpoint} response (HTTP ${this.status}, ${this.field})${this.excerpt ? `: ${this.excerpt}` : ""}.`
  }
  override readonly [Runtime.errorExitCode] = ExitCode.error
}

/** A `resource_url` whose host is not allowed (protocol.md §5), or plain http to a non-loopback host. */
export class UntrustedEndpoint extends Schema.TaggedError<UntrustedEndpoint>()("UntrustedEndpoint", {
  url: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `Refusing ${this.url}: ${this.reason}`
  }
  override get [CliError.userMessage]() {
    return `Refusing to use ${this.url}: ${this.reason}`
  }
  override readonly [Runtime.errorExitCode] = ExitCode.error
}

/** Every outcome above, as one schema (for unions of wider error sets, and `isOAuthError`). */
export const OAuthErrors = Schema.Union([
  AccessDenied,
  ExpiredToken,
  InvalidGrant,
  InvalidClient,
  RateLimited,
  QuotaExceeded,
  ServerError,
  NetworkError,
  MalformedResponse,
  UntrustedEndpoint
])
export type OAuthError = typeof OAuthErrors.Type

/** Is this one of the OAuth outcomes (rather than, say, a file or lock error)? */
export const isOAuthError: (u: unknown) => u is OAuthError = Schema.is(OAuthErrors)

/** Transient failures: retry with backoff (protocol.md §2–3). */
export const isTransient = (e: OAuthError): boolean =>
  e._tag === "NetworkError" || (e._tag === "ServerError" && e.transient) ||
  (e._tag === "MalformedResponse" && e.field === "body" && e.status === 200)
