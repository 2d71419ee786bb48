/**
 * `npm run bench`: start-up, hot path, burst at expiry and processes at expiry, as one table
 * (docs/benchmarks.md keeps the targets and a run). Needs a build (`npm run build`): it measures
 * the shipped `dist/cli.js`. `--quick` runs fewer repetitions (a smoke run, not for the docs);
 * `--only <section>` runs the sections whose name contains it (e.g. `--only start-up`).
 */
import { burstRows } from "./bench/burst.ts"
import { daemonIdleRows, daemonLeakRows } from "./bench/daemon.ts"
import { hotPathRows } from "./bench/hotPath.ts"
import { machine } from "./bench/machine.ts"
import { processRows } from "./bench/processes.ts"
import { snapshotCli } from "./bench/snapshot.ts"
import { startupRows } from "./bench/startup.ts"
import { type Row, table } from "./bench/stats.ts"

// The SQLite-store home is written with node:sqlite, which warns once that it is experimental.
process.removeAllListeners("warning")
process.on("warning", (w) => {
  if (!(w.name === "ExperimentalWarning" && /SQLite/i.test(w.message))) console.error(`${w.name}: ${w.message}`)
})

const quick = process.argv.includes("--quick")
const onlyAt = process.argv.indexOf("--only")
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined

const cli = snapshotCli()

const sections: Array<[string, () => Promise<Array<Row>>]> = [
  ["start-up", () => startupRows(cli.cliPath, quick ? { runs: 5, warmup: 2, rssRuns: 2 } : { runs: 21, warmup: 3, rssRuns: 5 })],
  ["hot path", () => hotPathRows(quick ? { runs: 3, runMs: 200 } : { runs: 7, runMs: 500 })],
  ["burst at expiry", () => burstRows(quick ? { runs: 3, callers: 10_000 } : { runs: 9, callers: 10_000 })],
  ["processes at expiry", () => processRows(cli.cliPath, { counts: [8, 32], repeats: quick ? 1 : 5 })],
  ["daemon idle", () => daemonIdleRows(cli.cliPath, quick ? { runs: 1, idleMs: 10_000 } : { runs: 3, idleMs: 60_000 })],
  ["daemon leak", () => daemonLeakRows({ checkpoints: quick ? [200, 2_000] : [1_000, 10_000] })]
]

const started = performance.now()
const rows: Array<Row> = []
try {
  for (const [name, run] of sections.filter(([name]) => only === undefined || name.includes(only))) {
    const t = performance.now()
    rows.push(...(await run()))
    process.stderr.write(`bench: ${name} done in ${((performance.now() - t) / 1000).toFixed(1)} s\n`)
  }
} finally {
  cli.cleanup()
}

const notes = rows.flatMap((r) => r.notes ?? [])
process.stdout.write([
  `Machine: ${machine()}`,
  "",
  table(rows),
  "",
  ...notes.map((n) => `- ${n}`),
  "",
  `Total: ${((performance.now() - started) / 1000).toFixed(0)} s${quick ? " (--quick)" : ""}`,
  ""
].join("\n"))
if (rows.some((r) => r.verdict === "MISSED")) process.exitCode = 1
