/**
 * `qwen-auth status [--json]` as an effect/cli command (see `StatusReport.ts` for what it does).
 */
import { Command, Flag } from "effect/cli"
import { withStore } from "../Environment.ts"
import { reportStatus } from "./StatusReport.ts"

export { stateOf, type StatusState } from "./StatusReport.ts"

const json = Flag.Boolean("json").pipe(Flag.withDescription("Print one JSON object"), Flag.withDefault(false))

export const status = Command.make("status", { json }, ({ json }) => reportStatus(json).pipe(withStore)).pipe(
  Command.withDescription("Show whether you are logged in, until when, and the state of every file")
)
