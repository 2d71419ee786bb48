/**
 * Seeds and sizes of the reliability suite. Every random choice comes from a printed seed
 * (`QWEN_AUTH_TEST_SEED` replays one); `SOAK=1` raises the iteration counts (soak files run only
 * under `npm run test:reliability`).
 */
import { randomInt } from "node:crypto"
import { prng } from "../../../src/emulator/Faults.ts"

/** True under `SOAK=1`: the long variants. */
export const SOAK = process.env.SOAK === "1"

/** `fast` in `npm test`, `soak` under SOAK=1. */
export const scale = (fast: number, soak: number): number => (SOAK ? soak : fast)

/** A seeded random source for one test; the seed is printed so a failure can be replayed. */
export interface Rng {
  readonly seed: string
  /** Uniform in [0, 1). */
  next(): number
  /** Integer in [min, max]. */
  int(min: number, max: number): number
  pick<A>(items: ReadonlyArray<A>): A
}

export const seeded = (name: string): Rng => {
  const seed = process.env.QWEN_AUTH_TEST_SEED?.trim() || String(randomInt(1, 2 ** 31))
  process.stdout.write(`[reliability] ${name}: seed ${seed} (replay with QWEN_AUTH_TEST_SEED=${seed})\n`)
  const next = prng(`${name}:${seed}`)
  return {
    seed,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!
  }
}

/** A fast-check seed (a 32-bit integer) derived from the printed seed. */
export const fastCheckSeed = (rng: Rng): number => Math.floor(rng.next() * 2 ** 31)

/** One line of measured numbers, printed and kept for docs/reliability.md. */
export const report = (name: string, numbers: Record<string, unknown>) =>
  process.stdout.write(`[reliability] ${name}: ${JSON.stringify(numbers)}\n`)
