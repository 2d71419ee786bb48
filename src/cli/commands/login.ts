/**
 * `qwen-auth login [--set-default] [--force] [--no-browser] [--no-qr] [--timeout <n>[s|m]]
 * [--provider qwen-portal] [--json]` (cli-contract.md `login`).
 *
 * People read stderr: the URL and code first, a QR code and a spinner only on a terminal, then
 * the result. stdout stays empty unless `--json`, which prints exactly one object. Secrets are
 * never printed.
 */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import * as Login from "../../login/Login.ts"
import type { DeviceAuthorization, LoginResult } from "../../login/Login.ts"
import * as QwenAuth from "../../QwenAuth.ts"
import { openBrowser } from "../Browser.ts"
import { withStore } from "../Environment.ts"
import { makeLoginProgress } from "../LoginProgress.ts"
import { printJson, say } from "../Output.ts"
import { renderQr } from "../Qr.ts"
import { browserBlocker, TerminalInfo } from "../TerminalInfo.ts"

/** `<n>[s|m]` → seconds; undefined when malformed or not positive. */
export const parseTimeout = (value: string): number | undefined => {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([sm]?)\s*$/i.exec(value)
  if (match === null) return undefined
  const seconds = Number(match[1]) * (match[2]?.toLowerCase() === "m" ? 60 : 1)
  return Number.isFinite(seconds) && seconds > 0 ? seconds : undefined
}

const flags = {
  setDefault: Flag.Boolean("set-default").pipe(
    Flag.withDescription("Also make qwen-portal/coder-model OpenClaw's default model"),
    Flag.withDefault(false)
  ),
  force: Flag.Boolean("force").pipe(
    Flag.withDescription("Run a new device login even when valid credentials exist"),
    Flag.withDefault(false)
  ),
  browser: Flag.Boolean("browser").pipe(
    Flag.withDescription("Open the verification page in a browser (--no-browser or QWEN_AUTH_NO_BROWSER=1: don't)"),
    Flag.withDefault(true)
  ),
  qr: Flag.Boolean("qr").pipe(
    Flag.withDescription("Show a QR code of the verification page on a terminal (--no-qr: don't)"),
    Flag.withDefault(true)
  ),
  timeout: Flag.String("timeout").pipe(
    Flag.withMetavar("<n>[s|m]"),
    Flag.withDescription("Give up waiting for approval after <n> seconds (or <n>m minutes); default: the code's lifetime"),
    Flag.filterMap(
      (v) => Option.fromUndefinedOr(parseTimeout(v)),
      (v) => `Expected a positive duration such as 90, 90s or 5m, got "${v}"`
    ),
    Flag.optional
  ),
  provider: Flag.Literals("provider", ["qwen-portal"]).pipe(
    Flag.withDescription("The OpenClaw provider to log in (only qwen-portal)"),
    Flag.withDefault("qwen-portal" as const)
  ),
  json: Flag.Boolean("json").pipe(Flag.withDescription("Print one JSON object"), Flag.withDefault(false))
}

type Flags = Command.Command.Config.Infer<typeof flags>

/** Everything shown before polling starts, in the contract's order. */
const showDevice = (device: DeviceAuthorization, options: { readonly qr: boolean; readonly browser: boolean }) =>
  Effect.gen(function*() {
    const info = yield* TerminalInfo
    const page = device.verificationUriComplete ?? device.verificationUri
    // RFC 8628 §3.3.1: the code is always shown, so the user can compare it with the page's.
    yield* say(`To log in to Qwen, open ${device.verificationUri}\nand enter the code: ${device.userCode}`)
    if (device.verificationUriComplete !== undefined) yield* say(`(or open ${device.verificationUriComplete})`)
    if (info.stderrIsTty && options.qr) yield* say(renderQr(page))
    const blocker = browserBlocker(info, !options.browser)
    if (blocker !== undefined) {
      yield* say(`Not opening a browser (${blocker}); open the link above yourself.`)
    } else {
      yield* openBrowser(page, info.platform).pipe(
        Effect.andThen(say("Opened the verification page in your browser.")),
        Effect.catch((reason) => say(`Warning: could not open a browser (${reason}); open the link above yourself.`))
      )
    }
  })

const report = (json: boolean, result: LoginResult) =>
  Effect.gen(function*() {
    const expires = new Date(result.credentials.expiresAt).toISOString()
    yield* say(
      result.reused
        ? `Already logged in (${result.refreshed ? "refreshed; " : ""}expires ${expires}); use --force for a new login.`
        : `Logged in to Qwen (the token is valid until ${expires}).`
    )
    if (result.backup !== undefined) yield* say(`Backed up the previous OpenClaw config to ${result.backup}`)
    for (const w of result.warnings) yield* say(`Warning: ${w}`)
    for (const n of result.notices) yield* say(n)
    if (json) {
      yield* printJson({
        loggedIn: true,
        reused: result.reused,
        expiresAt: expires,
        baseUrl: result.baseUrl,
        defaultModel: result.defaultModel,
        wrote: result.wrote,
        pendingConfig: result.pendingConfig.map((e) => ({
          path: e.path,
          ...(e.remove === true ? { remove: true } : { value: e.value }),
          file: e.file
        }))
      })
    }
  })

const run = (f: Flags) =>
  Effect.gen(function*() {
    const info = yield* TerminalInfo
    const result = yield* Effect.scoped(Effect.gen(function*() {
      const progress = yield* makeLoginProgress(info.stderrIsTty)
      const done = yield* Login.login({
        force: f.force,
        openclaw: { _tag: "Files", setDefault: f.setDefault },
        timeoutSeconds: Option.getOrUndefined(f.timeout),
        onNewLogin: say,
        onDevice: (device) => showDevice(device, { qr: f.qr, browser: f.browser }),
        onProgress: progress.onProgress
      })
      yield* progress.stop
      return done
    }))
    yield* report(f.json, result)
  })

export const login = Command.make("login", flags, (f) =>
  run(f).pipe(
    Effect.provide([QwenAuth.httpClient, TerminalInfo.layer]),
    withStore
  )).pipe(
    Command.withDescription("Log in to Qwen with a device code and set up OpenClaw (and Qwen Code) to use it"),
    Command.withExamples([
      { command: "qwen-auth login", description: "Log in (reuses a valid login)" },
      { command: "qwen-auth login --set-default", description: "Log in and make Qwen Coder OpenClaw's default model" },
      { command: "qwen-auth login --no-browser --timeout 5m", description: "Log in over SSH, giving up after 5 minutes" }
    ])
  )

