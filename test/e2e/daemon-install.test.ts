/**
 * `qwen-auth daemon install [--print]` / `uninstall` end to end: the pinned systemd unit and
 * launchd agent (`--print` writes nothing), the files written into a temp home (XDG_CONFIG_HOME
 * honoured), `systemd-analyze verify` where the machine has it, the refusal from npx's cache,
 * and an `uninstall` that removes only its own file.
 */
import { describe, expect, it } from "vitest"
import { spawnSync } from "node:child_process"
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { cliPath, makeTempDir, nodeBin, repoRoot, runNode } from "../support/processes.ts"
import { afterThisTest, cli, explain, type Home, tempHome, treeSnapshot } from "./home.ts"

const LONG = 60_000
const node = realpathSync(nodeBin)
const bin = realpathSync(cliPath)

const environment = (home: Home) => [
  ["QWEN_HOME", `${home.path}/.qwen`],
  ["OPENCLAW_STATE_DIR", `${home.path}/.openclaw`],
  ["OPENCLAW_CONFIG_PATH", `${home.path}/.openclaw/openclaw.json`],
  ["OPENCLAW_AGENT_DIR", `${home.path}/.openclaw/agents/main/agent`],
  ["QWEN_OAUTH_BASE_URL", "http://127.0.0.1:9"],
  ["QWEN_OAUTH_CLIENT_ID", "my-client"],
  ["QWEN_OAUTH_SCOPE", "openid profile email model.completion"],
  ["QWEN_AUTH_REFRESH_MARGIN", "300"],
  ["QWEN_AUTH_QWEN_CODE_SYNC", "1"]
]

const SETTINGS = { QWEN_OAUTH_BASE_URL: "http://127.0.0.1:9", QWEN_OAUTH_CLIENT_ID: "my-client" }

const systemdUnit = (home: Home) =>
  [
    "# Written by `qwen-auth daemon install`; `qwen-auth daemon uninstall` removes it.",
    "[Unit]",
    "Description=qwen-auth daemon: keeps the Qwen login of OpenClaw and Qwen Code fresh",
    "Documentation=https://www.npmjs.com/package/qwen-portal-auth",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart="${node}" "${bin}" "daemon"`,
    ...environment(home).map(([k, v]) => `Environment="${k}=${v}"`),
    "Restart=on-failure",
    "RestartSec=5",
    "",
    "[Install]",
    "WantedBy=default.target",
    ""
  ].join("\n")

const launchdAgent = (home: Home) =>
  [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">`,
    "<!-- Written by `qwen-auth daemon install`; `qwen-auth daemon uninstall` removes it. -->",
    `<plist version="1.0">`,
    `<dict>`,
    `  <key>Label</key>`,
    `  <string>ai.qwen-auth.daemon</string>`,
    `  <key>ProgramArguments</key>`,
    `  <array>`,
    `    <string>${node}</string>`,
    `    <string>${bin}</string>`,
    `    <string>daemon</string>`,
    `  </array>`,
    `  <key>EnvironmentVariables</key>`,
    `  <dict>`,
    ...environment(home).flatMap(([k, v]) => [`    <key>${k}</key>`, `    <string>${v}</string>`]),
    `  </dict>`,
    `  <key>RunAtLoad</key>`,
    `  <true/>`,
    `  <key>KeepAlive</key>`,
    `  <true/>`,
    `  <key>ProcessType</key>`,
    `  <string>Background</string>`,
    `  <key>StandardOutPath</key>`,
    `  <string>${home.path}/Library/Logs/qwen-auth.log</string>`,
    `  <key>StandardErrorPath</key>`,
    `  <string>${home.path}/Library/Logs/qwen-auth.log</string>`,
    `</dict>`,
    `</plist>`,
    ``
  ].join("\n")

const darwin = { ...SETTINGS, NODE_ENV: "test", QWEN_AUTH_TEST_PLATFORM: "darwin" }

describe("qwen-auth daemon install --print", () => {
  it("prints the systemd user unit (this Node, the installed CLI, the settings; no token) and writes nothing", async () => {
    const home = tempHome()
    mkdirSync(home.path, { recursive: true })
    const before = treeSnapshot(home.path)
    const r = await cli(home, ["daemon", "install", "--print"], undefined, SETTINGS)
    expect(r.code, explain(r)).toBe(0)
    expect(r.stdout).toBe(systemdUnit(home))
    expect(r.stderr).toBe("")
    expect(treeSnapshot(home.path)).toEqual(before)
  }, LONG)

  it("prints the launchd agent on macOS", async () => {
    const home = tempHome()
    const r = await cli(home, ["daemon", "install", "--print"], undefined, darwin)
    expect(r.code, explain(r)).toBe(0)
    expect(r.stdout).toBe(launchdAgent(home))
  }, LONG)

  it("refuses to install from npx's cache (exit 1), which npm may clear", async () => {
    const home = tempHome()
    const cache = makeTempDir("qwen-auth-npx-")
    afterThisTest(cache.cleanup)
    const pkg = join(cache.path, ".npm/_npx/0123abcd/node_modules/qwen-portal-auth")
    mkdirSync(pkg, { recursive: true })
    cpSync(join(repoRoot, "dist"), join(pkg, "dist"), { recursive: true })
    cpSync(join(repoRoot, "package.json"), join(pkg, "package.json"))
    const r = await runNode(join(pkg, "dist/cli.js"), ["daemon", "install"], { env: { PATH: process.env.PATH ?? "", HOME: home.path, LANG: "C" } })
    expect(r.code, explain(r)).toBe(1)
    expect(r.stderr).toContain("runs from npx's cache")
    expect(r.stderr).toContain("npm install -g qwen-portal-auth")
    expect(existsSync(join(home.path, ".config"))).toBe(false)
  }, LONG)
})

describe("qwen-auth daemon install / uninstall", () => {
  it("writes ~/.config/systemd/user/qwen-auth.service ($XDG_CONFIG_HOME honoured), says what to run, and uninstall removes only it", async () => {
    const home = tempHome()
    const xdg = join(home.path, "xdg")
    const env = { ...SETTINGS, XDG_CONFIG_HOME: xdg }
    const unit = join(xdg, "systemd/user/qwen-auth.service")
    const r = await cli(home, ["daemon", "install"], undefined, env)
    expect(r.code, explain(r)).toBe(0)
    expect(readFileSync(unit, "utf8")).toBe(systemdUnit(home))
    expect((statSync(unit).mode & 0o777).toString(8)).toBe("644")
    expect(r.stdout).toContain(`Wrote ${unit}.`)
    for (const step of ["systemctl --user enable --now qwen-auth", "journalctl --user -u qwen-auth -f", "loginctl enable-linger $USER"]) {
      expect(r.stdout).toContain(step)
    }
    // Nothing started: no daemon lock in the Qwen home.
    expect(existsSync(join(home.qwen, "qwen-auth-daemon.lock"))).toBe(false)

    const again = await cli(home, ["daemon", "install"], undefined, env)
    expect(again.stdout).toContain("already up to date")

    const verify = spawnSync("systemd-analyze", ["verify", unit], { encoding: "utf8" })
    if (verify.error === undefined) {
      expect(verify.status, verify.stderr).toBe(0)
      expect(verify.stderr.trim()).toBe("")
    } else {
      console.log(`systemd-analyze not available (${verify.error.message}); unit not verified`)
    }

    // An enabled unit cannot be disabled once its file is gone: uninstall says to disable first.
    const wants = join(xdg, "systemd/user/default.target.wants")
    mkdirSync(wants, { recursive: true })
    symlinkSync(unit, join(wants, "qwen-auth.service"))
    const enabled = await cli(home, ["daemon", "uninstall"], undefined, env)
    expect(enabled.code, explain(enabled)).toBe(1)
    expect(enabled.stderr).toContain("systemctl --user disable --now qwen-auth")
    expect(existsSync(unit)).toBe(true)
    spawnSync("rm", [join(wants, "qwen-auth.service")])

    const other = join(xdg, "systemd/user/other.service")
    writeFileSync(other, "[Service]\nExecStart=/bin/true\n")
    const u = await cli(home, ["daemon", "uninstall"], undefined, env)
    expect(u.code, explain(u)).toBe(0)
    expect(u.stdout).toContain(`Removed ${unit}.`)
    expect(existsSync(unit)).toBe(false)
    expect(existsSync(other)).toBe(true)
    const none = await cli(home, ["daemon", "uninstall"], undefined, env)
    expect(none.code).toBe(0)
    expect(none.stdout).toContain("nothing to remove")
  }, LONG)

  it("never overwrites or removes a unit it did not write", async () => {
    const home = tempHome()
    const unit = join(home.path, ".config/systemd/user/qwen-auth.service")
    mkdirSync(join(home.path, ".config/systemd/user"), { recursive: true })
    writeFileSync(unit, "[Service]\nExecStart=/usr/local/bin/my-own\n")
    const i = await cli(home, ["daemon", "install"], undefined, SETTINGS)
    expect(i.code, explain(i)).toBe(1)
    expect(i.stderr).toContain("was not written by qwen-auth")
    const u = await cli(home, ["daemon", "uninstall"], undefined, SETTINGS)
    expect(u.code, explain(u)).toBe(1)
    expect(readFileSync(unit, "utf8")).toBe("[Service]\nExecStart=/usr/local/bin/my-own\n")
  }, LONG)

  it("writes ~/Library/LaunchAgents/ai.qwen-auth.daemon.plist on macOS", async () => {
    const home = tempHome()
    const r = await cli(home, ["daemon", "install"], undefined, darwin)
    expect(r.code, explain(r)).toBe(0)
    const plist = join(home.path, "Library/LaunchAgents/ai.qwen-auth.daemon.plist")
    expect(readFileSync(plist, "utf8")).toBe(launchdAgent(home))
    expect(r.stdout).toContain(`launchctl bootstrap gui/$(id -u) ${plist}`)
    expect(r.stdout).toContain(`tail -f ${home.path}/Library/Logs/qwen-auth.log`)
    const u = await cli(home, ["daemon", "uninstall"], undefined, darwin)
    expect(u.code, explain(u)).toBe(0)
    expect(u.stdout).toContain("launchctl bootout gui/$(id -u)/ai.qwen-auth.daemon")
    expect(existsSync(plist)).toBe(false)
  }, LONG)
})
