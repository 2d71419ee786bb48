/**
 * Hot path: `TokenManager.get` on a fresh token (no I/O: the actor answers from memory), counted
 * for a fixed time as `yield*` in a loop inside one fiber, and as one `runPromise` per call
 * through a `ManagedRuntime` (what a Promise-based embedder pays per call).
 */
import { Effect, ManagedRuntime } from "effect"
import { TokenManager } from "../../src/token/TokenManager.ts"
import { HOUR_MS, homeWith } from "./home.ts"
import { getToken, qwenAuthLayer } from "./layer.ts"
import { type Row, summarize } from "./stats.ts"

const TARGET_IN_FIBER = 1_000_000

export const hotPathRows = async (options: { readonly runs: number; readonly runMs: number }): Promise<Array<Row>> => {
  const home = homeWith({ access_token: "bench-access-token", refresh_token: "bench-refresh-token", resource_url: "portal.qwen.ai" }, Date.now() + 6 * HOUR_MS)
  // The OAuth server is never contacted: the token is hours from expiry.
  const runtime = ManagedRuntime.make(qwenAuthLayer(home.path, "http://127.0.0.1:9"))
  try {
    const first = await runtime.runPromise(getToken)
    if (first.expiresAt < Date.now()) throw new Error("hot path: the token is not fresh")

    const inFiber = Effect.gen(function*() {
      const tm = yield* TokenManager
      const start = performance.now()
      const end = start + options.runMs
      let n = 0
      while (performance.now() < end) {
        for (let i = 0; i < 1_000; i++) yield* tm.get
        n += 1_000
      }
      return n / ((performance.now() - start) / 1000)
    })
    const perPromise = async () => {
      const start = performance.now()
      const end = start + options.runMs
      let n = 0
      while (performance.now() < end) {
        for (let i = 0; i < 100; i++) await runtime.runPromise(getToken)
        n += 100
      }
      return n / ((performance.now() - start) / 1000)
    }

    await runtime.runPromise(inFiber) // warm-up (JIT)
    await perPromise()
    const fiberRates: Array<number> = []
    const promiseRates: Array<number> = []
    for (let i = 0; i < options.runs; i++) {
      fiberRates.push(await runtime.runPromise(inFiber))
      promiseRates.push(await perPromise())
    }
    const fiber = summarize(fiberRates)
    return [
      {
        name: "`TokenManager.get`, fresh token, `yield*` in one fiber",
        unit: "gets/s",
        summary: fiber,
        target: `≥ ${TARGET_IN_FIBER.toLocaleString("en-US")}/s`,
        verdict: fiber.median >= TARGET_IN_FIBER ? "met" : "MISSED"
      },
      {
        name: "`TokenManager.get`, fresh token, one `ManagedRuntime.runPromise` per call",
        unit: "gets/s",
        summary: summarize(promiseRates),
        target: "— (for comparison)",
        verdict: "—"
      }
    ]
  } finally {
    await runtime.dispose()
    home.cleanup()
  }
}
