/**
 * Test-only pause points (cli-contract.md "Configuration"): with `NODE_ENV=test` and
 * `QWEN_AUTH_TEST_PAUSE_AT=<phase>`, the process stops itself (SIGSTOP) at that phase so a crash
 * test can SIGKILL it exactly there. Ignored unless `NODE_ENV=test`.
 * `QWEN_AUTH_TEST_PAUSE_SKIP=<n>` passes the phase's first n occurrences (e.g. to stop at the
 * third atomic write of a refresh rather than the first).
 */
import { Config, Effect, Option } from "effect"
import { writeSync } from "node:fs"

/** Every phase a test may stop at. */
export const PAUSE_PHASES = [
  "atomic-write:after-temp-write",
  "atomic-write:before-rename",
  "lock:qwen-code:held",
  "lock:openclaw:held",
  "refresh:after-post"
] as const

/** A named pause point. */
export type PausePhase = (typeof PAUSE_PHASES)[number]

/** The line written to stderr just before stopping, so a test knows the child got there. */
export const pausedMarker = (phase: PausePhase) => `QWEN_AUTH_PAUSED ${phase}`

const settings = Config.all({
  nodeEnv: Config.option(Config.String("NODE_ENV")),
  pauseAt: Config.option(Config.String("QWEN_AUTH_TEST_PAUSE_AT")),
  skip: Config.option(Config.String("QWEN_AUTH_TEST_PAUSE_SKIP"))
})

/** Occurrences of each phase so far in this process (only counted for the phase asked for). */
const seen = new Map<PausePhase, number>()

/** Stops the process at `phase` when the test environment asks for it; otherwise does nothing. */
export const pauseAt = (phase: PausePhase): Effect.Effect<void> =>
  settings.pipe(
    Effect.orElseSucceed(() => ({ nodeEnv: Option.none<string>(), pauseAt: Option.none<string>(), skip: Option.none<string>() })),
    Effect.flatMap(({ nodeEnv, pauseAt, skip }) =>
      Option.getOrUndefined(nodeEnv) === "test" && Option.getOrUndefined(pauseAt) === phase
        ? Effect.sync(() => {
          const count = (seen.get(phase) ?? 0) + 1
          seen.set(phase, count)
          if (count <= Number(Option.getOrUndefined(skip) ?? 0)) return
          // Synchronous write: the marker must be out before the process stops.
          writeSync(2, `${pausedMarker(phase)}\n`)
          process.kill(process.pid, "SIGSTOP")
        })
        : Effect.void
    )
  )
