/**
 * `qwen-auth setup-openclaw [--remove] [--dry-run] [--openclaw-bin <path>] [--json]`: registers
 * qwen-auth's plugin with the user's OpenClaw (the work is `setup/SetupOpenClaw.ts`; this file
 * parses flags and renders: people's lines on stderr, `--json` one object on stdout).
 */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import * as CliError from "effect/cli/CliError"
import { ExitCode } from "../../domain/Errors.ts"
import * as SetupOpenClaw from "../../setup/SetupOpenClaw.ts"
import { withSettings } from "../Environment.ts"
import { Exit, printJson, say } from "../Output.ts"

const flags = {
  remove: Flag.Boolean("remove").pipe(
    Flag.withDescription("Undo exactly what an earlier setup-openclaw added"),
    Flag.withDefault(false)
  ),
  dryRun: Flag.Boolean("dry-run").pipe(
    Flag.withDescription("Say what would change; write nothing (runs only `openclaw --version` and `plugins list`)"),
    Flag.withDefault(false)
  ),
  openclawBin: Flag.String("openclaw-bin").pipe(
    Flag.withDescription("The OpenClaw executable (env OPENCLAW_BIN; default `openclaw` on PATH)"),
    Flag.optional
  ),
  json: Flag.Boolean("json").pipe(Flag.withDescription("Print one JSON object"), Flag.withDefault(false))
}

const render = (result: SetupOpenClaw.SetupResult, options: { readonly remove: boolean; readonly dryRun: boolean }) =>
  Effect.gen(function*() {
    const release = result.openclawVersion === null ? "" : ` for OpenClaw ${result.openclawVersion} (${result.method})`
    if (result.changed.length === 0) {
      yield* say(options.remove
        ? `Nothing to remove: setup-openclaw has not set up this OpenClaw${release}.`
        : `Nothing to do: qwen-auth's plugin is already set up${release}.`)
    } else {
      const head = options.dryRun
        ? `Would ${options.remove ? "undo the setup" : "set up qwen-auth's plugin"}${release}:`
        : options.remove
        ? `Undid the setup${release}:`
        : `Set up qwen-auth's plugin${release}:`
      yield* say([head, ...result.changed.map((c) => `  ${c}`)].join("\n"))
    }
    if (!options.remove && !options.dryRun) {
      if (result.pluginLoaded) yield* say("OpenClaw loads qwen-auth's plugin (qwen-portal-auth, provider qwen-portal).")
      if (result.pluginLoaded && result.changed.length > 0) {
        yield* say("Restart the OpenClaw gateway, then log in: `openclaw models auth login --provider qwen-portal` (or `qwen-auth login`).")
      }
    }
    for (const w of result.warnings) yield* say(`warning: ${w}`)
  })

export const setupOpenclaw = Command.make("setup-openclaw", flags, ({ dryRun, json, openclawBin, remove }) =>
  Effect.gen(function*() {
    const result = yield* SetupOpenClaw.run({
      remove,
      dryRun,
      openclawBin: Option.getOrUndefined(openclawBin),
      env: process.env
    })
    if (json) {
      yield* printJson({
        openclawVersion: result.openclawVersion,
        method: result.method,
        changed: result.changed,
        pluginLoaded: result.pluginLoaded,
        warnings: result.warnings,
        ...(result.notLoaded !== undefined ? { error: { tag: result.notLoaded._tag, message: result.notLoaded.message } } : {})
      })
    } else {
      yield* render(result, { remove, dryRun })
    }
    if (result.notLoaded !== undefined) {
      if (!json) yield* say(`qwen-auth: ${CliError.getUserMessage(result.notLoaded) ?? result.notLoaded.message}`)
      return yield* Effect.fail(new Exit(ExitCode.error))
    }
  }).pipe(withSettings)
).pipe(
  Command.withDescription("Register qwen-auth's plugin with OpenClaw (load path on 2026.3.24, plugins install later)"),
  Command.withExamples([
    { command: "qwen-auth setup-openclaw", description: "Set up the plugin for the `openclaw` on PATH" },
    { command: "qwen-auth setup-openclaw --dry-run", description: "Show what it would change" },
    { command: "qwen-auth setup-openclaw --remove", description: "Undo exactly what it added" }
  ])
)
