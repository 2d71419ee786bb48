/**
 * How the plugin's failures reach OpenClaw: plain `Error`s whose message a user can act on.
 * OpenClaw shows `message` (prefixing refresh failures with "OAuth token refresh failed for
 * qwen-portal: "), so the message names OpenClaw's own login command, not qwen-auth's.
 *
 * @since 0.1.0
 */
import { Cause, Schema } from "effect"
import * as CliError from "effect/cli/CliError"

/** The command that logs in again from OpenClaw. @since 0.1.0 @category constants */
export const OPENCLAW_LOGIN_COMMAND = "openclaw models auth login --provider qwen-portal"

/**
 * The Qwen Code file's refresh token is gone or refused and OpenClaw's credential has none:
 * nothing left to refresh with.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotRefreshable extends Schema.TaggedError<NotRefreshable>()("NotRefreshable", {}) {
  override get message() {
    return "The stored Qwen credential has no refresh token"
  }
  override get [CliError.userMessage]() {
    return "The stored Qwen login has no refresh token, so it cannot be renewed."
  }
}

const retryHint = `If it keeps failing, run \`${OPENCLAW_LOGIN_COMMAND}\`.`
const loginHint = `Run \`${OPENCLAW_LOGIN_COMMAND}\` to log in again.`

/** What the user reads for one failure (the error's user message, else its message). */
const describe = (error: unknown): string => {
  if (typeof error === "object" && error !== null) {
    const user = (error as { readonly [CliError.userMessage]?: unknown })[CliError.userMessage]
    if (typeof user === "string" && user !== "") return user
    if (error instanceof Error && error.message !== "") return error.message
  }
  return String(error)
}

const tagOf = (error: unknown): unknown =>
  typeof error === "object" && error !== null ? (error as { readonly _tag?: unknown })._tag : undefined

/** Errors after which only a new login helps (the refresh token is dead or missing). */
const needsLogin = (error: unknown): boolean => {
  const tag = tagOf(error)
  return tag === "InvalidGrant" || tag === "NotRefreshable" || tag === "AccessDenied" || tag === "ExpiredToken" ||
    tag === "LoginRequired"
}

/**
 * The message for `error`: qwen-auth's own "run `qwen-auth login`" advice becomes OpenClaw's
 * login command, and every refresh failure names that command.
 *
 * @since 0.1.0
 * @category conversions
 */
export const messageOf = (error: unknown, step: "login" | "refresh" | "catalog"): string => {
  // Logging in again cannot help when the service refuses every token: name the cause (doctor's id).
  if (tagOf(error) === "ServiceRejectsTokens") return `service-rejects-tokens: ${describe(error)}`
  const text = describe(error).replace(/`qwen-auth login`/g, `\`${OPENCLAW_LOGIN_COMMAND}\``)
  if (text.includes(OPENCLAW_LOGIN_COMMAND) || step === "catalog") return text
  if (step === "login") return `${text}\nRun \`${OPENCLAW_LOGIN_COMMAND}\` to try again.`
  return `${text}\n${needsLogin(error) ? loginHint : retryHint}`
}

/**
 * Turns a failed run's cause into the `Error` OpenClaw receives (the first failure, else the
 * defect; interruption reads as "cancelled").
 *
 * @since 0.1.0
 * @category conversions
 */
export const errorFromCause = (cause: Cause.Cause<unknown>, step: "login" | "refresh" | "catalog"): Error => {
  const failure = Cause.findErrorOption(cause)
  if (failure._tag === "Some") return new Error(messageOf(failure.value, step), { cause: failure.value })
  if (Cause.hasInterruptsOnly(cause)) return new Error(`Qwen OAuth ${step} was cancelled.`)
  const defect = Cause.squash(cause)
  return new Error(`Qwen OAuth ${step} failed unexpectedly: ${describe(defect)}`, { cause: defect })
}
