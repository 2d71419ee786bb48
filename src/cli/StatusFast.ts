/**
 * `qwen-auth status` without effect/cli's command runner, for the invocations `StatusArgs.ts`
 * accepts: the same report, settings, logging and exit codes, minus the ~15 ms of building and
 * running the command tree (start-up is a benchmarked target, docs/benchmarks.md).
 */
import { reportStatus } from "./commands/StatusReport.ts"
import { runPlain } from "./PlainRun.ts"
import type { StatusArgs } from "./StatusArgs.ts"

export const run = (args: StatusArgs): void => runPlain(args, reportStatus(args.json))
