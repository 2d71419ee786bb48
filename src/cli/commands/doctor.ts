/**
 * `qwen-auth doctor [--json]`: renders the checks of `src/doctor/Doctor.ts`, one line each, with
 * the one next step of every problem. `--json` prints the report at every exit code: 0 when no
 * check found a problem, 4 when every problem is `login-required`, else 1.
 */
import { Console, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { type CheckResult, type DoctorReport, exitCodeOf, runDoctor } from "../../doctor/Doctor.ts"
import { withStore } from "../Environment.ts"
import { Exit, printJson } from "../Output.ts"
import { processIsAlive } from "../ProcessAlive.ts"

const json = Flag.Boolean("json").pipe(Flag.withDescription("Print one JSON object"), Flag.withDefault(false))

const ID_WIDTH = "oauth-server".length

const line = (c: CheckResult): string => {
  const head = `${c.status.padEnd(8)} ${c.id.padEnd(ID_WIDTH)}  `
  if (c.status !== "problem") return `${head}${c.detail}`
  const indent = " ".repeat(head.length)
  return `${head}${c.cause}: ${c.detail}\n${indent}next: ${c.next}`
}

const render = (report: DoctorReport): string => {
  const problems = report.checks.filter((c) => c.status === "problem").length
  return [
    ...report.checks.map(line),
    problems === 0 ? "No problems found." : `${problems} problem(s) found.`
  ].join("\n")
}

export const doctor = Command.make("doctor", { json }, ({ json }) =>
  Effect.gen(function*() {
    const report = yield* runDoctor(process.env, processIsAlive)
    yield* json ? printJson(report) : Console.log(render(report))
    const code = exitCodeOf(report.checks)
    if (code !== 0) return yield* Effect.fail(new Exit(code))
  }).pipe(withStore)).pipe(
    Command.withDescription("Check the files, the OAuth server, the API, OpenClaw and Qwen Code; name each problem's cause and next step")
  )
