/**
 * CLI start-up: `qwen-auth status --json` and `qwen-auth token` (a fresh token, every copy in
 * agreement: nothing to write, no request) in two homes — OpenClaw's JSON store and its SQLite
 * store (2026.9.6), both with a daemon record (startupHomes.ts) — with Node's compile cache warm
 * (as shipped: from a user's second run on) and off (a first run, for information), against bare
 * `node -e 0` run by the same Node binary in the same rounds (runs interleaved, so machine noise
 * hits all alike). Plus `--version` and peak RSS.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { nodeBin, scrubbedEnv } from "../../test/support/processes.ts"
import { type BenchHome, startupHomes } from "./startupHomes.ts"
import { runTimed } from "./spawn.ts"
import { type Row, ratioVerdict, summarize } from "./stats.ts"

interface Variant {
  readonly key: string
  readonly name: string
  readonly args: ReadonlyArray<string>
  readonly home?: BenchHome
  readonly cacheOff?: boolean
  /** Judged against the targets (warm runs); the others are for information. */
  readonly judged: boolean
}

/** Peak RSS target (MB) of the judged commands. */
export const RSS_TARGET_MB = 60

/** Peak RSS in MB: GNU time's %M when installed, else the child's own maxRSS reported at exit. */
const peakRssMb = async (args: ReadonlyArray<string>, env: Record<string, string>): Promise<number> => {
  const dir = mkdtempSync(join(tmpdir(), "qwen-auth-bench-rss-"))
  const out = join(dir, "rss")
  try {
    if (existsSync("/usr/bin/time")) {
      await runTimed("/usr/bin/time", ["-f", "%M", "-o", out, nodeBin, ...args], env)
    } else {
      const preload = "data:text/javascript,import{writeFileSync}from'node:fs';" +
        "process.on('exit',()=>writeFileSync(process.env.BENCH_RSS_FILE,String(process.resourceUsage().maxRSS)))"
      await runTimed(nodeBin, ["--import", preload, ...args], { ...env, BENCH_RSS_FILE: out })
    }
    return Number(readFileSync(out, "utf8").trim().split("\n").pop()) / 1024
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export const startupRows = async (
  cliPath: string,
  options: { readonly runs: number; readonly warmup: number; readonly rssRuns: number }
): Promise<Array<Row>> => {
  const homes = await startupHomes(cliPath)
  try {
    const envOf = (v: Variant) => ({
      ...scrubbedEnv((v.home ?? homes[0]!).path),
      ...(v.cacheOff ? { NODE_DISABLE_COMPILE_CACHE: "1" } : {})
    })
    const variants: Array<Variant> = [
      { key: "node", name: "`node -e 0` (same Node binary)", args: ["-e", "0"], judged: false },
      { key: "version", name: "`qwen-auth --version`", args: [cliPath, "--version"], judged: true }
    ]
    for (const home of homes) {
      for (const [command, args] of [["status --json", ["status", "--json"]], ["token", ["token"]]] as const) {
        for (const cacheOff of [false, true]) {
          variants.push({
            key: `${home.key}:${command}:${cacheOff ? "off" : "warm"}`,
            name: `\`qwen-auth ${command}\`${command === "token" ? " (fresh)" : ""}, ${home.label}, compile cache ${cacheOff ? "off" : "warm"}`,
            args: [cliPath, ...args],
            home,
            cacheOff,
            judged: !cacheOff
          })
        }
      }
    }
    const times = new Map<string, Array<number>>(variants.map((v) => [v.key, []]))
    for (let i = 0; i < options.warmup + options.runs; i++) {
      for (const v of variants) {
        const r = await runTimed(nodeBin, v.args, envOf(v))
        if (r.code !== 0) throw new Error(`${v.name}: exit ${r.code}\n${r.stderr}`)
        if (i >= options.warmup) times.get(v.key)!.push(r.ms)
      }
    }
    const node = summarize(times.get("node")!)
    const baseline = { name: "`node -e 0`", median: node.median }
    const rows: Array<Row> = [{ name: variants[0]!.name, unit: "ms", summary: node, target: "baseline", verdict: "—" }]
    for (const v of variants.slice(1)) {
      const summary = summarize(times.get(v.key)!)
      rows.push({
        name: v.name,
        unit: "ms",
        summary,
        baseline,
        target: v.judged ? "≤ 2× (must ≤ 3×)" : "— (for information)",
        verdict: v.judged ? ratioVerdict(summary.median / node.median, 2, 3) : "—"
      })
    }

    const rss = async (v: Variant) => {
      const values: Array<number> = []
      for (let i = 0; i < options.rssRuns; i++) values.push(await peakRssMb(v.args, envOf(v)))
      return summarize(values)
    }
    const nodeRss = await rss(variants[0]!)
    rows.push({ name: "peak RSS, `node -e 0`", unit: "MB", summary: nodeRss, target: "baseline", verdict: "—" })
    for (const v of variants.filter((x) => x.home !== undefined && x.judged)) {
      const summary = await rss(v)
      rows.push({
        name: `peak RSS, ${v.name.replace(/, compile cache warm$/, "")}`,
        unit: "MB",
        summary,
        baseline: { name: "`node -e 0`", median: nodeRss.median },
        target: `≤ ${RSS_TARGET_MB} MB`,
        verdict: summary.median <= RSS_TARGET_MB ? "met" : "MISSED"
      })
    }
    return rows
  } finally {
    for (const home of homes) home.cleanup()
  }
}
