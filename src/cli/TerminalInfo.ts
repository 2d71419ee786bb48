/**
 * What the CLI needs to know about where it runs: is stderr a terminal (QR, spinner), can a
 * browser be opened (cli-contract.md `login`). A service, so tests decide instead of the machine.
 */
import { Config, Context, Effect, Layer, Option } from "effect"

export interface TerminalInfoShape {
  readonly stderrIsTty: boolean
  readonly platform: string
  /** The environment variables that decide browser opening, as read at start. */
  readonly env: {
    readonly SSH_CONNECTION?: string
    readonly SSH_TTY?: string
    readonly DISPLAY?: string
    readonly WAYLAND_DISPLAY?: string
    readonly QWEN_AUTH_NO_BROWSER?: string
    readonly BROWSER?: string
  }
}

export class TerminalInfo extends Context.Service<TerminalInfo, TerminalInfoShape>()("qwen-auth/cli/TerminalInfo") {
  static readonly layer = Layer.effect(
    TerminalInfo,
    Effect.gen(function*() {
      const names = ["SSH_CONNECTION", "SSH_TTY", "DISPLAY", "WAYLAND_DISPLAY", "QWEN_AUTH_NO_BROWSER", "BROWSER"] as const
      const env: Record<string, string> = {}
      for (const name of names) {
        const value = yield* Config.option(Config.String(name)).pipe(Effect.orDie)
        if (Option.isSome(value)) env[name] = value.value
      }
      return TerminalInfo.of({ stderrIsTty: process.stderr.isTTY === true, platform: process.platform, env })
    })
  )
}

/**
 * Why no browser is opened, or undefined when one may be (cli-contract.md: `--no-browser`,
 * `QWEN_AUTH_NO_BROWSER=1`, an SSH session, no graphical session on Linux).
 */
export const browserBlocker = (info: TerminalInfoShape, noBrowserFlag: boolean): string | undefined => {
  if (noBrowserFlag) return "--no-browser"
  if (info.env.QWEN_AUTH_NO_BROWSER === "1") return "QWEN_AUTH_NO_BROWSER=1"
  if (info.env.SSH_CONNECTION || info.env.SSH_TTY) return "SSH session"
  if (info.platform === "linux" && !info.env.DISPLAY && !info.env.WAYLAND_DISPLAY) return "no graphical session"
  return undefined
}
