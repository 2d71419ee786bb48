/**
 * Burst at expiry: 10,000 concurrent `get`s on credentials inside the mandatory window (30 s
 * left), against the emulator process. Exactly one refresh request may reach it; all callers get
 * the new token. Time from building the layer (as an embedder starting up would) until every
 * `get` is served, against one bare `TokenEndpoint.refresh` on a fresh HTTP client.
 */
import { Effect, ManagedRuntime, Redacted } from "effect"
import { resolveSettings } from "../../src/Config.ts"
import * as HttpClientLayer from "../../src/internal/HttpClientLayer.ts"
import * as TokenEndpoint from "../../src/oauth/TokenEndpoint.ts"
import { login, startEmulatorProcess } from "../../test/support/emulator.ts"
import { homeWith } from "./home.ts"
import { getToken, qwenAuthLayer } from "./layer.ts"
import { type Row, summarize } from "./stats.ts"

type Emu = Awaited<ReturnType<typeof startEmulatorProcess>>

const bareRefresh = async (emu: Emu): Promise<number> => {
  const tokens = await login(emu)
  const program = Effect.gen(function*() {
    const settings = yield* resolveSettings({ oauthBaseUrl: emu.url })
    const start = performance.now()
    yield* TokenEndpoint.refresh(settings, Redacted.make(tokens.refresh_token))
    return performance.now() - start
  })
  return Effect.runPromise(program.pipe(Effect.provide(HttpClientLayer.layer)))
}

interface Trial {
  readonly ms: number
  readonly refreshRequests: number
  readonly problems: ReadonlyArray<string>
}

const burst = async (emu: Emu, callers: number): Promise<Trial> => {
  const tokens = await login(emu)
  const home = homeWith(tokens, Date.now() + 10_000)
  const before = (await emu.stats()).refreshRequests
  const start = performance.now()
  const runtime = ManagedRuntime.make(qwenAuthLayer(home.path, emu.url))
  try {
    const results = await runtime.runPromise(
      Effect.forEach(Array.from({ length: callers }), () => getToken, { concurrency: "unbounded" })
    )
    const ms = performance.now() - start
    const problems: Array<string> = []
    const served = new Set(results.map((t) => Redacted.value(t.accessToken)))
    if (served.size !== 1) problems.push(`${served.size} different tokens served`)
    if (served.has(tokens.access_token)) problems.push("served the token about to expire")
    return { ms, refreshRequests: (await emu.stats()).refreshRequests - before, problems }
  } finally {
    await runtime.dispose()
    home.cleanup()
  }
}

export const burstRows = async (options: { readonly runs: number; readonly callers: number }): Promise<Array<Row>> => {
  const emu = await startEmulatorProcess([])
  try {
    await bareRefresh(emu) // warm-up
    await burst(emu, options.callers)
    const bare: Array<number> = []
    const single: Array<Trial> = []
    const trials: Array<Trial> = []
    for (let i = 0; i < options.runs; i++) {
      bare.push(await bareRefresh(emu))
      single.push(await burst(emu, 1))
      trials.push(await burst(emu, options.callers))
    }
    const base = summarize(bare)
    const ok = trials.every((t) => t.refreshRequests === 1 && t.problems.length === 0)
    const problems = [...new Set(trials.flatMap((t) => t.problems))]
    return [
      { name: "one bare `TokenEndpoint.refresh` (fresh HTTP client)", unit: "ms", summary: base, target: "baseline", verdict: "—" },
      {
        name: "1 `get` in the mandatory window (layer start, refresh, file writes under the locks)",
        unit: "ms",
        summary: summarize(single.map((t) => t.ms)),
        baseline: { name: "bare refresh", median: base.median },
        target: "— (for comparison)",
        verdict: "—"
      },
      {
        name: `${options.callers.toLocaleString("en-US")} concurrent \`get\`s in the mandatory window, until all served`,
        unit: "ms",
        summary: summarize(trials.map((t) => t.ms)),
        baseline: { name: "bare refresh", median: base.median },
        target: "refresh requests = 1",
        verdict: ok ? "met" : "MISSED",
        notes: [
          `burst: refresh requests per trial [${trials.map((t) => t.refreshRequests).join(", ")}]` +
          (problems.length === 0 ? `, every caller got the new token` : `; problems: ${problems.join("; ")}`)
        ]
      }
    ]
  } finally {
    await emu.stop()
  }
}
