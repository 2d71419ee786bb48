/**
 * The pure parts of setup-openclaw: reading OpenClaw's answers, quoting its output, the child
 * environment, and the config edits with their exact undo.
 */
import { describe, expect, it } from "vitest"
import { PLUGIN_ID } from "../../src/store/openclaw/Ids.ts"
import * as Registration from "../../src/store/openclaw/PluginRegistration.ts"
import { childEnv, parseJsonOutput, parseVersion, quoteOutput } from "../../src/setup/OpenClawCli.ts"
import { methodFor } from "../../src/setup/SetupOpenClaw.ts"
import { pluginManifest } from "../../src/setup/PluginPackage.ts"

describe("parseVersion", () => {
  it.each([
    ["OpenClaw 2026.3.24 (cff6dc9)\n", "2026.3.24", "load-paths"],
    ["OpenClaw 2026.9.6 (eb377ac)\n", "2026.9.6", "plugins-install"],
    ["2026.1.24-3\n", "2026.1.24-3", undefined],
    ["[warn] something first\nOpenClaw 2026.3.25 (abc1234)\n", "2026.3.25", "plugins-install"]
  ])("%j → %s", (text, release, method) => {
    const parsed = parseVersion(text)
    expect(parsed?.text).toBe(release)
    expect(methodFor(parsed!)).toBe(method)
  })

  it.each(["", "hello", "OpenClaw 2026.13.1", "clawdbot 2026.3.24 and more", "OpenClaw 26.3.24"])("refuses %j", (text) => {
    expect(parseVersion(text)).toBeUndefined()
  })
})

describe("parseJsonOutput", () => {
  it("skips log lines before the object (2026.3.24 prints them on stdout)", () => {
    const out = "[agents/auth-profiles] synced qwen-portal credentials from external cli\n{\n  \"plugins\": []\n}\n"
    expect(parseJsonOutput(out)).toEqual({ plugins: [] })
  })
  it("ignores lines after the object, and refuses output without one", () => {
    expect(parseJsonOutput("{\n\"a\": 1\n}\ntrailing log\n")).toEqual({ a: 1 })
    expect(parseJsonOutput("no json here\n")).toBeUndefined()
  })
})

describe("quoteOutput", () => {
  it("strips escape sequences and control characters, folds repeats, keeps the end within the bound", () => {
    const distinct = Array.from({ length: 100 }, (_, i) => `line ${i} ${"y".repeat(30)}`).join("\n")
    const text = "\u001b[33mwarn\u001b[39m\r\n".repeat(300) + distinct + "\n" + "x".repeat(5000) + "\nError: boom\u0007\u202e\n"
    const q = quoteOutput(text)
    expect(q).toContain(`${"x".repeat(239)}…\nError: boom`)
    expect(q.length).toBeLessThanOrEqual(2000)
    expect(q.endsWith("Error: boom")).toBe(true)
    expect(q.startsWith("…")).toBe(true)
    expect(q).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/)
    expect(quoteOutput("a\na\na\nb")).toBe("a\n(the line above repeated 2 more times)\nb")
  })
})

describe("childEnv", () => {
  it("passes what a program needs and the user's OPENCLAW_* settings, not other secrets; sets our paths", () => {
    const env = childEnv(
      {
        PATH: "/bin",
        HOME: "/h",
        LC_ALL: "C",
        NODE_OPTIONS: "--import=x",
        OPENCLAW_PROFILE: "work",
        OPENCLAW_STATE_DIR: "/elsewhere",
        OPENCLAW_BIN: "/usr/bin/openclaw",
        OPENAI_API_KEY: "sk-secret",
        GITHUB_TOKEN: "ghp_secret",
        QWEN_OAUTH_CLIENT_ID: "x"
      },
      { stateDir: "/h/.openclaw", configPath: "/h/.openclaw/openclaw.json" }
    )
    expect(env).toEqual({
      PATH: "/bin",
      HOME: "/h",
      LC_ALL: "C",
      NODE_OPTIONS: "--import=x",
      OPENCLAW_PROFILE: "work",
      OPENCLAW_STATE_DIR: "/h/.openclaw",
      OPENCLAW_CONFIG_PATH: "/h/.openclaw/openclaw.json",
      NO_COLOR: "1",
      FORCE_COLOR: "0"
    })
  })
})

describe("pluginManifest", () => {
  it("drops dependencies, scripts and library entry points (the plugin bundle is self-contained)", () => {
    const pkg = {
      name: PLUGIN_ID,
      version: "1.0.0",
      type: "module",
      license: "MIT",
      description: "d",
      bin: { "qwen-auth": "dist/cli.js" },
      main: "./dist/lib/index.js",
      exports: { ".": "./dist/lib/index.js" },
      files: ["dist"],
      openclaw: { extensions: ["./dist/openclaw-plugin.js"] },
      engines: { node: ">=22.19" },
      scripts: { prepare: "node scripts/build.mjs" },
      dependencies: { json5: "^2" },
      devDependencies: { vitest: "1" },
      peerDependencies: { effect: "4" }
    }
    expect(pluginManifest(pkg)).toEqual({
      name: PLUGIN_ID,
      version: "1.0.0",
      description: "d",
      license: "MIT",
      type: "module",
      engines: { node: ">=22.19" },
      openclaw: { extensions: ["./dist/openclaw-plugin.js"] }
    })
  })
})

describe("PluginRegistration", () => {
  const dir = "/h/.openclaw/extensions/qwen-portal-auth"

  it.each([
    ["an empty config", {}],
    ["a busy config", { x: 1, plugins: { allow: ["a"], deny: ["b"], entries: { a: { enabled: true } }, load: { paths: ["/p"] } } }],
    ["our entry disabled with settings", { plugins: { entries: { [PLUGIN_ID]: { enabled: false, config: { k: 1 } } } } }],
    ["an empty allow list (stays empty)", { plugins: { allow: [] } }]
  ])("addLoadPath then removeLoadPath gives back %s", (_name, config) => {
    const added = Registration.addLoadPath(config, dir)
    expect(added.changes.length).toBeGreaterThan(0)
    expect(Registration.addLoadPath(added.next, dir).changes).toEqual([])
    expect(Registration.removeLoadPath(added.next, dir, added.record).next).toEqual(config)
  })

  it("appends to a non-empty allow list only", () => {
    expect(Registration.addLoadPath({ plugins: { allow: ["a"] } }, dir).next).toMatchObject({ plugins: { allow: ["a", PLUGIN_ID] } })
    expect(Registration.addLoadPath({}, dir).next).not.toHaveProperty("plugins.allow")
  })

  it("keeps what the user changed after setup", () => {
    const added = Registration.addLoadPath({}, dir)
    const edited = { ...added.next, plugins: { ...(added.next.plugins as object), load: { paths: [dir, "/mine"] } } }
    expect(Registration.removeLoadPath(edited, dir, added.record).next).toEqual({ plugins: { load: { paths: ["/mine"] } } })
  })

  it("restoreAfterUninstall puts back the entry and list ids, and drops an entry that was not there", () => {
    const before = Registration.beforeInstall({ plugins: { allow: [PLUGIN_ID], deny: [PLUGIN_ID], entries: { [PLUGIN_ID]: { config: { a: 1 } } } } })
    expect(Registration.restoreAfterUninstall({ plugins: {} }, before).next).toEqual({
      plugins: { entries: { [PLUGIN_ID]: { config: { a: 1 } } }, allow: [PLUGIN_ID], deny: [PLUGIN_ID] }
    })
    const none = Registration.beforeInstall({})
    expect(Registration.restoreAfterUninstall({ plugins: { entries: { [PLUGIN_ID]: { enabled: false } } } }, none).next).toEqual({
      plugins: { entries: {} }
    })
  })
})
