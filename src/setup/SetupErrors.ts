/**
 * The failures of `qwen-auth setup-openclaw` (its issue: exit 1 for OpenClaw not found, an
 * unsupported release, a failed OpenClaw command with its output quoted, or a plugin that is not
 * loaded afterwards; a package that is not an installed copy is refused the same way).
 *
 * @since 0.1.0
 */
import { Runtime, Schema } from "effect"
import * as CliError from "effect/cli/CliError"
import { ExitCode } from "../domain/Errors.ts"

/**
 * The OpenClaw executable could not be started (not on PATH, not executable).
 *
 * @since 0.1.0
 * @category errors
 */
export class OpenClawNotFound extends Schema.TaggedError<OpenClawNotFound>()("OpenClawNotFound", {
  bin: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `OpenClaw not found: cannot run ${this.bin} (${this.detail})`
  }
  override get [CliError.userMessage]() {
    return `OpenClaw not found: cannot run \`${this.bin}\` (${this.detail}).\n` +
      "Install OpenClaw, or name its executable with --openclaw-bin <path> or OPENCLAW_BIN."
  }
  override readonly [Runtime.errorExitCode] = ExitCode.error
}

/**
 * `openclaw --version` named no release this command knows how to set up.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnsupportedOpenClaw extends Schema.TaggedError<UnsupportedOpenClaw>()("UnsupportedOpenClaw", {
  /** What `--version` printed (sanitised, bounded), or the release it named. */
  version: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `Unsupported OpenClaw (${this.version}): ${this.reason}`
  }
  override get [CliError.userMessage]() {
    return `Unsupported OpenClaw: ${this.reason}\n\`openclaw --version\` said: ${this.version}`
  }
  override readonly [Runtime.errorExitCode] = ExitCode.error
}

/**
 * An OpenClaw command exited non-zero, timed out, or printed something unusable. `output` is its
 * output, control characters stripped and bounded (~2 KB).
 *
 * @since 0.1.0
 * @category errors
 */
export class OpenClawCommandFailed extends Schema.TaggedError<OpenClawCommandFailed>()("OpenClawCommandFailed", {
  command: Schema.String,
  problem: Schema.String,
  output: Schema.String
}) {
  override get message() {
    return `\`${this.command}\` ${this.problem}`
  }
  override get [CliError.userMessage]() {
    const quoted = this.output === "" ? "(it printed nothing)" : this.output.split("\n").map((l) => `  | ${l}`).join("\n")
    return `\`${this.command}\` ${this.problem}. Its output:\n${quoted}`
  }
  override readonly [Runtime.errorExitCode] = ExitCode.error
}

/**
 * qwen-auth's package is not an installed copy (a git checkout, the npx cache), so there is no
 * stable folder to copy the plugin from.
 *
 * @since 0.1.0
 * @category errors
 */
export class NotAnInstalledPackage extends Schema.TaggedError<NotAnInstalledPackage>()("NotAnInstalledPackage", {
  root: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `${this.root}: ${this.reason}`
  }
  override get [CliError.userMessage]() {
    return `qwen-auth runs from ${this.root}, ${this.reason}; setup-openclaw copies the plugin only from an installed package.\n` +
      "Install it (`npm install -g qwen-portal-auth`, or from the tarball `npm pack` makes) and run that `qwen-auth setup-openclaw`."
  }
  override readonly [Runtime.errorExitCode] = ExitCode.error
}

/**
 * After setup, `openclaw plugins list --json` does not show qwen-auth's plugin loaded (or still
 * shows the bundled one loaded).
 *
 * @since 0.1.0
 * @category errors
 */
export class PluginNotLoaded extends Schema.TaggedError<PluginNotLoaded>()("PluginNotLoaded", {
  reason: Schema.String
}) {
  override get message() {
    return `qwen-portal-auth is not loaded: ${this.reason}`
  }
  override get [CliError.userMessage]() {
    return `OpenClaw does not load qwen-auth's plugin: ${this.reason}\n` +
      "Run `openclaw plugins list` to see why; `qwen-auth setup-openclaw --remove` undoes this setup."
  }
  override readonly [Runtime.errorExitCode] = ExitCode.error
}

/** @since 0.1.0 @category errors */
export type SetupError =
  | OpenClawNotFound
  | UnsupportedOpenClaw
  | OpenClawCommandFailed
  | NotAnInstalledPackage
  | PluginNotLoaded
