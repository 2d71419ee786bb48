/**
 * Errors shared across modules, as tagged data. Each has three faces: `message` for developers,
 * `[CliError.userMessage]` for people (one or two lines: what happened, what to do) and
 * `[Runtime.errorExitCode]` for the exit-code table of cli-contract.md.
 *
 * @since 0.1.0
 */
import { Runtime, Schema } from "effect"
import * as CliError from "effect/cli/CliError"

/** Exit codes of cli-contract.md. @since 0.1.0 @category constants */
export const ExitCode = {
  ok: 0,
  error: 1,
  usage: 2,
  timedOut: 3,
  loginRequired: 4,
  interrupted: 130
} as const

/**
 * No usable credentials: none stored, logged out, or the refresh token was refused.
 *
 * @since 0.1.0
 * @category errors
 */
export class LoginRequired extends Schema.TaggedError<LoginRequired>()("LoginRequired", {
  reason: Schema.String
}) {
  override get message() {
    return `Login required: ${this.reason}`
  }
  override get [CliError.userMessage]() {
    return `${this.reason}\nRun \`qwen-auth login\` to log in again.`
  }
  override readonly [Runtime.errorExitCode] = ExitCode.loginRequired
}

/**
 * A file exists but cannot be used: bad JSON, wrong types, an unknown version, a symlink.
 * Such a file is never overwritten.
 *
 * @since 0.1.0
 * @category errors
 */
export class MalformedFile extends Schema.TaggedError<MalformedFile>()("MalformedFile", {
  path: Schema.String,
  problem: Schema.String
}) {
  override get message() {
    return `${this.path}: ${this.problem}`
  }
  override get [CliError.userMessage]() {
    return `Cannot use ${this.path}: ${this.problem}\nFix or move the file; qwen-auth will not overwrite it.`
  }
  override readonly [Runtime.errorExitCode] = ExitCode.error
}

/**
 * A file-system operation failed (permissions, missing folder, disk full, …).
 *
 * @since 0.1.0
 * @category errors
 */
export class FileAccessError extends Schema.TaggedError<FileAccessError>()("FileAccessError", {
  path: Schema.String,
  operation: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `Cannot ${this.operation} ${this.path}: ${this.detail}`
  }
  override get [CliError.userMessage]() {
    return `Cannot ${this.operation} ${this.path}: ${this.detail}`
  }
  override readonly [Runtime.errorExitCode] = ExitCode.error
}

/**
 * A lock could not be taken in time, or was taken away from us.
 *
 * @since 0.1.0
 * @category errors
 */
export class LockError extends Schema.TaggedError<LockError>()("LockError", {
  path: Schema.String,
  reason: Schema.Literals(["timeout", "compromised", "io"]),
  detail: Schema.String
}) {
  override get message() {
    return `Lock ${this.path} (${this.reason}): ${this.detail}`
  }
  override get [CliError.userMessage]() {
    return this.reason === "timeout"
      ? `Timed out waiting for the lock ${this.path}: another program holds it.\nTry again in a moment.`
      : `Lock ${this.path} failed (${this.reason}): ${this.detail}`
  }
  override readonly [Runtime.errorExitCode] = ExitCode.error
}

/**
 * A configuration problem that a user must fix (e.g. an unparsable OpenClaw config, a `$include`).
 *
 * @since 0.1.0
 * @category errors
 */
export class ConfigProblem extends Schema.TaggedError<ConfigProblem>()("ConfigProblem", {
  path: Schema.String,
  problem: Schema.String
}) {
  override get message() {
    return `${this.path}: ${this.problem}`
  }
  override get [CliError.userMessage]() {
    return `${this.path}: ${this.problem}`
  }
  override readonly [Runtime.errorExitCode] = ExitCode.error
}
