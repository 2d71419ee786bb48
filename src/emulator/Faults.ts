/**
 * Fault injection for the emulator: a seeded PRNG decides, request by request, whether an OAuth or
 * API request gets a fault and which one. The same seed and the same request order give the same
 * faults, so a failing run can be replayed with `--seed`.
 *
 * @since 0.1.0
 */
import { randomInt } from "node:crypto"
import { activeFaults, type EmulatorConfig, type FaultKind } from "./EmulatorConfig.ts"

/** @since 0.1.0 @category models */
export interface FaultPlan {
  readonly seed: string
  /** Draws the fate of one request; `undefined` = serve it normally. */
  readonly decide: () => FaultKind | undefined
}

/** FNV-1a over the seed text, so any string is a seed. */
const hashSeed = (seed: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/**
 * mulberry32: tiny, fast and good enough to spread faults; not for secrets.
 *
 * @since 0.1.0
 * @category constructors
 */
export const prng = (seed: string): () => number => {
  let a = hashSeed(seed)
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A fresh seed when none is given (printed so the run can be replayed). */
export const randomSeed = (): string => String(randomInt(1, 2 ** 31))

/** @since 0.1.0 @category constructors */
export const makeFaultPlan = (config: EmulatorConfig): FaultPlan => {
  const seed = config.seed ?? randomSeed()
  const kinds = activeFaults(config)
  const next = prng(seed)
  return {
    seed,
    decide: () => {
      if (kinds.length === 0) return undefined
      // Two draws per request whatever the outcome, so the sequence depends only on the count.
      const hit = next() < config.faultRate
      const pick = kinds[Math.floor(next() * kinds.length)]
      return hit ? pick : undefined
    }
  }
}
