/**
 * `qwen-auth token [--json]` as an effect/cli command (see `TokenPrint.ts` for what it does).
 */
import { Command, Flag } from "effect/cli"
import { withStore } from "../Environment.ts"
import { printToken } from "./TokenPrint.ts"

const json = Flag.Boolean("json").pipe(
  Flag.withDescription("Print {accessToken, expiresAt, baseUrl} as JSON"),
  Flag.withDefault(false)
)

export const token = Command.make("token", { json }, ({ json }) => printToken(json).pipe(withStore)).pipe(
  Command.withDescription("Print a valid access token on stdout (refreshing it first when due)")
)
