/**
 * Runs a command's program as effect/cli's runner would — settings from the shared flags and the
 * environment, the credential store, logs on stderr, failures rendered and turned into the
 * contract's exit codes — without loading effect/cli. The fast paths (`StatusFast.ts`,
 * `TokenFast.ts`) take the plain invocations `StatusArgs.ts` accepts through it (start-up is a
 * benchmarked target, docs/benchmarks.md).
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, type FileSystem, Logger } from "effect"
import type { QwenAuthConfig } from "../Config.ts"
import { CredentialStore } from "../store/CredentialStore.ts"
import { renderFailure, withSafeConsole } from "./Output.ts"
import { commandConfigLayer, sharedFlagsOf } from "./SharedFlags.ts"
import type { PlainArgs } from "./StatusArgs.ts"

export const runPlain = <E>(
  args: PlainArgs,
  program: Effect.Effect<void, E, CredentialStore | QwenAuthConfig | FileSystem.FileSystem>
): void => {
  const main = program.pipe(
    Effect.provide(CredentialStore.layerWithLocks),
    Effect.provide(commandConfigLayer(sharedFlagsOf(args))),
    Effect.provide(NodeFileSystem.layer),
    renderFailure({ json: args.json, verbose: args.verbose }),
    Effect.provideService(Logger.LogToStderr, true),
    withSafeConsole
  )
  NodeRuntime.runMain(main, { disableErrorReporting: true })
}
