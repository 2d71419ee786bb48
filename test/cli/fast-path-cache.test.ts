/**
 * The fast paths' code cache (src/cli/FastPathLoad.ts): made after the first run, in Node's
 * compile cache folder, used as is by the next runs, replaced when V8 refuses it, never made when
 * the compile cache is off, and never a reason for a run to fail or print anything else. Neither
 * it nor Node's own cache is used in a folder another user could write (CompileCache.ts).
 */
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { cliPath, makeTempDir, runNode, scrubbedEnv } from "../support/processes.ts"
import { qwenCodeHome } from "../support/qwenCodeHome.ts"

const root = makeTempDir("qwen-auth-fast-cache-")
afterAll(root.cleanup)

const home = qwenCodeHome(join(root.path, "home"), { access: "cache-test-access", refresh: "cache-test-refresh" })

let n = 0
/** A TMPDIR of its own, so each case starts without a compile cache. */
const freshTmp = () => {
  const tmp = join(root.path, `tmp-${n++}`)
  mkdirSync(tmp)
  return tmp
}

const token = async (tmp: string, extra: Record<string, string> = {}) => {
  const r = await runNode(cliPath, ["token"], { env: scrubbedEnv(home, { TMPDIR: tmp, ...extra }) })
  expect(r.code, r.stderr).toBe(0)
  expect(r.stdout).toBe("cache-test-access\n")
  expect(r.stderr).toBe("")
}

/** The fast path caches under `tmp` (node-compile-cache/<node version…>/qwen-auth-*.v8). */
const caches = (tmp: string): Array<string> => {
  const base = join(tmp, "node-compile-cache")
  return readdirSync(base).flatMap((version) =>
    readdirSync(join(base, version)).filter((f) => f.startsWith("qwen-auth-")).map((f) => join(base, version, f)))
}

describe("the fast paths' code cache", () => {
  it("is written once, after the first run, 0600, and used as is by the next", async () => {
    const tmp = freshTmp()
    await token(tmp)
    const [cache, ...others] = caches(tmp)
    expect(others).toEqual([])
    expect(cache).toMatch(/qwen-auth-token-[A-Z0-9]+\.cjs\.v8$/)
    expect(statSync(cache!).mode & 0o777).toBe(0o600)
    const before = statSync(cache!)
    await token(tmp)
    const after = statSync(cache!)
    // Rewritten only when missing or refused: the same file means V8 took it.
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs])
    expect(readdirSync(join(cache!, "..")).filter((f) => f.endsWith(".tmp"))).toEqual([])
  })

  it("is replaced when V8 refuses it (damaged, or from another build)", async () => {
    const tmp = freshTmp()
    await token(tmp)
    const [cache] = caches(tmp)
    const garbage = Buffer.alloc(statSync(cache!).size, 7)
    writeFileSync(cache!, garbage)
    await token(tmp)
    expect(readFileSync(cache!).equals(garbage)).toBe(false)
    await token(tmp)
  })

  it("is not made by a run under V8 coverage (instrumented code)", async () => {
    const tmp = freshTmp()
    await token(tmp, { NODE_V8_COVERAGE: join(tmp, "coverage") })
    expect(caches(tmp)).toEqual([])
    await token(tmp)
    expect(caches(tmp)).toHaveLength(1)
  })

  it("is not used, nor Node's, in a compile cache folder others can write", async () => {
    const tmp = freshTmp()
    const base = join(tmp, "node-compile-cache")
    mkdirSync(base)
    chmodSync(base, 0o777)
    await token(tmp)
    await token(tmp)
    expect(readdirSync(base)).toEqual([])
  })

  it.runIf(process.getuid?.() === 0)("is not used, nor Node's, in a compile cache folder another user owns", async () => {
    const tmp = freshTmp()
    const base = join(tmp, "node-compile-cache")
    mkdirSync(base, { mode: 0o755 })
    chownSync(base, 4321, 4321)
    await token(tmp)
    expect(readdirSync(base)).toEqual([])
  })

  it("is not made when Node's compile cache is off", async () => {
    const tmp = freshTmp()
    await token(tmp, { NODE_DISABLE_COMPILE_CACHE: "1" })
    expect(readdirSync(tmp)).toEqual([])
  })
})
