/**
 * The exit code of a run stopped by a signal. runMain interrupts the program on SIGINT/SIGTERM
 * (and Program.ts hands SIGHUP on as SIGTERM) and exits 130; a command for which a signal is
 * the normal way to end (`daemon`) marks its stop as clean once it has released everything, and
 * then the process exits 0.
 */
import { Cause, Exit, Runtime } from "effect"

let stoppedCleanly = false

/** Called by a command once it has shut down cleanly after a signal. */
export const markStoppedCleanly = (): void => {
  stoppedCleanly = true
}

/** runMain's teardown: 0 for a clean stop on a signal, otherwise the default rules. */
export const teardown: Runtime.Teardown = (exit, onExit) =>
  stoppedCleanly && Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)
    ? onExit(0)
    : Runtime.defaultTeardown(exit, onExit)
