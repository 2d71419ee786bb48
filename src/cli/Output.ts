/**
 * What the CLI prints: results on stdout, people's messages on stderr; `--json` gets exactly one
 * JSON object on stdout, also on failure (cli-contract.md "Output"). Everything goes through
 * `safeConsole`, so no control, escape or bidi character from a server or a file reaches the
 * terminal, whichever message or log line carries it.
 */
import { Cause, Console, Effect, Runtime } from "effect"
import * as CliError from "effect/cli/CliError"
import { ExitCode } from "../domain/Errors.ts"
import { escapeControlsKeepingNewlines } from "../domain/Sanitize.ts"

const clean = (arg: unknown) => (typeof arg === "string" ? escapeControlsKeepingNewlines(arg) : arg)

/**
 * The process console with every string argument sanitised (`\n` kept, every other unsafe
 * character as `\uXXXX`). Provided around the whole CLI, so `say`, `printJson`, `Console.log` and
 * the logger (which writes through the console) are all covered at this one edge. The login
 * spinner's own escape codes are written to stderr directly, not through it.
 */
export const safeConsole: Console.Console = new Proxy(globalThis.console, {
  get: (target, key, receiver) => {
    const value = Reflect.get(target, key, receiver)
    return typeof value === "function"
      ? (...args: Array<unknown>) => value.apply(target, args.map(clean))
      : value
  }
})

/** Runs `self` with `safeConsole` (the CLI's entry points wrap their whole program in it). */
export const withSafeConsole = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.provideService(self, Console.Console, safeConsole)

/** Prints one JSON object on stdout. */
export const printJson = (value: unknown) => Console.log(JSON.stringify(value, null, 2))

/** A line for people, on stderr. */
export const say = (line: string) => Console.error(line)

/** Marks the end of a failed run: its exit code, already reported. */
export class Exit extends Error {
  override readonly [Runtime.errorExitCode]: number
  override readonly [Runtime.errorReported] = false
  constructor(code: number) {
    super(`exit ${code}`)
    this[Runtime.errorExitCode] = code
  }
}

const exitCodeOf = (error: unknown): number => {
  if (typeof error === "object" && error !== null && Runtime.errorExitCode in error) {
    const code = (error as Record<PropertyKey, unknown>)[Runtime.errorExitCode]
    if (typeof code === "number") return code
  }
  return ExitCode.error
}

const tagOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string"
    ? error._tag
    : "Error"

// One line for JSON consumers, keeping the "what to do" part of a two-line message.
const oneLine = (s: string) => s.split("\n").map((l) => l.trim()).filter((l) => l !== "").join(" ")

const usageMessage = (error: CliError.CliError): string => {
  if (error._tag === "ShowHelp") {
    return error.errors.map((e) => e.message).join("\n") || "missing command"
  }
  return error.message
}

/**
 * Renders a failed run and turns it into an exit code: usage errors → 2 with a short stderr
 * message, typed errors → their user message and exit code, `--json` → an error object, defects
 * → one line (the stack only with --verbose).
 */
export const renderFailure = (options: { readonly json: boolean; readonly verbose: boolean }) =>
<A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, Exit, R> =>
  Effect.catchCause(self, (cause) =>
    Effect.gen(function*() {
      if (Cause.hasInterruptsOnly(cause)) return yield* Effect.interrupt
      const failure = cause.reasons.find(Cause.isFailReason)
      if (failure !== undefined) {
        const error: unknown = failure.error
        if (error instanceof Exit) return yield* Effect.fail(error)
        if (CliError.isCliError(error) && error._tag !== "UserError") {
          const message = usageMessage(error)
          if (options.json) yield* printJson({ error: { tag: "UsageError", message } })
          yield* say(`qwen-auth: ${message}\nRun \`qwen-auth --help\` for usage.`)
          return yield* Effect.fail(new Exit(ExitCode.usage))
        }
        const userMessage = (typeof error === "object" && error !== null ? CliError.getUserMessage(error) : undefined) ?? (error instanceof Error ? error.message : String(error))
        if (options.json) yield* printJson({ error: { tag: tagOf(error), message: oneLine(userMessage) } })
        yield* say(`qwen-auth: ${userMessage}`)
        return yield* Effect.fail(new Exit(exitCodeOf(error)))
      }
      const defect = Cause.squash(cause)
      const text = defect instanceof Error ? defect.message : String(defect)
      if (options.json) yield* printJson({ error: { tag: "InternalError", message: text } })
      yield* say(`qwen-auth: internal error: ${text}${options.verbose ? `\n${Cause.pretty(cause)}` : ""}`)
      return yield* Effect.fail(new Exit(ExitCode.error))
    }))
