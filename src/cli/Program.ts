/**
 * The CLI proper: parses arguments with effect/cli, renders failures as cli-contract.md says
 * (usage errors exit 2 with a short stderr message; `--json` failures print an error object) and
 * exits with the contract's codes. `main.ts` loads it together with the subcommands a run needs.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Console, Effect, Layer, Logger } from "effect"
import { CliConfig, CliOutput, Command, GlobalFlag } from "effect/cli"
import * as CliError from "effect/cli/CliError"
import { VERSION } from "../internal/version.ts"
import { teardown } from "./CleanStop.ts"
import type { Subcommand } from "./Commands.ts"
import { renderFailure, withSafeConsole } from "./Output.ts"
import { Root } from "./Root.ts"

/** Runs `qwen-auth` with the given subcommands registered, then exits the process. */
export const run = (subcommands: ReadonlyArray<Subcommand>, args: ReadonlyArray<string>): void => {
  const cli = Root.pipe(Command.withSubcommands(subcommands))
  const has = (flag: string) => args.includes(flag)

  // effect/cli shows help on stdout for any invalid invocation; we only want it when asked for
  // (or for a bare command), and a short message on stderr otherwise.
  let implicitHelp: string | undefined
  const presenter: CliOutput.Presenter = {
    present: (event) =>
      event._tag === "Help" && event.reason === "Implicit"
        ? Effect.gen(function*() {
          const formatter = yield* CliOutput.Formatter
          implicitHelp = formatter.formatHelpDoc(event.helpDoc)
        })
        : CliOutput.defaultPresenter.present(event)
  }

  const program = Command.run(cli, { version: VERSION, renderErrors: false }).pipe(
    Effect.catchIf(
      (e): e is CliError.ShowHelp => CliError.isCliError(e) && e._tag === "ShowHelp" && e.errors.length === 0,
      () => Console.log(implicitHelp ?? "")
    ),
    renderFailure({ json: has("--json"), verbose: has("--verbose") }),
    Effect.provide(Layer.mergeAll(
      NodeServices.layer,
      CliOutput.layerPresenter(presenter),
      // Only --help and --version: the wizard would prompt (the contract: never without a TTY),
      // and --log-level would compete with --verbose / QWEN_AUTH_LOG_LEVEL.
      CliConfig.layer({ builtIns: [GlobalFlag.Help, GlobalFlag.Version] })
    )),
    Effect.provideService(CliOutput.Formatter, CliOutput.defaultFormatter({ colors: false })),
    // stdout carries results (--json, the token): every log line goes to stderr, from the start.
    Effect.provideService(Logger.LogToStderr, true),
    withSafeConsole
  )

  // A closed terminal (SIGHUP) must clean up like SIGTERM: release the locks, remove temp files.
  // runMain interrupts the program on SIGINT/SIGTERM only, so SIGHUP is handed on as SIGTERM. A
  // lasting listener (not `once`): signal-exit (proper-lockfile's) re-raises a signal that has no
  // other listener left, which would kill the process before the clean-up.
  process.on("SIGHUP", () => process.emit("SIGTERM", "SIGTERM"))
  NodeRuntime.runMain(program, { disableErrorReporting: true, teardown })
}
