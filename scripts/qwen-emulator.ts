/**
 * `npm run -s emulator -- [flags]`: the Qwen OAuth emulator as a process (emulator.md).
 *
 * The first stdout line is exactly `qwen-emulator listening on http://127.0.0.1:PORT`; the seed and
 * settings go to stderr (one line, `qwen-emulator: seed S; …`, written just before).
 * It also stops when its parent process dies. SIGINT/SIGTERM close the port and exit 0.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Console, Effect, Exit } from "effect"
import { activeFaults, startMode } from "../src/emulator/EmulatorConfig.ts"
import { Emulator } from "../src/emulator/Emulator.ts"
import { parseFlags, USAGE } from "../src/emulator/flags.ts"

const parsed = parseFlags(process.argv.slice(2))

/**
 * Completes when the process that started us is gone (we were re-parented). `npm run` does not pass
 * a SIGTERM aimed at npm on to us, so without this a killed `npm run emulator` leaves us running.
 */
const parentGone = Effect.gen(function*() {
  const parent = process.ppid
  yield* Effect.sleep("500 millis").pipe(Effect.repeat({ until: () => process.ppid !== parent }))
  yield* Console.error("qwen-emulator: parent process gone; stopping")
})

const main = Effect.gen(function*() {
  if (parsed._tag === "Help") return yield* Console.log(USAGE)
  if (parsed._tag === "Invalid") {
    yield* Console.error(`qwen-emulator: ${parsed.message}\n${USAGE}`)
    process.exitCode = 2
    return
  }
  yield* Effect.gen(function*() {
    const emulator = yield* Emulator
    const { config } = emulator
    const faults = activeFaults(config)
    yield* Console.error(
      `qwen-emulator: seed ${emulator.seed}; faults ${faults.length === 0 ? `off${config.faultRate > 0 ? " (--fault-rate without --faults: no kinds chosen)" : ""}` : `${faults.join(",")} at rate ${config.faultRate}`}; ` +
        `interval ${config.interval}s${config.noInterval ? " (not announced)" : ""}, device-code-ttl ${config.deviceCodeTtl}s, ` +
        `access-ttl ${config.accessTtl}s, quota ${config.quota}/day, rotate ${config.noRotate ? "off" : "on"}, mode ${startMode(config)}`
    )
    // After the settings line on stderr, so a reader that saw this line has seen the seed too.
    yield* Console.log(`qwen-emulator listening on ${emulator.url}`)
    return yield* parentGone
  }).pipe(
    Effect.provide(Emulator.layer(parsed.options)),
    Effect.catch((error) =>
      Effect.andThen(
        Console.error(`qwen-emulator: cannot listen on 127.0.0.1:${parsed.options.port ?? 0}: ${String(error.cause)}`),
        Effect.sync(() => {
          process.exitCode = 1
        })
      )
    )
  )
})

NodeRuntime.runMain(main, {
  // A signal interrupts the main fiber: that is a clean stop, not a failure.
  teardown: (exit, onExit) =>
    onExit(Exit.isSuccess(exit) || Cause.hasInterruptsOnly(exit.cause) ? (process.exitCode as number | undefined) ?? 0 : 1)
})
