/**
 * Test-only pause points (cli-contract.md "Configuration"): with `NODE_ENV=test` and
 * `QWEN_AUTH_TEST_PAUSE_AT=<phase>`, the process stops itself (SIGSTOP) at that phase so a crash
 * test can SIGKILL it exactly there. Ignored unless `NODE_ENV=test`.
 */
import { Config, Effect, Option } from "effect"
import { writeSync } from "node:fs"

/** Every phase a test may stop at. */
export const PAUSE_PHASES = [
  "atomic-write:before-rename",
  "lock:qwen-code:held",
  "lock:openclaw:held"
] as const

/** A named pause point. */
export type PausePhase = (typeof PAUSE_PHASES)[number]

/** The line written to stderr just before stopping, so a test knows the child got there. */
export const pausedMarker = (phase: PausePhase) => `QWEN_AUTH_PAUSED ${phase}`

const settings = Config.all({
  nodeEnv: Config.option(Config.String("NODE_ENV")),
  pauseAt: Config.option(Config.String("QWEN_AUTH_TEST_PAUSE_AT"))
})

/** Stops the process at `phase` when the test environment asks for it; otherwise does nothing. */
export const pauseAt = (phase: PausePhase): Effect.Effect<void> =>
  settings.pipe(
    Effect.orElseSucceed(() => ({ nodeEnv: Option.none<string>(), pauseAt: Option.none<string>() })),
    Effect.flatMap(({ nodeEnv, pauseAt }) =>
      Option.getOrUndefined(nodeEnv) === "test" && Option.getOrUndefined(pauseAt) === phase
        ? Effect.sync(() => {
          // Synchronous write: the marker must be out before the process stops.
          writeSync(2, `${pausedMarker(phase)}\n`)
          process.kill(process.pid, "SIGSTOP")
        })
        : Effect.void
    )
  )
