/**
 * The README's "Use it from Effect" example, run as written: the ```ts block is taken from
 * README.md, saved in a temp folder whose node_modules links `qwen-portal-auth` to this
 * package (so its package.json "exports" and the built dist/lib are what resolve), and run with
 * the test's Node against the emulator holding a logged-in user whose token just expired.
 */
import { describe, expect, it } from "vitest"
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { makeTempDir, repoRoot, runNode, scrubbedEnv } from "../support/processes.ts"
import { emulator, envFor, explain, readJson, realTokens, tempHome, writeQwenCreds } from "./home.ts"

const HEADING = "## Use it from Effect"

/** The first ```ts block of the README section under `HEADING`. */
const readmeExample = (readme: string): string => {
  const start = readme.indexOf(`\n${HEADING}\n`)
  if (start < 0) throw new Error(`README.md has no "${HEADING}" section`)
  const next = readme.indexOf("\n## ", start + HEADING.length + 1)
  const section = readme.slice(start, next < 0 ? undefined : next)
  const match = /```ts\n([\s\S]*?)\n```/.exec(section)
  if (match === null) throw new Error(`"${HEADING}" has no \`\`\`ts block`)
  return `${match[1]}\n`
}

/** An embedder's project: the example file, and node_modules resolving to this checkout. */
const embedderProject = () => {
  const project = makeTempDir("qwen-auth-readme-")
  const modules = join(project.path, "node_modules")
  mkdirSync(modules)
  symlinkSync(repoRoot, join(modules, "qwen-portal-auth"), "dir")
  symlinkSync(join(repoRoot, "node_modules/effect"), join(modules, "effect"), "dir")
  // Peer dependencies the example imports itself, and Node's types for the type check.
  for (const name of ["@effect/platform-node", "@effect/platform-node-shared", "@types/node"]) {
    mkdirSync(dirname(join(modules, name)), { recursive: true })
    symlinkSync(join(repoRoot, "node_modules", name), join(modules, name), "dir")
  }
  writeFileSync(join(project.path, "package.json"), JSON.stringify({ name: "embedder", type: "module", private: true }))
  const script = join(project.path, "example.ts")
  writeFileSync(script, readmeExample(readFileSync(join(repoRoot, "README.md"), "utf8")))
  return { ...project, script }
}

describe("README usage example", () => {
  it("is about 15 lines and imports the package root", () => {
    const code = readmeExample(readFileSync(join(repoRoot, "README.md"), "utf8"))
    const lines = code.trimEnd().split("\n").length
    expect(lines).toBeGreaterThanOrEqual(10)
    expect(lines).toBeLessThanOrEqual(25)
    expect(code).toMatch(/from "qwen-portal-auth"/)
    expect(code).toContain("QwenAuth.layer(")
    expect(code).toContain("TokenManager")
    expect(code).toContain("QwenHttpClient")
  })

  it("runs against the emulator: refreshes the expired token, calls the API and prints the reply", async () => {
    const emu = await emulator()
    const home = tempHome()
    const tokens = await realTokens(emu)
    writeQwenCreds(home, tokens, Date.now() - 1000)

    const project = embedderProject()
    try {
      const r = await runNode(project.script, [], {
        env: envFor(home, emu, { QWEN_HOME: home.qwen, NODE_NO_WARNINGS: "1" }),
        cwd: project.path,
        timeoutMs: 60_000
      })
      expect(r.code, explain(r)).toBe(0)
      const lines = r.stdout.trimEnd().split("\n")
      expect(lines[0]).toMatch(new RegExp(`^API ${emu.url}/v1, token valid until \\d{4}-\\d\\d-\\d\\dT`))
      expect(lines[1]).toBe("qwen-emulator reply to: Say hello")
      expect(lines).toHaveLength(2)
      expect(r.stdout + r.stderr).not.toContain(tokens.refresh_token)

      const stats = await emu.stats()
      expect(stats.refreshGrants).toBe(1)
      expect(stats.apiCalls).toBe(1)
      // The refreshed login went back to the shared files.
      expect(readJson(home.creds).access_token).not.toBe(tokens.access_token)
      expect(readJson(home.creds).expiry_date).toBeGreaterThan(Date.now())
    } finally {
      project.cleanup()
    }
  }, 120_000)

  it("type-checks (strict) against the package's published types", async () => {
    const project = embedderProject()
    try {
      const tsc = join(repoRoot, "node_modules/typescript/bin/tsc")
      const flags = ["--noEmit", "--strict", "--exactOptionalPropertyTypes", "--target", "es2023", "--module", "nodenext",
        "--moduleResolution", "nodenext", "--skipLibCheck", "--types", "node"]
      const r = await runNode(tsc, [...flags, project.script], { env: scrubbedEnv(project.path), cwd: project.path, timeoutMs: 60_000 })
      expect(r.code, explain(r)).toBe(0)
      // The check is real: a wrong use of the same import is reported.
      writeFileSync(project.script, `${readFileSync(project.script, "utf8")}\nconst wrong: string = TokenManager\n`)
      const bad = await runNode(tsc, [...flags, project.script], { env: scrubbedEnv(project.path), cwd: project.path, timeoutMs: 60_000 })
      expect(bad.code).not.toBe(0)
      expect(bad.stdout).toContain("TS2322")
    } finally {
      project.cleanup()
    }
  }, 120_000)
})
