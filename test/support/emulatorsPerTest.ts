/**
 * In-process emulators for one test file, closed after each test (kept out of support/emulator.ts,
 * which the benchmarks import outside vitest).
 */
import { afterEach } from "vitest"
import type { EmulatorOptions } from "../../src/emulator/EmulatorConfig.ts"
import { type InProcessEmulator, startEmulator } from "./emulator.ts"

/** A starter (polling interval 0 unless given). Call it at the top level of a test file. */
export const emulatorsPerTest = (): ((options?: EmulatorOptions) => Promise<InProcessEmulator>) => {
  let started: Array<InProcessEmulator> = []
  afterEach(async () => {
    await Promise.all(started.map((e) => e.close()))
    started = []
  })
  return async (options = {}) => {
    const e = await startEmulator({ interval: 0, ...options })
    started.push(e)
    return e
  }
}
