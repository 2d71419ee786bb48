/**
 * `qwen-auth status` without effect/cli's command runner, for the invocations `StatusArgs.ts`
 * accepts: the same report, settings, logging and exit codes, minus the ~15 ms of building and
 * running the command tree (start-up is a benchmarked target, docs/benchmarks.md).
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Logger, Option } from "effect"
import { CredentialStore } from "../store/CredentialStore.ts"
import { reportStatus } from "./commands/StatusReport.ts"
import { renderFailure, withSafeConsole } from "./Output.ts"
import { commandConfigLayer, type SharedFlags } from "./SharedFlags.ts"
import type { StatusArgs } from "./StatusArgs.ts"

export const run = (args: StatusArgs): void => {
  const o = Option.fromUndefinedOr
  const flags: SharedFlags = {
    oauthBaseUrl: o(args.strings.oauthBaseUrl),
    clientId: o(args.strings.clientId),
    scope: o(args.strings.scope),
    refreshMargin: o(args.refreshMargin),
    qwenHome: o(args.strings.qwenHome),
    openclawStateDir: o(args.strings.openclawStateDir),
    openclawConfig: o(args.strings.openclawConfig),
    openclawAgentDir: o(args.strings.openclawAgentDir),
    qwenCodeSync: o(args.qwenCodeSync),
    verbose: args.verbose
  }
  const program = reportStatus(args.json).pipe(
    Effect.provide(CredentialStore.layerWithLocks),
    Effect.provide(commandConfigLayer(flags)),
    Effect.provide(NodeFileSystem.layer),
    renderFailure({ json: args.json, verbose: args.verbose }),
    Effect.provideService(Logger.LogToStderr, true),
    withSafeConsole
  )
  NodeRuntime.runMain(program, { disableErrorReporting: true })
}
