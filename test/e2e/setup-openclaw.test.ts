/**
 * `qwen-auth setup-openclaw` end to end: the built CLI, run from an installed copy of the package
 * (a temp `node_modules/qwen-portal-auth` holding what `npm pack` ships), against a fake
 * `openclaw` (test/fixtures/fake-openclaw.mjs) that answers as the measured releases do.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { explain, type Home, installCopy, openClawTools, readJson, tempHome, treeSnapshot } from "./home.ts"
import { repoRoot, type RunResult, runNode, scrubbedEnv } from "../support/processes.ts"

const PLUGIN_ID = "qwen-portal-auth"

let tools: ReturnType<typeof openClawTools>
let installedCli: string
let fakeBin: string

beforeAll(() => {
  tools = openClawTools("qwen-auth-setup-oc-")
  installedCli = tools.installedCli
  fakeBin = tools.fakeBin
})
afterAll(() => tools.cleanup())

interface Run extends RunResult {
  /** Every argv the fake openclaw was run with. */
  readonly calls: ReadonlyArray<ReadonlyArray<string>>
  readonly json: any
}

let runs = 0
const setup = async (
  home: Home,
  args: ReadonlyArray<string>,
  options: { version?: string; env?: Record<string, string>; cli?: string; noBin?: boolean } = {}
): Promise<Run> => {
  const log = join(tools.path, `calls-${++runs}.log`)
  const r = await runNode(options.cli ?? installedCli, ["setup-openclaw", ...args], {
    env: scrubbedEnv(home.path, {
      ...(options.noBin === true ? {} : { OPENCLAW_BIN: fakeBin }),
      OPENCLAW_FAKE_VERSION: options.version ?? "2026.3.24",
      OPENCLAW_FAKE_LOG: log,
      ...options.env
    }),
    timeoutMs: 60_000
  })
  const calls = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l)) : []
  let json: any
  if (args.includes("--json")) {
    try {
      json = JSON.parse(r.stdout)
    } catch {
      json = undefined
    }
  }
  return { ...r, calls, json }
}

const pluginDirOf = (home: Home) => join(home.openclaw, "extensions", PLUGIN_ID)
const recordOf = (home: Home) => join(home.qwen, "qwen-auth-setup.json")
const writeConfig = (home: Home, value: unknown) => {
  mkdirSync(home.openclaw, { recursive: true })
  writeFileSync(home.config, `${JSON.stringify(value, null, 2)}\n`)
}
const filesUnder = (dir: string): Array<string> =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort()

const REFRESH_WARNING = /cannot refresh Qwen logins itself.*qwen-auth token/

/** A config with other plugins, their entries, an allow list and a load path of their own. */
const busyConfig = () => ({
  gateway: { port: 18789 },
  plugins: {
    allow: ["acpx", "memory-core"],
    entries: { acpx: { enabled: true, config: { x: 1 } } },
    load: { paths: ["/opt/other-plugin"] }
  }
})

describe("setup-openclaw on 2026.3.24 (plugins.load.paths)", () => {
  it("copies the package, adds the load path, enables the entry, appends to a non-empty allow list, keeps the rest", async () => {
    const home = tempHome()
    writeConfig(home, busyConfig())
    const r = await setup(home, ["--json"])
    expect(r.code, explain(r)).toBe(0)
    const dir = pluginDirOf(home)
    expect(Object.keys(r.json)).toEqual(["openclawVersion", "method", "changed", "pluginLoaded", "warnings"])
    expect(r.json.openclawVersion).toBe("2026.3.24")
    expect(r.json.method).toBe("load-paths")
    expect(r.json.pluginLoaded).toBe(true)
    expect(r.json.changed).toEqual([
      expect.stringMatching(new RegExp(`^copied qwen-portal-auth \\S+ \\(\\d+ files\\) to ${dir}$`)),
      `${home.config}: plugins.load.paths += ${dir}`,
      `${home.config}: plugins.entries.qwen-portal-auth.enabled = true`,
      `${home.config}: plugins.allow += qwen-portal-auth`,
      `backed up ${home.config} to ${home.config}.qwen-auth.bak`
    ])
    expect(r.json.warnings.filter((w: string) => REFRESH_WARNING.test(w))).toHaveLength(1)
    expect(readJson(home.config)).toEqual({
      gateway: { port: 18789 },
      plugins: {
        allow: ["acpx", "memory-core", PLUGIN_ID],
        entries: { acpx: { enabled: true, config: { x: 1 } }, [PLUGIN_ID]: { enabled: true } },
        load: { paths: ["/opt/other-plugin", dir] }
      }
    })
    // Read-only commands only: the release, then the check.
    expect(r.calls).toEqual([["--version"], ["plugins", "list", "--json"]])
    // Exactly the shipped files, package.json without what would make OpenClaw install packages.
    const shipped = ["README.md", "openclaw.plugin.json", "package.json", ...filesUnder(join(repoRoot, "dist")).map((f) => `dist/${f}`)].sort()
    expect(filesUnder(dir)).toEqual(shipped)
    const pkg = readJson(join(dir, "package.json"))
    expect(pkg).not.toHaveProperty("dependencies")
    expect(pkg).not.toHaveProperty("devDependencies")
    expect(pkg).not.toHaveProperty("peerDependencies")
    expect(pkg).not.toHaveProperty("scripts")
    expect(pkg).toMatchObject({ name: PLUGIN_ID, type: "module", openclaw: { extensions: ["./dist/openclaw-plugin.js"] } })
    expect(readFileSync(join(dir, "dist/openclaw-plugin.js"))).toEqual(readFileSync(join(repoRoot, "dist/openclaw-plugin.js")))
    expect((statSync(recordOf(home)).mode & 0o777).toString(8)).toBe("600")
  })

  it("leaves an absent allow list absent, and says what it did on stderr", async () => {
    const home = tempHome()
    const r = await setup(home, [])
    expect(r.code, explain(r)).toBe(0)
    expect(r.stdout).toBe("")
    expect(r.stderr).toContain("Set up qwen-auth's plugin for OpenClaw 2026.3.24 (load-paths):")
    expect(r.stderr).toContain("OpenClaw loads qwen-auth's plugin")
    expect(r.stderr).toMatch(REFRESH_WARNING)
    expect(readJson(home.config)).toEqual({
      plugins: { load: { paths: [pluginDirOf(home)] }, entries: { [PLUGIN_ID]: { enabled: true } } }
    })
  })

  it("a second run changes nothing and says so", async () => {
    const home = tempHome()
    writeConfig(home, busyConfig())
    expect((await setup(home, [])).code).toBe(0)
    const before = treeSnapshot(home.path)
    const r = await setup(home, ["--json"])
    expect(r.code, explain(r)).toBe(0)
    expect(r.json).toMatchObject({ openclawVersion: "2026.3.24", method: "load-paths", changed: [], pluginLoaded: true })
    expect(treeSnapshot(home.path)).toEqual(before)
    const human = await setup(home, [])
    expect(human.stderr).toContain("Nothing to do: qwen-auth's plugin is already set up for OpenClaw 2026.3.24 (load-paths).")
    expect(treeSnapshot(home.path)).toEqual(before)
  })

  it("--remove undoes exactly what it added (and a second --remove has nothing to do)", async () => {
    const home = tempHome()
    const original = busyConfig()
    // Our entry already there, disabled with settings of the user's: put back as it was.
    const withEntry = { ...original, plugins: { ...original.plugins, entries: { ...original.plugins.entries, [PLUGIN_ID]: { enabled: false, config: {} } } } }
    writeConfig(home, withEntry)
    expect((await setup(home, [])).code).toBe(0)
    expect(readJson(home.config).plugins.entries[PLUGIN_ID]).toEqual({ enabled: true, config: {} })
    const r = await setup(home, ["--remove", "--json"])
    expect(r.code, explain(r)).toBe(0)
    expect(r.json.changed).toEqual([
      `${home.config}: plugins.load.paths -= ${pluginDirOf(home)}`,
      `${home.config}: plugins.entries.qwen-portal-auth restored`,
      `${home.config}: plugins.allow -= qwen-portal-auth`,
      `removed ${pluginDirOf(home)}`
    ])
    expect(readJson(home.config)).toEqual(withEntry)
    expect(existsSync(join(home.openclaw, "extensions"))).toBe(false)
    expect(existsSync(recordOf(home))).toBe(false)
    expect(r.calls).toEqual([])
    const again = await setup(home, ["--remove"])
    expect(again.code, explain(again)).toBe(0)
    expect(again.stderr).toContain("Nothing to remove")
  })

  it("--remove of a setup that created openclaw.json removes it again", async () => {
    const home = tempHome()
    expect((await setup(home, [])).code).toBe(0)
    expect((await setup(home, ["--remove"])).code).toBe(0)
    expect(existsSync(home.config)).toBe(false)
    expect(existsSync(pluginDirOf(home))).toBe(false)
  })

  it("--dry-run writes nothing and runs only --version and plugins list", async () => {
    const home = tempHome()
    writeConfig(home, busyConfig())
    const before = treeSnapshot(home.path)
    const r = await setup(home, ["--dry-run", "--json"])
    expect(r.code, explain(r)).toBe(0)
    expect(r.json).toMatchObject({ openclawVersion: "2026.3.24", method: "load-paths", pluginLoaded: false })
    expect(r.json.changed).toContain(`${home.config}: plugins.load.paths += ${pluginDirOf(home)}`)
    expect(r.calls).toEqual([["--version"], ["plugins", "list", "--json"]])
    expect(treeSnapshot(home.path)).toEqual(before)
    // And for --remove.
    expect((await setup(home, [])).code).toBe(0)
    const set = treeSnapshot(home.path)
    const dry = await setup(home, ["--remove", "--dry-run"])
    expect(dry.code, explain(dry)).toBe(0)
    expect(dry.stderr).toContain("Would undo the setup")
    expect(treeSnapshot(home.path)).toEqual(set)
  })

  it("fails (exit 1) when OpenClaw still loads its bundled plugin afterwards, saying so", async () => {
    const home = tempHome()
    const r = await setup(home, ["--json"], { env: { OPENCLAW_FAKE_BUNDLED_WINS: "1" } })
    expect(r.code, explain(r)).toBe(1)
    expect(r.json).toMatchObject({ method: "load-paths", pluginLoaded: false, error: { tag: "PluginNotLoaded" } })
    expect(r.json.error.message).toContain("bundled qwen-portal-auth is still the one loaded")
    const human = await setup(home, [], { env: { OPENCLAW_FAKE_BUNDLED_WINS: "1" } })
    expect(human.code).toBe(1)
    expect(human.stderr).toContain("OpenClaw does not load qwen-auth's plugin: OpenClaw's bundled qwen-portal-auth is still the one loaded")
  })

  it("fails when the allow list keeps the plugin out: a deny list entry is named", async () => {
    const home = tempHome()
    writeConfig(home, { plugins: { deny: [PLUGIN_ID] } })
    const r = await setup(home, ["--json"])
    expect(r.code, explain(r)).toBe(1)
    expect(r.json.warnings).toContain(`plugins.deny lists ${PLUGIN_ID}: remove it there.`)
    expect(r.json.error.message).toContain("blocked by denylist")
  })

  it("moves a folder it did not create aside, and --remove puts it back", async () => {
    const home = tempHome()
    const dir = pluginDirOf(home)
    mkdirSync(join(dir, "src"), { recursive: true })
    writeFileSync(join(dir, "src/mine.txt"), "the user's own\n")
    const r = await setup(home, ["--json"])
    expect(r.code, explain(r)).toBe(0)
    expect(r.json.changed[0]).toMatch(new RegExp(`^moved the existing ${dir} to ${home.qwen}/qwen-auth-setup.previous/`))
    expect(existsSync(join(dir, "src/mine.txt"))).toBe(false)
    expect((await setup(home, ["--remove"])).code).toBe(0)
    expect(filesUnder(dir)).toEqual(["src/mine.txt"])
  })
})

describe("setup-openclaw on later releases (plugins install)", () => {
  const installArgs = (home: Home) => ["plugins", "install", "--force", "--accept-capabilities", pluginDirOf(home)]

  it("installs the copied folder, checks it loaded; a second run does nothing; --remove undoes it", async () => {
    const home = tempHome()
    writeConfig(home, { plugins: { allow: ["acpx"], entries: { acpx: { enabled: true } } } })
    const original = readJson(home.config)
    const r = await setup(home, ["--json"], { version: "2026.9.6" })
    expect(r.code, explain(r)).toBe(0)
    expect(r.json).toEqual({
      openclawVersion: "2026.9.6",
      method: "plugins-install",
      changed: [expect.stringMatching(/^copied qwen-portal-auth /), [fakeBin, ...installArgs(home)].join(" ")],
      pluginLoaded: true,
      warnings: []
    })
    expect(r.calls).toEqual([["--version"], ["plugins", "list", "--json"], installArgs(home), ["plugins", "list", "--json"]])
    // OpenClaw's install appended to the allow list and enabled the entry itself.
    expect(readJson(home.config).plugins).toEqual({ allow: ["acpx", PLUGIN_ID], entries: { acpx: { enabled: true }, [PLUGIN_ID]: { enabled: true } } })
    expect(readJson(join(pluginDirOf(home), "package.json"))).not.toHaveProperty("dependencies")

    const again = await setup(home, ["--json"], { version: "2026.9.6" })
    expect(again.code, explain(again)).toBe(0)
    expect(again.json).toMatchObject({ changed: [], pluginLoaded: true })
    expect(again.calls).toEqual([["--version"], ["plugins", "list", "--json"]])

    const removed = await setup(home, ["--remove", "--json"], { version: "2026.9.6" })
    expect(removed.code, explain(removed)).toBe(0)
    expect(removed.calls).toEqual([
      ["plugins", "list", "--json"],
      ["plugins", "uninstall", "--force", PLUGIN_ID],
      ["plugins", "registry", "--refresh"]
    ])
    expect(readJson(home.config)).toEqual(original)
    expect(existsSync(join(home.openclaw, "extensions"))).toBe(false)
    expect(existsSync(recordOf(home))).toBe(false)
  })

  it("--remove puts back the entry and allow-list id that uninstall takes away", async () => {
    const home = tempHome()
    const original = { plugins: { allow: [PLUGIN_ID, "acpx"], entries: { [PLUGIN_ID]: { enabled: true, config: { a: 1 } } } } }
    writeConfig(home, original)
    expect((await setup(home, [], { version: "2026.9.6" })).code).toBe(0)
    const r = await setup(home, ["--remove"], { version: "2026.9.6" })
    expect(r.code, explain(r)).toBe(0)
    const after = readJson(home.config)
    expect(after.plugins.entries).toEqual(original.plugins.entries)
    expect([...after.plugins.allow].sort()).toEqual([...original.plugins.allow].sort())
  })

  it("--dry-run runs only --version and plugins list and writes nothing", async () => {
    const home = tempHome()
    writeConfig(home, {})
    const before = treeSnapshot(home.path)
    const r = await setup(home, ["--dry-run", "--json"], { version: "2026.9.6" })
    expect(r.code, explain(r)).toBe(0)
    expect(r.json.changed).toContain([fakeBin, ...installArgs(home)].join(" "))
    expect(r.calls).toEqual([["--version"], ["plugins", "list", "--json"]])
    expect(treeSnapshot(home.path)).toEqual(before)
  })

  it("a failing OpenClaw command: exit 1, its output quoted, bounded, without control characters", async () => {
    const home = tempHome()
    const r = await setup(home, [], { version: "2026.9.6", env: { OPENCLAW_FAKE_FAIL: "install" } })
    expect(r.code, explain(r)).toBe(1)
    expect(r.stderr).toContain(`\`${[fakeBin, ...installArgs(home)].join(" ")}\` failed (exit 1). Its output:`)
    expect(r.stderr).toContain("Error: plugins install failed because the fake was told so")
    expect(r.stderr).toMatch(/repeated \d+ more times/)
    expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\u202e]/)
    const quoted = r.stderr.split("\n").filter((l) => l.startsWith("  | ")).join("\n")
    expect(quoted.length).toBeGreaterThan(100)
    expect(quoted.length).toBeLessThan(2600)
    const json = await setup(tempHome(), ["--json"], { version: "2026.9.6", env: { OPENCLAW_FAKE_FAIL: "install" } })
    expect(json.code).toBe(1)
    expect(json.json.error.tag).toBe("OpenClawCommandFailed")
  })
})

describe("setup-openclaw refusals", () => {
  it("OpenClaw not found: exit 1 (--openclaw-bin, OPENCLAW_BIN, PATH)", async () => {
    const home = tempHome()
    const flag = await setup(home, ["--openclaw-bin", join(tools.path, "nope"), "--json"])
    expect(flag.code, explain(flag)).toBe(1)
    expect(flag.json.error.tag).toBe("OpenClawNotFound")
    const env = await setup(home, [], { env: { OPENCLAW_BIN: join(tools.path, "nope") } })
    expect(env.code).toBe(1)
    expect(env.stderr).toContain("OpenClaw not found")
    const path = await setup(home, [], { noBin: true })
    expect(path.code).toBe(1)
    expect(path.stderr).toContain("cannot run `openclaw`")
    // The flag wins over the environment.
    const both = await setup(home, ["--openclaw-bin", fakeBin], { env: { OPENCLAW_BIN: join(tools.path, "nope") } })
    expect(both.code, explain(both)).toBe(0)
    expect(existsSync(home.openclaw + "/openclaw.json")).toBe(true)
  })

  it.each([
    ["garbled", { OPENCLAW_FAKE_VERSION_TEXT: "\u001b[31mhello\u0007 world\n" }, "names no release"],
    ["a pre-OpenClaw release", { OPENCLAW_FAKE_VERSION: "2026.1.24" }, "older than 2026.1.29"],
    ["empty", { OPENCLAW_FAKE_VERSION_TEXT: "" }, "(nothing)"]
  ])("unsupported version (%s): exit 1, nothing written", async (_name, env, message) => {
    const home = tempHome()
    const before = treeSnapshot(home.path)
    const r = await setup(home, ["--json"], { env })
    expect(r.code, explain(r)).toBe(1)
    expect(r.json.error.tag).toBe("UnsupportedOpenClaw")
    expect(r.json.error.message).toContain(message)
    expect(r.stdout + r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/)
    expect(treeSnapshot(home.path)).toEqual(before)
  })

  it("refuses to copy from a git checkout or the npx cache", async () => {
    const home = tempHome()
    const checkout = await setup(home, ["--json"], { cli: join(repoRoot, "dist/cli.js") })
    expect(checkout.code, explain(checkout)).toBe(1)
    expect(checkout.json.error).toMatchObject({ tag: "NotAnInstalledPackage" })
    expect(checkout.json.error.message).toContain("git checkout")
    const npx = join(installCopy(join(tools.path, "npm-cache/_npx/0123abcd")), "dist/cli.js")
    const cached = await setup(home, [], { cli: npx })
    expect(cached.code, explain(cached)).toBe(1)
    expect(cached.stderr).toContain("npx's cache")
    expect(existsSync(pluginDirOf(home))).toBe(false)
  })

  it("usage errors exit 2", async () => {
    const r = await setup(tempHome(), ["--frobnicate"])
    expect(r.code, explain(r)).toBe(2)
  })
})
