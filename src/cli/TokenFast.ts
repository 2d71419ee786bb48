/**
 * `qwen-auth token` without effect/cli's command runner, for the invocations `StatusArgs.ts`
 * accepts: the same output, settings, logging and exit codes. Scripts call it before every
 * request (`curl -H "Authorization: Bearer $(qwen-auth token)"`), so its start-up is benchmarked
 * (docs/benchmarks.md).
 */
import { printToken } from "./commands/TokenPrint.ts"
import { runPlain } from "./PlainRun.ts"
import type { TokenArgs } from "./StatusArgs.ts"

export const run = (args: TokenArgs): void => {
  // As in Program.ts: a closed terminal (SIGHUP) must clean up like SIGTERM (a refresh or repair
  // holds the locks and may leave temp files), and a lasting listener keeps signal-exit
  // (proper-lockfile's) from re-raising the signal before the clean-up.
  process.on("SIGHUP", () => process.emit("SIGTERM", "SIGTERM"))
  runPlain(args, printToken(args.json))
}
