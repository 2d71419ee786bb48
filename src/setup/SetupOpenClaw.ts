/**
 * `qwen-auth setup-openclaw`: registers qwen-auth's plugin with the user's OpenClaw the way that
 * release honours, checks that OpenClaw loads it, and with `remove` undoes exactly what it added
 * (its issue; cli-contract.md "Commands").
 *
 * 1. `<bin> --version` names the release (2026.1.29, the first named OpenClaw, or later).
 * 2. The files `npm pack` ships are copied from the installed package to
 *    `<state>/extensions/qwen-portal-auth/` (package.json without dependencies: the plugin bundle
 *    is self-contained, so nothing is fetched; see `PluginPackage.pluginManifest`).
 * 3. 2026.3.24 and earlier: that folder goes into `plugins.load.paths` and the entry is enabled
 *    (origin `config` wins over the bundled plugin; `plugins install` would lose to it).
 *    Later releases: `openclaw plugins install --force --accept-capabilities <folder>`.
 * 4. `openclaw plugins list --json` must show qwen-portal-auth from that folder `loaded` with
 *    provider `qwen-portal`, and no bundled qwen-portal-auth loaded.
 *
 * What was added is recorded in `<qwen home>/qwen-auth-setup.json` (`SetupRecord.ts`).
 *
 * @since 0.1.0
 */
import { Clock, Effect, FileSystem } from "effect"
import type { ChildProcessSpawner } from "effect/process"
import { createHash } from "node:crypto"
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { pathsOf, QwenAuthConfig } from "../Config.ts"
import { ConfigProblem, type FileAccessError, type LockError, type MalformedFile } from "../domain/Errors.ts"
import { recordConfig } from "../login/OpenClawSetup.ts"
import { readConfig, sha256Hex } from "../store/openclaw/ConfigFile.ts"
import { rewrite } from "../store/openclaw/ConfigRewrite.ts"
import { describePending } from "../store/openclaw/PendingConfig.ts"
import { PLUGIN_ID } from "../store/openclaw/Ids.ts"
import { getIn, type JsonObject } from "../store/openclaw/Json.ts"
import * as Registration from "../store/openclaw/PluginRegistration.ts"
import { removeIfExists } from "../store/AtomicWrite.ts"
import * as StateFile from "../store/StateFile.ts"
import * as OpenClawCli from "./OpenClawCli.ts"
import * as PluginCheck from "./PluginCheck.ts"
import * as PluginPackage from "./PluginPackage.ts"
import { PluginNotLoaded, type SetupError, UnsupportedOpenClaw } from "./SetupErrors.ts"
import * as SetupRecord from "./SetupRecord.ts"

// =============================================================================
// Models
// =============================================================================

/** @since 0.1.0 @category models */
export type Method = "load-paths" | "plugins-install"

/** @since 0.1.0 @category models */
export interface SetupOptions {
  readonly remove: boolean
  readonly dryRun: boolean
  /** `--openclaw-bin`; else `OPENCLAW_BIN` in `env`; else `openclaw` on PATH. */
  readonly openclawBin?: string | undefined
  /** The environment OpenClaw's is taken from (`OpenClawCli.childEnv` keeps only part of it). */
  readonly env: Readonly<Record<string, string | undefined>>
}

/** What a run did (or, with `dryRun`, would do). @since 0.1.0 @category models */
export interface SetupResult {
  readonly openclawVersion: string | null
  readonly method: Method | null
  /** One line per change; empty when there was nothing to do. */
  readonly changed: ReadonlyArray<string>
  /** OpenClaw loads qwen-auth's plugin (after the run; with `dryRun`, as it is now). */
  readonly pluginLoaded: boolean
  readonly warnings: ReadonlyArray<string>
  /** Set when OpenClaw does not load the plugin after setup (exit 1). */
  readonly notLoaded?: PluginNotLoaded | undefined
}

/** The last release that bundles qwen-portal-auth; it and older ones use `plugins.load.paths`. */
export const LAST_BUNDLING_RELEASE = { year: 2026, month: 3, day: 24 } as const
/** The first release named OpenClaw (the `openclaw` executable). */
export const FIRST_SUPPORTED_RELEASE = { year: 2026, month: 1, day: 29 } as const

/**
 * Said once per run on 2026.3.24 and older (hosts.md): OpenClaw calls its own bundled Qwen
 * refresher, and drops what a plugin refresher returns.
 */
export const REFRESH_WARNING = "This OpenClaw cannot refresh Qwen logins itself (it always calls its bundled refresher, " +
  "and does not save a plugin's refreshed token). Keep the login fresh with `qwen-auth daemon` (`qwen-auth daemon " +
  "install` runs it as a service), or by running `qwen-auth token` (or an Effect program using QwenAuth.layer) before " +
  "the token expires: it refreshes and writes auth-profiles.json under OpenClaw's lock."

const START_FOLDER = dirname(fileURLToPath(import.meta.url))
const REGISTRY_REFRESH = ["plugins", "registry", "--refresh"]

// =============================================================================
// Helpers
// =============================================================================

/** Chooses how to register the plugin with a release. @since 0.1.0 @category utils */
export const methodFor = (release: OpenClawCli.Release): Method | undefined => {
  if (OpenClawCli.compareRelease(release, FIRST_SUPPORTED_RELEASE) < 0) return undefined
  return OpenClawCli.compareRelease(release, LAST_BUNDLING_RELEASE) <= 0 ? "load-paths" : "plugins-install"
}

/** Where a folder that was in our place before the first setup is kept until `--remove`. */
const previousFolderFor = Effect.fnUntraced(function*(qwenHome: string, pluginDir: string) {
  const now = yield* Clock.currentTimeMillis
  const id = createHash("sha256").update(pluginDir).digest("hex").slice(0, 12)
  return `${qwenHome}/qwen-auth-setup.previous/${id}-${now}`
})

const describeCopy = (copy: PluginPackage.CopyPlan, pluginDir: string, version: string): ReadonlyArray<string> => {
  const out: Array<string> = []
  if (copy.write.length > 0) {
    out.push(copy.folderExists
      ? `updated ${copy.write.length} file(s) of qwen-portal-auth ${version} in ${pluginDir}`
      : `copied qwen-portal-auth ${version} (${copy.write.length} files) to ${pluginDir}`)
  }
  if (copy.extra.length > 0) out.push(`removed ${copy.extra.length} file(s) from ${pluginDir} that ${version} does not ship`)
  return out
}

/** Edits `openclaw.json` with `edit`, backing it up when qwen-auth did not write it last; never a config using `$include`. */
const editConfig = <A>(configPath: string, edit: (config: JsonObject) => Registration.Edit<A>) =>
  Effect.gen(function*() {
    const state = yield* StateFile.read
    let applied: Registration.Edit<A> | undefined
    const out = yield* rewrite(configPath, {
      merge: (value) =>
        Effect.sync(() => {
          applied = edit(value)
          return { next: applied.next, changed: applied.changes.length > 0, extra: undefined }
        }),
      includes: true,
      backupUnless: { sha256: state.lastWrittenConfigSha256 }
    })
    if (out.pending !== undefined) {
      return yield* new ConfigProblem({
        path: configPath,
        problem: describePending(`${out.pending.why} Add these entries yourself, then run setup again:`, out.pending.entries)
      })
    }
    if (out.written && out.text !== undefined) yield* recordConfig({ lastWrittenConfigSha256: sha256Hex(out.text) })
    return { edit: applied!, backup: out.backup }
  })

// =============================================================================
// Setup
// =============================================================================

const setup = Effect.fnUntraced(function*(options: SetupOptions) {
  const settings = yield* QwenAuthConfig
  const configPath = pathsOf(settings).openclawConfig
  const pluginDir = `${settings.openclawStateDir}/extensions/${PLUGIN_ID}`
  const recordPath = SetupRecord.recordPathOf(settings.qwenHome)
  const bin = binOf(options)
  const env = OpenClawCli.childEnv(options.env, { stateDir: settings.openclawStateDir, configPath })

  const release = yield* OpenClawCli.version(bin, env)
  const method = methodFor(release)
  if (method === undefined) {
    return yield* new UnsupportedOpenClaw({
      version: release.text,
      reason: `OpenClaw ${release.text} is older than 2026.1.29, the first release named OpenClaw; update it`
    })
  }
  const pkg = yield* PluginPackage.read(yield* PluginPackage.locate(START_FOLDER))
  const records = yield* SetupRecord.read(recordPath)
  const existing = records.find((r) => r.pluginDir === pluginDir)
  const warnings: Array<string> = []
  const changed: Array<string> = []

  // A folder we did not create (an earlier manual install) is moved aside, not overwritten.
  let copy = yield* PluginPackage.plan(pkg, pluginDir)
  const foreign = copy.folderExists && existing === undefined
  const previousFolder = foreign ? yield* previousFolderFor(settings.qwenHome, pluginDir) : undefined
  if (foreign) {
    changed.push(`moved the existing ${pluginDir} to ${previousFolder} (--remove puts it back)`)
    copy = { folderExists: false, write: pkg.files, extra: [] }
  }
  changed.push(...describeCopy(copy, pluginDir, pkg.version))
  const filesChange = foreign || copy.write.length > 0 || copy.extra.length > 0

  const config = yield* readConfig(configPath)
  warnings.push(...Registration.blockers(config))
  if (method === "plugins-install" && getIn(config, ["plugins", "entries", PLUGIN_ID, "enabled"]) === false) {
    warnings.push(`plugins.entries.${PLUGIN_ID}.enabled is false, and OpenClaw's install keeps it so: run \`openclaw plugins enable ${PLUGIN_ID}\`.`)
  }

  // Later releases: is it installed and loaded from our folder already?
  const listedBefore = method === "plugins-install" || options.dryRun ? yield* OpenClawCli.listPlugins(bin, env) : undefined
  const before = listedBefore === undefined ? undefined : yield* PluginCheck.judgeListing(listedBefore, pluginDir)

  let loadPaths: Registration.LoadPathAdded | undefined
  let install: NonNullable<SetupRecord.SetupEntry["install"]> | undefined
  const installArgs = ["plugins", "install", "--force", "--accept-capabilities", pluginDir]
  const needInstall = method === "plugins-install" && (filesChange || before?.loaded !== true)
  if (method === "load-paths") {
    const planned = Registration.addLoadPath(config, pluginDir)
    changed.push(...planned.changes.map((c) => `${configPath}: ${c}`))
  } else if (needInstall) {
    changed.push(OpenClawCli.showCommand(bin, installArgs))
  }

  if (options.dryRun) {
    return {
      openclawVersion: release.text,
      method,
      changed,
      pluginLoaded: before?.loaded ?? false,
      warnings: method === "load-paths" ? [...warnings, REFRESH_WARNING] : warnings
    } satisfies SetupResult
  }

  // Files first: OpenClaw must find them when its config or install record names the folder.
  const createdFolders = yield* PluginPackage.missingFolders(dirname(pluginDir), settings.openclawStateDir)
  if (foreign && previousFolder !== undefined) yield* PluginPackage.moveFolder(pluginDir, previousFolder)
  if (filesChange) yield* PluginPackage.apply(pluginDir, copy)

  const fs = yield* FileSystem.FileSystem
  const configExisted = yield* fs.exists(configPath).pipe(Effect.orElseSucceed(() => true))
  if (method === "load-paths") {
    const { backup, edit } = yield* editConfig(configPath, (c) => Registration.addLoadPath(c, pluginDir))
    if (edit.changes.length > 0) loadPaths = edit.record
    if (backup !== undefined) changed.push(`backed up ${configPath} to ${backup}`)
  } else if (needInstall) {
    // What `plugins uninstall` would take away that was there before (the install's own
    // additions it removes itself).
    const installedBefore = listedBefore?.some((p) => p.id === PLUGIN_ID && p.origin !== "bundled" && p.rootDir !== undefined && resolve(p.rootDir) === resolve(pluginDir)) ?? false
    install = { installed: !installedBefore, before: Registration.beforeInstall(config) }
    yield* OpenClawCli.runOk(bin, installArgs, { env, timeout: OpenClawCli.TIMEOUTS.install })
  }

  if (changed.length > 0) {
    const entry: SetupRecord.SetupEntry = {
      pluginDir,
      configPath,
      method,
      openclawVersion: release.text,
      folder: foreign ? "replaced" : "created",
      ...(previousFolder !== undefined ? { previousFolder } : {}),
      ...(createdFolders.length > 0 ? { createdFolders } : {}),
      ...(!configExisted && loadPaths !== undefined ? { configCreated: true } : {}),
      ...(loadPaths !== undefined ? { loadPaths } : {}),
      ...(install !== undefined ? { install } : {})
    }
    yield* SetupRecord.write(recordPath, [...records.filter((r) => r.pluginDir !== pluginDir), SetupRecord.merge(existing, entry)])
  }

  // Nothing changed: the listing taken before is the check.
  const after = changed.length === 0 && before !== undefined
    ? before
    : yield* PluginCheck.judgeListing(yield* OpenClawCli.listPlugins(bin, env), pluginDir)
  if (method === "load-paths") warnings.push(REFRESH_WARNING)
  return {
    openclawVersion: release.text,
    method,
    changed,
    pluginLoaded: after.loaded,
    warnings,
    notLoaded: after.loaded ? undefined : new PluginNotLoaded({ reason: after.reason })
  } satisfies SetupResult
})

const binOf = (options: SetupOptions): string => {
  const fromEnv = options.env.OPENCLAW_BIN
  return options.openclawBin ?? (fromEnv !== undefined && fromEnv.trim() !== "" ? fromEnv : "openclaw")
}

// =============================================================================
// Remove
// =============================================================================

const remove = Effect.fnUntraced(function*(options: SetupOptions) {
  const settings = yield* QwenAuthConfig
  const configPath = pathsOf(settings).openclawConfig
  const pluginDir = `${settings.openclawStateDir}/extensions/${PLUGIN_ID}`
  const recordPath = SetupRecord.recordPathOf(settings.qwenHome)
  const records = yield* SetupRecord.read(recordPath)
  const entry = records.find((r) => r.pluginDir === pluginDir)
  if (entry === undefined) {
    return { openclawVersion: null, method: null, changed: [], pluginLoaded: false, warnings: [] } satisfies SetupResult
  }
  const bin = binOf(options)
  const env = OpenClawCli.childEnv(options.env, { stateDir: settings.openclawStateDir, configPath })
  const changed: Array<string> = []
  const warnings: Array<string> = []

  // Later releases: uninstall what we installed (if OpenClaw still has it), then put back what
  // the uninstall removed that was there before.
  const uninstallArgs = ["plugins", "uninstall", "--force", PLUGIN_ID]
  let uninstall = false
  if (entry.install?.installed === true) {
    const listed = yield* OpenClawCli.listPlugins(bin, env)
    uninstall = listed.some((p) => p.id === PLUGIN_ID && p.origin !== "bundled")
    if (uninstall) changed.push(OpenClawCli.showCommand(bin, uninstallArgs), OpenClawCli.showCommand(bin, REGISTRY_REFRESH))
    else warnings.push(`OpenClaw no longer lists ${PLUGIN_ID} as installed; nothing to uninstall.`)
  }
  const config = yield* readConfig(configPath)
  if (entry.loadPaths !== undefined) {
    changed.push(...Registration.removeLoadPath(config, pluginDir, entry.loadPaths).changes.map((c) => `${configPath}: ${c}`))
  }
  const fs = yield* FileSystem.FileSystem
  if (yield* fs.exists(pluginDir).pipe(Effect.orElseSucceed(() => true))) changed.push(`removed ${pluginDir}`)
  if (entry.previousFolder !== undefined) changed.push(`moved ${entry.previousFolder} back to ${pluginDir}`)

  if (!options.dryRun) {
    if (uninstall) yield* OpenClawCli.runOk(bin, uninstallArgs, { env, timeout: OpenClawCli.TIMEOUTS.install })
    const installBefore = entry.install?.installed === true ? entry.install.before : undefined
    if (entry.loadPaths !== undefined || installBefore !== undefined) {
      const loadPaths = entry.loadPaths
      const { backup, edit } = yield* editConfig(configPath, (c) => {
        const undone = loadPaths === undefined ? { next: c, changes: [] as ReadonlyArray<string> } : Registration.removeLoadPath(c, pluginDir, loadPaths)
        const restored = installBefore === undefined ? { next: undone.next, changes: [] as ReadonlyArray<string> } : Registration.restoreAfterUninstall(undone.next, installBefore)
        return { next: restored.next, changes: [...undone.changes, ...restored.changes], record: undefined }
      })
      if (installBefore !== undefined) changed.push(...edit.changes.map((c) => `${configPath}: ${c}`))
      if (backup !== undefined) changed.push(`backed up ${configPath} to ${backup}`)
      if (entry.configCreated === true && Object.keys(yield* readConfig(configPath)).length === 0) {
        yield* removeIfExists(configPath)
        changed.push(`removed ${configPath} (setup created it; it is empty now)`)
      }
    }
    yield* PluginPackage.removeFolder(pluginDir)
    if (entry.previousFolder !== undefined) yield* PluginPackage.moveFolder(entry.previousFolder, pluginDir)
    else yield* PluginPackage.removeEmptyFolders(entry.createdFolders ?? [])
    // 2026.9.6 keeps a persisted plugin registry that still names the removed folder.
    if (uninstall) yield* OpenClawCli.runOk(bin, REGISTRY_REFRESH, { env, timeout: OpenClawCli.TIMEOUTS.list })
    yield* SetupRecord.write(recordPath, records.filter((r) => r !== entry))
  }
  return {
    openclawVersion: entry.openclawVersion,
    method: entry.method,
    changed: [...new Set(changed)],
    pluginLoaded: false,
    warnings
  } satisfies SetupResult
})

/**
 * Sets up (or with `remove`, undoes) qwen-auth's plugin in the user's OpenClaw. With `dryRun`
 * nothing is written and only read-only OpenClaw commands run (`--version`, `plugins list`).
 *
 * @since 0.1.0
 * @category setup
 */
export const run = (options: SetupOptions): Effect.Effect<SetupResult, RunError, Requirements> => {
  const self: Effect.Effect<SetupResult, RunError, Requirements> = options.remove ? remove(options) : setup(options)
  return Effect.withSpan(self, "SetupOpenClaw.run")
}

/** @since 0.1.0 @category models */
export type Requirements = QwenAuthConfig | FileSystem.FileSystem | ChildProcessSpawner.ChildProcessSpawner

/** @since 0.1.0 @category errors */
export type RunError = SetupError | MalformedFile | FileAccessError | ConfigProblem | LockError
