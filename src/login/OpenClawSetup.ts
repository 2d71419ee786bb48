/**
 * What qwen-auth writes into OpenClaw's config (a login's entries, the default model) and what
 * it remembers of those writes in its state file, plus the check that a login's files can be
 * written at all (files.md, cli-contract.md).
 *
 * @since 0.1.0
 */
import { Effect, type FileSystem } from "effect"
import { pathsOf, QwenAuthConfig } from "../Config.ts"
import type { ConfigProblem, FileAccessError, LockError, MalformedFile } from "../domain/Errors.ts"
import { CredentialStore } from "../store/CredentialStore.ts"
import { readConfig } from "../store/openclaw/ConfigFile.ts"
import { applyDefaultModel } from "../store/openclaw/DefaultModel.ts"
import { isPluginInstalled } from "../store/openclaw/PluginEntry.ts"
import * as OpenClawSqlite from "../store/OpenClawSqlite.ts"
import { applyLogin, checkWritable } from "../store/openclaw/Login.ts"
import type { PendingEntry } from "../store/openclaw/PendingConfig.ts"
import * as StateFile from "../store/StateFile.ts"

/**
 * Fails, naming the file, when a login could not write one of its files: an unparsable or
 * unreadable credential copy or state file, and (when `openclawConfig`) `openclaw.json` or
 * `models.json`, or an `$include` of the config that OpenClaw could not read either. Run it
 * before the device flow, so nobody approves a login that cannot be saved.
 *
 * @since 0.1.0
 * @category login
 */
export const checkTargets = Effect.fn("OpenClawSetup.checkTargets")(function*(
  options: { readonly openclawConfig: boolean }
) {
  const snapshot = yield* (yield* CredentialStore).load
  const unreadable = snapshot.unreadable[0]
  if (unreadable !== undefined) return yield* Effect.fail(unreadable)
  if (options.openclawConfig) yield* checkWritable(pathsOf(yield* QwenAuthConfig))
})

/**
 * @since 0.1.0
 * @category models
 */
export interface ConfigResult {
  /** Every path written, in order. */
  readonly wrote: ReadonlyArray<string>
  readonly warnings: ReadonlyArray<string>
  /** Informational lines, e.g. the `--set-default` hint. */
  readonly notices: ReadonlyArray<string>
  readonly backup: string | undefined
  /** The base URL OpenClaw will use (a user's own `baseUrl` wins). */
  readonly baseUrl: string
  readonly defaultModel: string | null
  /** Entries OpenClaw still needs that were left to the user (a config using `$include`). */
  readonly pendingConfig: ReadonlyArray<PendingEntry>
}

/**
 * Writes a login's entries into OpenClaw's config (`--set-default` decides the default model),
 * then records in the state file what was written there.
 *
 * @since 0.1.0
 * @category login
 */
export const configureOpenClaw: (
  input: { readonly baseUrl: string; readonly setDefault: boolean }
) => Effect.Effect<
  ConfigResult,
  MalformedFile | FileAccessError | LockError | ConfigProblem,
  QwenAuthConfig | FileSystem.FileSystem
> = Effect.fn("OpenClawSetup.configureOpenClaw")(function*(input) {
  const settings = yield* QwenAuthConfig
  const paths = pathsOf(settings)
  const before = yield* StateFile.read
  // OpenClaw 2026.9.6 (a SQLite store) keeps its own logins and imports what it finds in its
  // config: only entries it understands are written there.
  const sqlite = (yield* OpenClawSqlite.detect(settings.openclawStateDir, settings.openclawAgentDir)).length > 0
  const pluginInstalled = sqlite
    ? yield* Effect.flatMap(readConfig(paths.openclawConfig), (c) => isPluginInstalled(settings.openclawStateDir, c))
    : true
  const applied = yield* applyLogin(paths, { ...input, openclawStore: sqlite ? "sqlite" : "json", pluginInstalled }, {
    baseUrl: before.lastWrittenBaseUrl,
    configSha256: before.lastWrittenConfigSha256
  })
  const wrote = [...applied.wrote]
  const state = yield* recordConfig({
    ...(applied.lastWritten.baseUrl !== undefined ? { lastWrittenBaseUrl: applied.lastWritten.baseUrl } : {}),
    ...(applied.lastWritten.configSha256 !== undefined ? { lastWrittenConfigSha256: applied.lastWritten.configSha256 } : {})
  })
  if (state !== undefined) wrote.push(state)
  return {
    wrote,
    warnings: applied.warnings,
    notices: sqlite ? [...applied.notices, sqliteNotice(pluginInstalled)] : applied.notices,
    backup: applied.backup,
    baseUrl: applied.baseUrlUsed,
    defaultModel: applied.defaultModel,
    pendingConfig: applied.pendingConfig
  }
})

/** The one line a login on an OpenClaw 2026.9.6 home prints. */
const sqliteNotice = (pluginInstalled: boolean) =>
  "OpenClaw 2026.9.6 keeps its own logins: run `openclaw models auth login --provider qwen-portal` " +
  (pluginInstalled ? "(it reuses this login)." : "after `qwen-auth setup-openclaw` (it then reuses this login).")

/**
 * Records what qwen-auth wrote to OpenClaw's config in the state file (under Qwen Code's lock);
 * returns the state file's path when it changed.
 *
 * @since 0.1.0
 * @category login
 */
export const recordConfig = Effect.fn("OpenClawSetup.recordConfig")(function*(
  written: Pick<StateFile.State, "lastWrittenBaseUrl" | "lastWrittenConfigSha256">
) {
  const paths = pathsOf(yield* QwenAuthConfig)
  const before = yield* StateFile.read
  const record = (s: StateFile.State): StateFile.State => ({ ...s, ...written })
  // `update` takes Qwen Code's lock; skip it when there is nothing new to record.
  if (StateFile.encode(record(before)) === StateFile.encode(before)) return undefined
  yield* StateFile.update(record)
  return paths.state
})

/**
 * `models set <ref>`: makes `ref` (an alias or provider/model) OpenClaw's default model and
 * records the config's new hash, so a later login does not take the change for the user's.
 *
 * @since 0.1.0
 * @category models
 */
export const setDefaultModel = Effect.fn("OpenClawSetup.setDefaultModel")(function*(ref: string) {
  const paths = pathsOf(yield* QwenAuthConfig)
  const state = yield* StateFile.read
  const result = yield* applyDefaultModel(paths.openclawConfig, ref, {
    baseUrl: state.lastWrittenBaseUrl,
    configSha256: state.lastWrittenConfigSha256
  })
  const sha = result.lastWritten.configSha256
  if (result.wrote && sha !== undefined) yield* recordConfig({ lastWrittenConfigSha256: sha })
  return result
})
