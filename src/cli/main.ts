import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { VERSION } from "../internal/version.ts"

const root = Command.make("qwen-auth").pipe(
  Command.withDescription("Log in to Qwen (device code + PKCE) for OpenClaw and Qwen Code")
)

Command.run(root, { version: VERSION }).pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
