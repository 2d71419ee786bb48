/**
 * The service definitions `qwen-auth daemon install` writes: a systemd user unit on Linux, a
 * launchd agent on macOS. Pure rendering and paths; the command does the file work. The unit
 * runs the Node that ran `install` and the absolute path of the installed CLI, with the current
 * settings (paths, OAuth server, client id, scope, margin, sync) as its environment — never a
 * token, never a proxy URL (it may carry a password).
 *
 * @since 0.1.0
 */
import { Duration, Schema } from "effect"
import * as CliError from "effect/cli/CliError"
import { Runtime } from "effect"
import type { Settings } from "../Config.ts"
import { ExitCode } from "../domain/Errors.ts"

/** The first line of every file we write: `uninstall` removes only a file that has it. @since 0.1.0 @category constants */
export const MARKER = "Written by `qwen-auth daemon install`; `qwen-auth daemon uninstall` removes it."
/** @since 0.1.0 @category constants */
export const SYSTEMD_UNIT = "qwen-auth.service"
/** @since 0.1.0 @category constants */
export const LAUNCHD_LABEL = "ai.qwen-auth.daemon"

/** @since 0.1.0 @category models */
export type ServicePlatform = "linux" | "darwin"

/**
 * A service definition cannot be written or removed as asked.
 *
 * @since 0.1.0
 * @category errors
 */
export class ServiceUnitError extends Schema.TaggedError<ServiceUnitError>()("ServiceUnitError", {
  detail: Schema.String
}) {
  override get message() {
    return this.detail
  }
  override get [CliError.userMessage]() {
    return this.detail
  }
  override readonly [Runtime.errorExitCode] = ExitCode.error
}

/** What the unit runs. @since 0.1.0 @category models */
export interface UnitInput {
  /** `process.execPath` of the installing run. */
  readonly nodePath: string
  /** The installed CLI, absolute (`…/qwen-portal-auth/dist/cli.js`). */
  readonly binPath: string
  readonly environment: ReadonlyArray<readonly [string, string]>
}

/**
 * The settings a daemon needs to see the same files and server as the installing run.
 *
 * @since 0.1.0
 * @category rendering
 */
export const environmentOf = (s: Settings): ReadonlyArray<readonly [string, string]> => [
  ["QWEN_HOME", s.qwenHome],
  ["OPENCLAW_STATE_DIR", s.openclawStateDir],
  ["OPENCLAW_CONFIG_PATH", s.openclawConfigPath],
  ["OPENCLAW_AGENT_DIR", s.openclawAgentDir],
  ["QWEN_OAUTH_BASE_URL", s.oauthBaseUrl],
  ["QWEN_OAUTH_CLIENT_ID", s.clientId],
  ["QWEN_OAUTH_SCOPE", s.scope],
  ["QWEN_AUTH_REFRESH_MARGIN", String(Duration.toSeconds(s.refreshMargin))],
  ["QWEN_AUTH_QWEN_CODE_SYNC", s.qwenCodeSync ? "1" : "0"]
]

/** Where the definition goes. @since 0.1.0 @category paths */
export const unitPath = (platform: ServicePlatform, env: { readonly home: string; readonly xdgConfigHome: string | undefined }) =>
  platform === "darwin"
    ? `${env.home}/Library/LaunchAgents/${LAUNCHD_LABEL}.plist`
    : `${env.xdgConfigHome ?? `${env.home}/.config`}/systemd/user/${SYSTEMD_UNIT}`

/** launchd's log file. @since 0.1.0 @category paths */
export const launchdLogPath = (home: string) => `${home}/Library/Logs/qwen-auth.log`

/**
 * A bin inside npx's cache (`~/.npm/_npx/<hash>/…`) may be deleted by npm at any time.
 *
 * @since 0.1.0
 * @category checks
 */
export const isNpxCache = (binPath: string) => /(^|\/)_npx\//.test(binPath)

const refuseNewline = (what: string, value: string) => {
  if (/[\n\r\0]/.test(value)) throw new ServiceUnitError({ detail: `${what} contains a line break; it cannot go into a service definition` })
  return value
}

// =============================================================================
// systemd
// =============================================================================

/** One word of `ExecStart=`, double-quoted (systemd.service "Command lines"; `%` and `$` doubled). */
const systemdWord = (s: string) => `"${refuseNewline("a path", s).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%").replace(/\$/g, "$$$$")}"`

/** One `Environment=` assignment, double-quoted (`%` doubled; no `$` expansion there). */
const systemdAssignment = (name: string, value: string) =>
  `"${name}=${refuseNewline(name, value).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%")}"`

/**
 * The systemd user unit.
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderSystemd = (input: UnitInput): string =>
  [
    `# ${MARKER}`,
    "[Unit]",
    "Description=qwen-auth daemon: keeps the Qwen login of OpenClaw and Qwen Code fresh",
    "Documentation=https://www.npmjs.com/package/qwen-portal-auth",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${[input.nodePath, input.binPath, "daemon"].map(systemdWord).join(" ")}`,
    ...input.environment.map(([k, v]) => `Environment=${systemdAssignment(k, v)}`),
    "Restart=on-failure",
    "RestartSec=5",
    "",
    "[Install]",
    "WantedBy=default.target",
    ""
  ].join("\n")

// =============================================================================
// launchd
// =============================================================================

const xml = (s: string) =>
  refuseNewline("a value", s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

/**
 * The launchd agent (a property list).
 *
 * @since 0.1.0
 * @category rendering
 */
export const renderLaunchd = (input: UnitInput, home: string): string =>
  [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">`,
    `<!-- ${MARKER} -->`,
    `<plist version="1.0">`,
    `<dict>`,
    `  <key>Label</key>`,
    `  <string>${LAUNCHD_LABEL}</string>`,
    `  <key>ProgramArguments</key>`,
    `  <array>`,
    ...[input.nodePath, input.binPath, "daemon"].map((a) => `    <string>${xml(a)}</string>`),
    `  </array>`,
    `  <key>EnvironmentVariables</key>`,
    `  <dict>`,
    ...input.environment.flatMap(([k, v]) => [`    <key>${xml(k)}</key>`, `    <string>${xml(v)}</string>`]),
    `  </dict>`,
    `  <key>RunAtLoad</key>`,
    `  <true/>`,
    `  <key>KeepAlive</key>`,
    `  <true/>`,
    `  <key>ProcessType</key>`,
    `  <string>Background</string>`,
    `  <key>StandardOutPath</key>`,
    `  <string>${xml(launchdLogPath(home))}</string>`,
    `  <key>StandardErrorPath</key>`,
    `  <string>${xml(launchdLogPath(home))}</string>`,
    `</dict>`,
    `</plist>`,
    ``
  ].join("\n")

/**
 * What to run after `install` writes the file (the command starts nothing itself).
 *
 * @since 0.1.0
 * @category rendering
 */
export const nextSteps = (platform: ServicePlatform, path: string, home: string): ReadonlyArray<string> =>
  platform === "darwin"
    ? [
      "Start it now and at every login:",
      `  launchctl bootstrap gui/$(id -u) ${path}`,
      "Follow its log:",
      `  tail -f ${launchdLogPath(home)}`
    ]
    : [
      "Start it now and at every login:",
      "  systemctl --user daemon-reload",
      "  systemctl --user enable --now qwen-auth",
      "Follow its log:",
      "  journalctl --user -u qwen-auth -f",
      "On a headless host (no desktop session), keep it running while you are logged out:",
      "  loginctl enable-linger $USER"
    ]

/** What to run before `uninstall` removes the file. @since 0.1.0 @category rendering */
export const stopHint = (platform: ServicePlatform) =>
  platform === "darwin"
    ? `launchctl bootout gui/$(id -u)/${LAUNCHD_LABEL}`
    : "systemctl --user disable --now qwen-auth"
