/**
 * What `login` shows while it waits for approval (cli-contract.md `login`): on a terminal, a
 * spinner with a countdown on one rewritten line; otherwise plain lines only (no escape codes),
 * one when waiting starts and one per slow-down or connection problem.
 */
import { Clock, Duration, Effect, Fiber, Ref, type Scope, Stdio, Stream } from "effect"
import type { PollProgress } from "../login/Poller.ts"
import { escapeControls } from "../domain/Sanitize.ts"
import { say } from "./Output.ts"

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]
const TICK = Duration.millis(120)
const CLEAR_LINE = "\r\u001b[2K"

/** `m:ss` for a countdown. */
export const clockText = (ms: number): string => {
  const s = Math.max(0, Math.ceil(ms / 1000))
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`
}

/** The line for one progress report, without the spinner frame. */
export const waitingText = (p: PollProgress, nowMs: number): string =>
  `Waiting for approval… code expires in ${clockText(p.deadlineAtMs - nowMs)}` +
  (p.nextPollAtMs !== undefined ? `, next check in ${Math.max(0, Math.ceil((p.nextPollAtMs - nowMs) / 1000))} s` : "")

/** A line worth keeping in the scrollback (slow-down, connection trouble), or undefined. */
export const eventLine = (p: PollProgress): string | undefined => {
  const next = p.nextPollAtMs !== undefined ? Math.max(0, Math.ceil((p.nextPollAtMs - p.nowMs) / 1000)) : undefined
  if (p.last === "slow_down") {
    return `Qwen asked to poll more slowly; now every ${p.intervalSeconds} s` +
      (next !== undefined && next > p.intervalSeconds ? ` (next check in ${next} s).` : ".")
  }
  if (p.last === "transient" && p.fault !== undefined && next !== undefined) {
    // On a terminal this line is written past the safe console (next to the spinner's codes).
    return `Warning: ${escapeControls(p.fault.message)}; retrying in ${next} s.`
  }
  return undefined
}

export interface LoginProgress {
  readonly onProgress: (progress: PollProgress) => Effect.Effect<void>
  /** Removes the spinner line (call before printing the result). */
  readonly stop: Effect.Effect<void>
}

/**
 * The progress display for a terminal (`tty`) or a pipe. The spinner runs in the given scope
 * and is stopped, and its line cleared, when the scope closes (also on Ctrl-C).
 */
export const makeLoginProgress = (tty: boolean): Effect.Effect<LoginProgress, never, Stdio.Stdio | Scope.Scope> =>
  Effect.gen(function*() {
    if (!tty) {
      return {
        onProgress: (p) => {
          if (p.last === "start") return say("Waiting for approval…")
          const line = eventLine(p)
          return line === undefined ? Effect.void : say(line)
        },
        stop: Effect.void
      } satisfies LoginProgress
    }
    const stdio = yield* Stdio.Stdio
    const write = (text: string) => Stream.run(Stream.make(text), stdio.stderr()).pipe(Effect.ignore)
    const latest = yield* Ref.make<PollProgress | undefined>(undefined)
    let frame = 0
    const tick = Effect.gen(function*() {
      const p = yield* Ref.get(latest)
      if (p === undefined) return
      const now = yield* Clock.currentTimeMillis
      frame = (frame + 1) % FRAMES.length
      yield* write(`${CLEAR_LINE}${FRAMES[frame]} ${waitingText(p, now)}`)
    })
    const ticker = yield* tick.pipe(Effect.andThen(Effect.sleep(TICK)), Effect.forever, Effect.forkScoped)
    const stop = Effect.andThen(Fiber.interrupt(ticker), write(CLEAR_LINE))
    yield* Effect.addFinalizer(() => stop)
    return {
      onProgress: (p) =>
        Effect.gen(function*() {
          yield* Ref.set(latest, p)
          const line = eventLine(p)
          if (line !== undefined) yield* write(`${CLEAR_LINE}${line}\n`)
        }),
      stop
    } satisfies LoginProgress
  })
