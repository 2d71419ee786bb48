/**
 * Processes at expiry: 8 and 32 concurrent `qwen-auth token` on just-expired credentials. Every
 * process must print the same new token, and the emulator must see exactly one refresh grant (the
 * file locks and the re-read under them make the others reuse it). Wall time against one process
 * doing the same refresh alone.
 */
import { login, startEmulatorProcess } from "../../test/support/emulator.ts"
import { nodeBin, scrubbedEnv } from "../../test/support/processes.ts"
import { homeWith } from "./home.ts"
import { runTimed } from "./spawn.ts"
import { type Row, summarize } from "./stats.ts"

interface Trial {
  readonly ms: number
  readonly grants: number
  readonly failures: ReadonlyArray<string>
}

const trial = async (cliPath: string, emu: Awaited<ReturnType<typeof startEmulatorProcess>>, processes: number): Promise<Trial> => {
  const tokens = await login(emu)
  const home = homeWith(tokens, Date.now() - 1_000)
  try {
    const env = scrubbedEnv(home.path, { QWEN_OAUTH_BASE_URL: emu.url })
    const before = (await emu.stats()).refreshGrants
    const start = performance.now()
    const runs = await Promise.all(Array.from({ length: processes }, () => runTimed(nodeBin, [cliPath, "token"], env, 120_000)))
    const ms = performance.now() - start
    const grants = (await emu.stats()).refreshGrants - before
    const failures: Array<string> = []
    const printed = new Set(runs.map((r) => r.stdout.trim()))
    for (const r of runs) {
      if (r.code !== 0) failures.push(`exit ${r.code}: ${r.stderr.trim().split("\n")[0] ?? ""}`)
    }
    if (printed.size !== 1) failures.push(`${printed.size} different tokens printed`)
    if (printed.has(tokens.access_token)) failures.push("printed the expired token")
    return { ms, grants, failures }
  } finally {
    home.cleanup()
  }
}

export const processRows = async (
  cliPath: string,
  options: { readonly counts: ReadonlyArray<number>; readonly repeats: number }
): Promise<Array<Row>> => {
  const emu = await startEmulatorProcess([])
  try {
    await trial(cliPath, emu, 1) // warm-up: compile cache, emulator JIT
    const alone: Array<Trial> = []
    const byCount = new Map<number, Array<Trial>>(options.counts.map((n) => [n, []]))
    for (let i = 0; i < options.repeats; i++) {
      alone.push(await trial(cliPath, emu, 1))
      for (const n of options.counts) byCount.get(n)!.push(await trial(cliPath, emu, n))
    }
    const base = summarize(alone.map((t) => t.ms))
    const rows: Array<Row> = [{
      name: "`qwen-auth token`, 1 process, expired credentials",
      unit: "ms",
      summary: base,
      target: "baseline",
      verdict: "—",
      notes: notesOf("1 process", alone)
    }]
    for (const [n, trials] of byCount) {
      const grantsOk = trials.every((t) => t.grants === 1 && t.failures.length === 0)
      const summary = summarize(trials.map((t) => t.ms))
      rows.push({
        name: `\`qwen-auth token\`, ${n} concurrent processes, expired credentials`,
        unit: "ms",
        summary,
        baseline: { name: "1 process", median: base.median },
        target: "refresh grants = 1, all print the new token",
        verdict: grantsOk ? "met" : "MISSED",
        notes: notesOf(`${n} processes`, trials)
      })
    }
    return rows
  } finally {
    await emu.stop()
  }
}

const notesOf = (label: string, trials: ReadonlyArray<Trial>): Array<string> => {
  const grants = trials.map((t) => t.grants)
  const failures = trials.flatMap((t) => t.failures)
  return [
    `${label}: refresh grants per trial [${grants.join(", ")}]` +
    (failures.length === 0 ? ", every process exited 0 with the same new token" : `; failures: ${[...new Set(failures)].slice(0, 5).join("; ")}`)
  ]
}
