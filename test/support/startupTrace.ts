/**
 * What a CLI run loads and runs, for the start-up tests (docs/benchmarks.md): the files of
 * `dist/` it loads (through `import` or `require`), Node's list of the builtins it loaded, and
 * V8's coverage of the code it ran. Runs take Node's plain module loaders (compile cache off), so
 * the fast paths' bundles (FastPathLoad.ts) show up among the loaded files too; the code run is the
 * same. Judged by files, builtins and coverage, never by time.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { cliPath, repoRoot, runNode, scrubbedEnv } from "./processes.ts"

const preload = join(repoRoot, "test/fixtures/record-loads.mjs")
// Node's own list of the builtins (and bindings) this process loaded, written at exit.
const builtinsPreload = "data:text/javascript,process.on('exit',()=>process.getBuiltinModule('node:fs')" +
  ".writeFileSync(process.env.QWEN_AUTH_TEST_BUILTINS,process.moduleLoadList.join('\\n')))"
export const dist = join(repoRoot, "dist")

interface Range {
  readonly startOffset: number
  readonly endOffset: number
  readonly count: number
}

export interface Trace {
  readonly r: Awaited<ReturnType<typeof runNode>>
  /** Loaded files of dist/, relative to it, in load order. */
  readonly files: ReadonlyArray<string>
  /** The loaded files' text. */
  readonly text: string
  /** `process.moduleLoadList` at exit ("NativeModule fs", …). */
  readonly builtins: ReadonlyArray<string>
  /**
   * Whether the code holding `marker` ran: the innermost block of the loaded file around its
   * first occurrence ran at least once. `undefined` when no loaded file holds it.
   */
  readonly ran: (marker: string) => boolean | undefined
  /** Segmenters built (effect/cli's `Intl.Segmenter`). */
  readonly segmenters: number
}

let n = 0
/** Runs `node dist/cli.js ...args` in `home` (a temp folder of its own under `scratch`). */
export const traced = async (
  scratch: string,
  home: string,
  args: ReadonlyArray<string>,
  extraEnv: Record<string, string> = {}
): Promise<Trace> => {
  const dir = join(scratch, `trace-${n++}`)
  const coverage = join(dir, "coverage")
  mkdirSync(coverage, { recursive: true })
  const loads = join(dir, "loads.txt")
  const builtins = join(dir, "builtins.txt")
  writeFileSync(loads, "")
  const r = await runNode("--import", [preload, "--import", builtinsPreload, cliPath, ...args], {
    env: scrubbedEnv(home, {
      QWEN_AUTH_TEST_LOADS: loads,
      QWEN_AUTH_TEST_BUILTINS: builtins,
      NODE_V8_COVERAGE: coverage,
      NODE_DISABLE_COMPILE_CACHE: "1",
      ...extraEnv
    })
  })
  const lines = readFileSync(loads, "utf8").split("\n")
  const paths = lines.filter((l) => l.startsWith("load file:")).map((l) => fileURLToPath(l.slice(5)))
    .filter((p) => !relative(dist, p).startsWith(".."))
  const texts = new Map(paths.map((p) => [p, readFileSync(p, "utf8")]))
  const blocks = new Map<string, Array<Range>>()
  for (const file of readdirSync(coverage)) {
    const report = JSON.parse(readFileSync(join(coverage, file), "utf8")) as {
      result: ReadonlyArray<{ url: string; functions: ReadonlyArray<{ ranges: ReadonlyArray<Range> }> }>
    }
    for (const script of report.result) {
      const list = blocks.get(script.url) ?? []
      for (const f of script.functions) list.push(...f.ranges)
      blocks.set(script.url, list)
    }
  }
  return {
    r,
    files: paths.map((p) => relative(dist, p)),
    text: [...texts.values()].join("\n"),
    builtins: readFileSync(builtins, "utf8").split("\n"),
    segmenters: lines.filter((l) => l === "segmenter").length,
    ran: (marker) => {
      for (const [path, text] of texts) {
        const at = text.indexOf(marker)
        if (at < 0) continue
        const around = (blocks.get(pathToFileURL(path).href) ?? [])
          .filter((b) => b.startOffset <= at && at < b.endOffset)
          .sort((a, b) => (a.endOffset - a.startOffset) - (b.endOffset - b.startOffset))
        if (around.length === 0) throw new Error(`no coverage for ${path}`)
        return around[0]!.count > 0
      }
      return undefined
    }
  }
}
