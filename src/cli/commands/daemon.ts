/**
 * `qwen-auth daemon [--json]`: the token actor as a foreground service that keeps every copy
 * fresh (src/daemon/Daemon.ts); `qwen-auth daemon install [--print]` / `uninstall`: its systemd
 * user unit or launchd agent (src/daemon/ServiceUnit.ts). A signal (SIGTERM, SIGINT, SIGHUP) is
 * the daemon's normal end: exit 0 once it has stopped cleanly.
 */
import { Config, Console, Effect, FileSystem, Logger, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { QwenAuthConfig } from "../../Config.ts"
import * as Daemon from "../../daemon/Daemon.ts"
import { installUnit, uninstallUnit } from "../../daemon/ServiceInstall.ts"
import {
  environmentOf,
  isNpxCache,
  nextSteps,
  renderLaunchd,
  renderSystemd,
  type ServicePlatform,
  ServiceUnitError,
  stopHint,
  unitPath
} from "../../daemon/ServiceUnit.ts"
import * as QwenAuth from "../../QwenAuth.ts"
import { markStoppedCleanly } from "../CleanStop.ts"
import { withSettings, withStore } from "../Environment.ts"
import { processIsAlive } from "../ProcessAlive.ts"

const json = Flag.Boolean("json").pipe(
  Flag.withDescription("One JSON object per event on stderr: {time, level, event, expiresAt?, nextRefreshAt?, message}"),
  Flag.withDefault(false)
)

// =============================================================================
// daemon
// =============================================================================

const runDaemon = (json: boolean) =>
  Effect.scoped(Daemon.run({ pid: process.pid, isAlive: processIsAlive, json })).pipe(
    Effect.onInterrupt(() => Effect.sync(markStoppedCleanly)),
    Effect.provide(Logger.layer([Daemon.daemonLogger(json)])),
    Effect.provide(QwenAuth.httpClient),
    withStore
  )

// =============================================================================
// install / uninstall
// =============================================================================

const env = (name: string) =>
  Config.option(Config.String(name)).pipe(
    Effect.orDie,
    Effect.map((o) => Option.getOrUndefined(Option.filter(o, (s) => s.trim() !== "")))
  )

/** The platform, with a test-only override (ignored unless NODE_ENV=test). */
const platformNow: Effect.Effect<ServicePlatform, ServiceUnitError> = Effect.gen(function*() {
  const override = (yield* env("NODE_ENV")) === "test" ? yield* env("QWEN_AUTH_TEST_PLATFORM") : undefined
  const platform = override ?? process.platform
  if (platform === "linux" || platform === "darwin") return platform
  return yield* new ServiceUnitError({
    detail: `qwen-auth daemon install knows systemd (Linux) and launchd (macOS), not ${platform}; run \`qwen-auth daemon\` under your service manager`
  })
})

const where = Effect.gen(function*() {
  const platform = yield* platformNow
  const home = (yield* env("HOME")) ?? "/"
  const path = unitPath(platform, { home, xdgConfigHome: yield* env("XDG_CONFIG_HOME") })
  return { platform, home, path }
})

/** The unit's text for this run: its Node, its installed CLI, its settings. */
const render = (platform: ServicePlatform, home: string) =>
  Effect.gen(function*() {
    const settings = yield* QwenAuthConfig
    const fs = yield* FileSystem.FileSystem
    const argv1 = process.argv[1] ?? ""
    const binPath = yield* fs.realPath(argv1).pipe(Effect.orElseSucceed(() => argv1))
    if (isNpxCache(binPath)) {
      return yield* new ServiceUnitError({
        detail: `qwen-auth runs from npx's cache (${binPath}), which npm may clear at any time.\n` +
          "Install it (`npm install -g qwen-portal-auth`) and run `qwen-auth daemon install` from there."
      })
    }
    const input = { nodePath: process.execPath, binPath, environment: environmentOf(settings) }
    return yield* Effect.try({
      try: () => platform === "darwin" ? renderLaunchd(input, home) : renderSystemd(input),
      catch: (e) => e instanceof ServiceUnitError ? e : new ServiceUnitError({ detail: String(e) })
    })
  })

const install = Command.make(
  "install",
  {
    print: Flag.Boolean("print").pipe(Flag.withDescription("Print the service definition on stdout; write nothing"), Flag.withDefault(false))
  },
  ({ print }) =>
    Effect.gen(function*() {
      const { home, path, platform } = yield* where
      const text = yield* render(platform, home)
      if (print) return yield* Console.log(text.replace(/\n$/, ""))
      const done = yield* installUnit(path, text)
      yield* Console.log(done === "unchanged" ? `${path} is already up to date.` : `${done === "updated" ? "Updated" : "Wrote"} ${path}.`)
      yield* Console.log(nextSteps(platform, path, home).join("\n"))
    }).pipe(withSettings)
).pipe(
  Command.withDescription("Write a systemd user unit (Linux) or launchd agent (macOS) that runs `qwen-auth daemon`; starts nothing"),
  Command.withExamples([
    { command: "qwen-auth daemon install --print", description: "Show the unit without writing it" },
    { command: "qwen-auth daemon install", description: "Write it, then follow the printed steps" }
  ])
)

const uninstall = Command.make("uninstall", {}, () =>
  Effect.gen(function*() {
    const { path, platform } = yield* where
    const removed = yield* uninstallUnit(path, platform)
    if (!removed) return yield* Console.log(`No qwen-auth service definition at ${path}; nothing to remove.`)
    yield* Console.log(`Removed ${path}.`)
    yield* Console.log(
      platform === "darwin"
        ? `If the agent is still loaded: ${stopHint(platform)}`
        : "If systemd still lists it: systemctl --user daemon-reload"
    )
  }).pipe(withSettings)).pipe(Command.withDescription("Remove the service definition `install` wrote (only that file)"))

export const daemon = Command.make("daemon", { json }, ({ json }) => runDaemon(json)).pipe(
  Command.withDescription(
    "Keep every copy of the Qwen login fresh ahead of expiry, in the foreground (one per Qwen home; stop with SIGTERM or Ctrl-C)"
  ),
  Command.withExamples([
    { command: "qwen-auth daemon", description: "Run in the foreground (systemd, launchd, Docker, tmux)" },
    { command: "qwen-auth daemon --json", description: "Events as JSON lines on stderr" }
  ]),
  Command.withSubcommands([install, uninstall])
)
