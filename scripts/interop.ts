/**
 * `npm run test:interop`: qwen-auth against the real OpenClaw 2026.3.24 and 2026.9.6 and the real
 * Qwen Code 0.12.0 and 0.24.4.
 *
 * 1. Install (network allowed): the releases pinned in `interop/package.json` +
 *    `interop/package-lock.json` go into the git-ignored `.cache/interop/tree/`, reused while the
 *    lockfile's hash matches, always fresh when `CI` is set. `npm ci --ignore-scripts`, then
 *    `npm rebuild node` (Node 24.21.0 from the `node` package), then `npm rebuild` with that Node
 *    first on PATH, because OpenClaw 2026.9.6's install scripts refuse an older `node`.
 * 2. Build once (`npm run build`), `npm pack` the project and unpack it as an installed package
 *    in `.cache/interop/pkg/node_modules/qwen-portal-auth` (setup-openclaw copies only from one).
 * 3. Type-check the suite (`interop/tsconfig.json`).
 * 4. Run `interop/suite.ts` with nothing reaching past 127.0.0.1, enforced twice: inside a network
 *    namespace holding only loopback (`unshare --net --map-root-user`) where the machine allows it,
 *    and always with `interop/guard.cjs` preloaded into every Node process (`NODE_OPTIONS`; Qwen
 *    Code gets `interop/qwen-code-preload.cjs`, which loads the guard and sends its hard-coded
 *    Qwen hosts to the emulator).
 *
 * Prints every phase's duration and the total; the whole run must stay within 30 minutes.
 * `QWEN_INTEROP_NETNS=0` runs without the namespace (guard only); `INTEROP_ONLY=<text>` runs the
 * scenarios whose name contains it (for debugging; a partial run fails).
 */
import { spawn, spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const cache = join(root, ".cache/interop")
const tree = join(cache, "tree")
const pkgDir = join(cache, "pkg")
const binDir = join(cache, "bin")
const node22 = process.execPath
const node24 = join(tree, "node_modules/node/bin/node")
const RELEASES = [
  { release: "2026.3.24", node: node22 },
  { release: "2026.9.6", node: node24 }
] as const
/** Qwen Code releases, each on the project's Node 22 (what hosts.md measured them on), by their package `bin`. */
const QWEN_CODE = [
  { release: "0.12.0", bin: "cli.js" },
  { release: "0.24.4", bin: "cli-entry.js" }
] as const
const BUDGET_MS = 30 * 60_000
/** Bump when the install steps change, so a cached tree made the old way is not reused. */
const INSTALL_RECIPE = "ci --ignore-scripts; rebuild node; rebuild with node 24 first on PATH (v1)"

const started = Date.now()
const timings: Array<[string, number]> = []
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

const fail = (message: string): never => {
  console.error(`\ntest:interop: ${message}`)
  process.exit(1)
}

/** npm itself, run by `node` (the Node that `npm run` put first on PATH, unless told otherwise). */
const npm = (node: string): Array<string> => {
  const cli = process.env.npm_execpath
  return cli !== undefined && /\.[cm]?js$/.test(cli) ? [node, cli] : ["npm"]
}

/** Runs a command with its output going to `log` (printed, last lines, when it fails). */
const sh = (argv: ReadonlyArray<string>, options: { cwd: string; env?: Record<string, string | undefined>; log: string }) =>
  new Promise<{ code: number | null; output: string }>((done) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (output += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (output += d))
    child.on("error", (e) => done({ code: -1, output: `${output}\n${e.message}` }))
    child.on("close", (code) => {
      mkdirSync(dirname(options.log), { recursive: true })
      writeFileSync(options.log, `$ ${argv.join(" ")}\n${output}`)
      done({ code, output })
    })
  })

const must = async (what: string, argv: ReadonlyArray<string>, options: { cwd: string; env?: Record<string, string | undefined>; log: string }) => {
  const t = Date.now()
  const r = await sh(argv, options)
  if (r.code !== 0) {
    fail(`${what} failed (exit ${r.code}); last lines of ${options.log}:\n${r.output.trim().split("\n").slice(-30).join("\n")}`)
  }
  console.log(`   ${what}: ${seconds(Date.now() - t)}`)
  return r.output
}

const phase = async <A>(name: string, f: () => Promise<A>): Promise<A> => {
  console.log(`\n== ${name}`)
  const t = Date.now()
  const result = await f()
  timings.push([name, Date.now() - t])
  console.log(`   (${name}: ${seconds(Date.now() - t)})`)
  return result
}

const pathWith = (node: string) => `${dirname(node)}:${process.env.PATH ?? "/usr/bin:/bin"}`

// =============================================================================

if (!process.versions.node.startsWith("22.")) {
  fail(`runs on the project's Node 22 (node_modules/.bin/node), not ${process.version}: use \`npm run test:interop\``)
}

await phase("install OpenClaw and Qwen Code releases", async () => {
  const manifest = readFileSync(join(root, "interop/package.json"))
  const lock = readFileSync(join(root, "interop/package-lock.json"))
  const hash = createHash("sha256").update(manifest).update(lock).update(INSTALL_RECIPE).digest("hex")
  const stamp = join(tree, ".interop-install.json")
  const entries = [
    ...RELEASES.map((r) => join(tree, `node_modules/openclaw-${r.release}/openclaw.mjs`)),
    ...QWEN_CODE.map((q) => join(tree, `node_modules/qwen-code-${q.release}/${q.bin}`))
  ]
  const cached = existsSync(stamp) ? (JSON.parse(readFileSync(stamp, "utf8")) as { hash?: string }) : undefined
  if (process.env.CI === undefined && cached?.hash === hash && existsSync(node24) && entries.every((e) => existsSync(e))) {
    console.log(`   reusing .cache/interop/tree (lockfile sha256 ${hash.slice(0, 12)}… unchanged)`)
    return
  }
  console.log(process.env.CI !== undefined ? "   CI: fresh install" : `   ${cached === undefined ? "no install yet" : "lockfile changed"}: fresh install`)
  rmSync(tree, { recursive: true, force: true })
  mkdirSync(tree, { recursive: true })
  copyFileSync(join(root, "interop/package.json"), join(tree, "package.json"))
  copyFileSync(join(root, "interop/package-lock.json"), join(tree, "package-lock.json"))
  const env22 = { ...process.env, PATH: pathWith(node22) }
  await must("npm ci --ignore-scripts", [...npm(node22), "ci", "--no-audit", "--no-fund", "--ignore-scripts"], { cwd: tree, env: env22, log: join(cache, "logs/npm-ci.log") })
  await must("npm rebuild node (Node 24)", [...npm(node22), "rebuild", "node", "--no-audit", "--no-fund"], { cwd: tree, env: env22, log: join(cache, "logs/npm-rebuild-node.log") })
  const v24 = spawnSync(node24, ["--version"], { encoding: "utf8" }).stdout?.trim()
  if (v24 !== "v24.21.0") fail(`the node package gave ${v24 ?? "no binary"} at ${node24}, not v24.21.0`)
  // OpenClaw 2026.9.6's preinstall checks the `node` on PATH: Node 24 first.
  await must("npm rebuild (install scripts, Node 24 on PATH)", [...npm(node24), "rebuild", "--no-audit", "--no-fund"], {
    cwd: tree,
    env: { ...process.env, PATH: pathWith(node24) },
    log: join(cache, "logs/npm-rebuild.log")
  })
  writeFileSync(stamp, `${JSON.stringify({ hash, installedAt: new Date().toISOString() }, null, 2)}\n`)
})

await phase("versions", async () => {
  mkdirSync(binDir, { recursive: true })
  for (const r of RELEASES) {
    const entry = join(tree, `node_modules/openclaw-${r.release}/openclaw.mjs`)
    const bin = join(binDir, `openclaw-${r.release}`)
    // What `--openclaw-bin` gets: this release on its Node (exec, so the pid is OpenClaw's).
    writeFileSync(bin, `#!/bin/sh\nexec '${r.node}' '${entry}' "$@"\n`)
    chmodSync(bin, 0o755)
    const home = join(cache, "version-home")
    mkdirSync(home, { recursive: true })
    const out = spawnSync(bin, ["--version"], {
      encoding: "utf8",
      env: { PATH: pathWith(r.node), HOME: home, NODE_OPTIONS: `--require=${join(root, "interop/guard.cjs")}` }
    })
    const text = `${out.stdout ?? ""}`.trim()
    if (!text.includes(`OpenClaw ${r.release} `)) fail(`${bin} --version printed ${JSON.stringify(text)} (${out.stderr ?? ""})`)
    const nodeVersion = spawnSync(r.node, ["--version"], { encoding: "utf8" }).stdout.trim()
    console.log(`   ${text} on Node ${nodeVersion}`)
  }
  for (const q of QWEN_CODE) {
    const entry = join(tree, `node_modules/qwen-code-${q.release}/${q.bin}`)
    const bin = join(binDir, `qwen-${q.release}`)
    // `qwen` of this release on Node 22 (exec, so the pid is Qwen Code's; 0.24.4's entry spawns cli.js).
    writeFileSync(bin, `#!/bin/sh\nexec '${node22}' '${entry}' "$@"\n`)
    chmodSync(bin, 0o755)
    const home = join(cache, "version-home")
    mkdirSync(home, { recursive: true })
    const out = spawnSync(bin, ["--version"], {
      encoding: "utf8",
      timeout: 60_000,
      env: { PATH: pathWith(node22), HOME: home, QWEN_CODE_NO_RELAUNCH: "true", NODE_OPTIONS: `--require=${join(root, "interop/guard.cjs")}` }
    })
    const text = `${out.stdout ?? ""}`.trim()
    if (text !== q.release) fail(`${bin} --version printed ${JSON.stringify(text)} (${out.stderr ?? ""})`)
    console.log(`   Qwen Code ${text} on Node ${process.version}`)
  }
})

await phase("build and pack qwen-auth", async () => {
  await must("npm run build", [...npm(node22), "run", "-s", "build"], { cwd: root, log: join(cache, "logs/build.log") })
  rmSync(pkgDir, { recursive: true, force: true })
  mkdirSync(pkgDir, { recursive: true })
  const out = await must("npm pack", [...npm(node22), "pack", "--ignore-scripts", "--json", "--pack-destination", pkgDir], {
    cwd: root,
    log: join(cache, "logs/pack.log")
  })
  const packed = JSON.parse(out.slice(out.indexOf("["))) as Array<{ filename: string; files: Array<unknown> }>
  const tarball = join(pkgDir, packed[0]!.filename)
  const target = join(pkgDir, "node_modules/qwen-portal-auth")
  mkdirSync(target, { recursive: true })
  await must("unpack into .cache/interop/pkg/node_modules/qwen-portal-auth", ["tar", "-xzf", tarball, "-C", target, "--strip-components=1"], {
    cwd: pkgDir,
    log: join(cache, "logs/unpack.log")
  })
  console.log(`   ${packed[0]!.filename}: ${packed[0]!.files.length} files`)
})

await phase("type-check the suite", async () => {
  await must("tsc -p interop/tsconfig.json", [node22, join(root, "node_modules/typescript/bin/tsc"), "-p", "interop/tsconfig.json"], {
    cwd: root,
    log: join(cache, "logs/tsc.log")
  })
})

const isolation = await phase("isolation", async () => {
  if (process.env.QWEN_INTEROP_NETNS === "0") return { mode: "preload-only", why: "QWEN_INTEROP_NETNS=0" }
  // A new network namespace, loopback up, and no other interface in it.
  const probe = spawnSync("unshare", ["--net", "--map-root-user", "sh", "-c", 'ip link set lo up && test "$(ip -o link show | wc -l)" -eq 1'], {
    encoding: "utf8"
  })
  if (probe.status === 0) return { mode: "netns", why: "unshare --net --map-root-user works here" }
  return { mode: "preload-only", why: `unshare --net --map-root-user is not available (${(probe.error?.message ?? probe.stderr ?? "").trim() || `exit ${probe.status}`})` }
})
console.log(
  isolation.mode === "netns"
    ? "   mode: network namespace with only loopback (unshare --net --map-root-user) + guard preload (NODE_OPTIONS=--require interop/guard.cjs)"
    : `   mode: guard preload only (NODE_OPTIONS=--require interop/guard.cjs); no namespace: ${isolation.why}`
)

const suiteGuardLog = join(cache, "suite-guard.log")
rmSync(suiteGuardLog, { force: true })
const suiteCode = await phase("scenarios", () =>
  new Promise<number>((done) => {
    const suite = join(root, "interop/suite.ts")
    const argv = isolation.mode === "netns"
      ? ["unshare", "--net", "--map-root-user", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", node22, suite]
      : [node22, suite]
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? cache,
      LANG: "C",
      TZ: "UTC",
      INTEROP_MODE: isolation.mode,
      NODE_OPTIONS: `--require=${join(root, "interop/guard.cjs")}`,
      INTEROP_GUARD_LOG: suiteGuardLog,
      ...(process.env.INTEROP_ONLY !== undefined ? { INTEROP_ONLY: process.env.INTEROP_ONLY } : {})
    }
    const child = spawn(argv[0]!, argv.slice(1), { cwd: root, env, stdio: "inherit" })
    child.on("error", (e) => {
      console.error(e)
      done(1)
    })
    child.on("close", (code, signal) => done(code ?? (signal !== null ? 128 : 1)))
  })
)

const total = Date.now() - started
console.log("\ntest:interop timings")
for (const [name, ms] of timings) console.log(`  ${name.padEnd(40)} ${seconds(ms).padStart(8)}`)
console.log(`  ${"total".padEnd(40)} ${seconds(total).padStart(8)}  (budget ${seconds(BUDGET_MS)})`)
console.log(`  isolation: ${isolation.mode === "netns" ? "network namespace + guard preload" : `guard preload only (${isolation.why})`}`)
const suiteRefusals = existsSync(suiteGuardLog) ? readFileSync(suiteGuardLog, "utf8").trim() : ""
if (suiteRefusals !== "") fail(`the suite process itself tried to leave 127.0.0.1:\n${suiteRefusals}`)
if (suiteCode !== 0) fail(`scenarios failed (exit ${suiteCode})`)
if (total > BUDGET_MS) fail(`took ${seconds(total)}, over the ${seconds(BUDGET_MS)} budget`)
