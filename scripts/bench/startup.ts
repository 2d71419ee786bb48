/**
 * CLI start-up: `qwen-auth --version` and `qwen-auth status --json` (on a home with valid
 * credentials, so status reads real files) against bare `node -e 0` run by the same Node binary,
 * plus peak RSS. The shipped ESM build and a CommonJS bundle of the same program, built here to a
 * temp folder, are measured in the same rounds (runs interleaved, so machine noise hits all alike).
 */
import { build } from "esbuild"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { nodeBin, repoRoot, scrubbedEnv } from "../../test/support/processes.ts"
import { cliCjsOptions } from "../cliBundle.mjs"
import { HOUR_MS, homeWith } from "./home.ts"
import { runTimed } from "./spawn.ts"
import { type Row, ratioVerdict, summarize } from "./stats.ts"

interface Variant {
  readonly key: string
  readonly name: string
  readonly args: ReadonlyArray<string>
  readonly env?: Record<string, string>
  /** The exit code a correct run ends with (status exits 0 only when logged in). */
  readonly code: number
}

/** The same program as one CommonJS file, behind a two-line loader that turns the compile cache on first. */
const buildCjs = async (): Promise<{ readonly path: string; readonly cleanup: () => void }> => {
  const dir = mkdtempSync(join(tmpdir(), "qwen-auth-bench-cjs-"))
  await build({ ...cliCjsOptions(join(dir, "bundle.cjs")), absWorkingDir: repoRoot })
  writeFileSync(join(dir, "cli.cjs"), "require(\"node:module\").enableCompileCache?.()\nrequire(\"./bundle.cjs\")\n")
  return { path: join(dir, "cli.cjs"), cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

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
  const home = homeWith({ access_token: "bench-access-token", refresh_token: "bench-refresh-token", resource_url: "portal.qwen.ai" }, Date.now() + 6 * HOUR_MS)
  const cjs = await buildCjs()
  try {
    const env = scrubbedEnv(home.path)
    const variants: ReadonlyArray<Variant> = [
      { key: "node", name: "`node -e 0` (same Node binary)", args: ["-e", "0"], code: 0 },
      { key: "version", name: "`qwen-auth --version` (ESM, shipped)", args: [cliPath, "--version"], code: 0 },
      { key: "status", name: "`qwen-auth status --json` (ESM, shipped)", args: [cliPath, "status", "--json"], code: 0 },
      {
        key: "status-nocache",
        name: "`qwen-auth status --json` (ESM, compile cache off)",
        args: [cliPath, "status", "--json"],
        env: { NODE_DISABLE_COMPILE_CACHE: "1" },
        code: 0
      },
      { key: "cjs-version", name: "`qwen-auth --version` (CommonJS bundle)", args: [cjs.path, "--version"], code: 0 },
      { key: "cjs-status", name: "`qwen-auth status --json` (CommonJS bundle)", args: [cjs.path, "status", "--json"], code: 0 }
    ]
    const times = new Map<string, Array<number>>(variants.map((v) => [v.key, []]))
    for (let i = 0; i < options.warmup + options.runs; i++) {
      for (const v of variants) {
        const r = await runTimed(nodeBin, v.args, { ...env, ...v.env })
        if (r.code !== v.code) throw new Error(`${v.name}: exit ${r.code}\n${r.stderr}`)
        if (i >= options.warmup) times.get(v.key)!.push(r.ms)
      }
    }
    const node = summarize(times.get("node")!)
    const baseline = { name: "`node -e 0`", median: node.median }
    const row = (key: string, verdictOf?: (ratio: number) => Row["verdict"], target = "≤ 2× (must ≤ 3×)"): Row => {
      const v = variants.find((x) => x.key === key)!
      const summary = summarize(times.get(key)!)
      return {
        name: v.name,
        unit: "ms",
        summary,
        baseline,
        target: verdictOf === undefined ? "— (for comparison)" : target,
        verdict: verdictOf === undefined ? "—" : verdictOf(summary.median / node.median)
      }
    }
    const shipped = (ratio: number) => ratioVerdict(ratio, 2, 3)

    const rss = async (args: ReadonlyArray<string>) => {
      const values: Array<number> = []
      for (let i = 0; i < options.rssRuns; i++) values.push(await peakRssMb(args, env))
      return summarize(values)
    }
    const nodeRss = await rss(["-e", "0"])
    const statusRss = await rss([cliPath, "status", "--json"])
    const cjsRss = await rss([cjs.path, "status", "--json"])

    return [
      { name: variants[0]!.name, unit: "ms", summary: node, target: "baseline", verdict: "—" },
      row("version", shipped),
      row("status", shipped),
      row("status-nocache"),
      row("cjs-version"),
      row("cjs-status"),
      { name: "peak RSS, `node -e 0`", unit: "MB", summary: nodeRss, target: "baseline", verdict: "—" },
      {
        name: "peak RSS, `qwen-auth status --json` (ESM, shipped)",
        unit: "MB",
        summary: statusRss,
        baseline: { name: "`node -e 0`", median: nodeRss.median },
        target: "≤ 80 MB",
        verdict: statusRss.median <= 80 ? "met" : "MISSED"
      },
      {
        name: "peak RSS, `qwen-auth status --json` (CommonJS bundle)",
        unit: "MB",
        summary: cjsRss,
        baseline: { name: "`node -e 0`", median: nodeRss.median },
        target: "— (for comparison)",
        verdict: "—"
      }
    ]
  } finally {
    cjs.cleanup()
    home.cleanup()
  }
}
