/**
 * What a login writes, and the check that it can: credentials first (the OpenClaw profile and
 * the Qwen Code file, through the store), then OpenClaw's `openclaw.json` and `models.json`,
 * then what qwen-auth must remember about them in its state file (files.md, cli-contract.md).
 *
 * @since 0.1.0
 */
import { Effect, FileSystem } from "effect"
import { pathsOf, QwenAuthConfig, type Settings } from "../Config.ts"
import type { Credentials } from "../domain/Credentials.ts"
import type { ConfigProblem, FileAccessError, LockError, MalformedFile } from "../domain/Errors.ts"
import { CredentialStore } from "../store/CredentialStore.ts"
import { applyLogin, checkWritable } from "../store/OpenClawConfig.ts"
import { readSources } from "../store/Reconcile.ts"
import * as StateFile from "../store/StateFile.ts"

/**
 * Fails, naming the file, when a login could not write one of its files: an unparsable or
 * unreadable credential file, state file, `openclaw.json` or `models.json`, or a config using
 * `$include`. Run it before the device flow, so nobody approves a login that cannot be saved.
 *
 * @since 0.1.0
 * @category login
 */
export const checkTargets: (
  settings: Settings,
  options: { readonly setDefault: boolean }
) => Effect.Effect<void, MalformedFile | FileAccessError | ConfigProblem, FileSystem.FileSystem> = Effect.fn(
  "LoginWrites.checkTargets"
)(function*(settings, options) {
  const paths = pathsOf(settings)
  const sources = yield* readSources(paths, settings.qwenCodeSync)
  for (const read of [sources.openclaw, sources.qwen, sources.state]) {
    if (read._tag === "Bad") return yield* Effect.fail(read.error)
  }
  yield* checkWritable(paths, { setDefault: options.setDefault })
})

/**
 * @since 0.1.0
 * @category models
 */
export interface PersistInput {
  readonly credentials: Credentials
  readonly issuedLifetimeSeconds: number | undefined
  /** The checked API base URL of these credentials (`checkResourceUrl`). */
  readonly baseUrl: string
  readonly setDefault: boolean
  /** Write the credentials (false when the store already holds them everywhere). */
  readonly saveCredentials: boolean
}

/**
 * @since 0.1.0
 * @category models
 */
export interface PersistResult {
  /** Every path written, in order. */
  readonly wrote: ReadonlyArray<string>
  readonly warnings: ReadonlyArray<string>
  /** Informational lines, e.g. the `--set-default` hint. */
  readonly notices: ReadonlyArray<string>
  readonly backup: string | undefined
  /** The base URL OpenClaw will use (a user's own `baseUrl` wins). */
  readonly baseUrl: string
  readonly defaultModel: string | null
}

/**
 * Writes a login's results: credentials (unless `saveCredentials` is false), then the OpenClaw
 * entries (`--set-default` decides the default model), then the state file's record of what was
 * written to the config.
 *
 * @since 0.1.0
 * @category login
 */
export const persistLogin: (
  input: PersistInput
) => Effect.Effect<
  PersistResult,
  MalformedFile | FileAccessError | LockError | ConfigProblem,
  CredentialStore | QwenAuthConfig | FileSystem.FileSystem
> = Effect.fn("LoginWrites.persistLogin")(function*(input) {
  const settings = yield* QwenAuthConfig
  const store = yield* CredentialStore
  const paths = pathsOf(settings)
  const wrote: Array<string> = []
  if (input.saveCredentials) {
    const lifetime = input.issuedLifetimeSeconds
    wrote.push(...(yield* store.save(input.credentials, lifetime === undefined ? {} : { issuedLifetimeSeconds: lifetime })))
  }
  const before = yield* StateFile.read
  const applied = yield* applyLogin(paths, { baseUrl: input.baseUrl, setDefault: input.setDefault }, {
    baseUrl: before.lastWrittenBaseUrl,
    configSha256: before.lastWrittenConfigSha256
  })
  wrote.push(...applied.wrote)

  const record = (s: StateFile.State): StateFile.State => ({
    ...s,
    ...(applied.lastWritten.baseUrl !== undefined ? { lastWrittenBaseUrl: applied.lastWritten.baseUrl } : {}),
    ...(applied.lastWritten.configSha256 !== undefined
      ? { lastWrittenConfigSha256: applied.lastWritten.configSha256 }
      : {}),
    ...(input.issuedLifetimeSeconds !== undefined ? { issuedLifetimeSeconds: input.issuedLifetimeSeconds } : {}),
    ...(input.credentials.resourceUrl !== undefined ? { resourceUrl: input.credentials.resourceUrl } : {})
  })
  // `update` re-reads under Qwen Code's lock; skip it when there is nothing new to record.
  if (StateFile.encode(record(before)) !== StateFile.encode(before)) {
    yield* StateFile.update(record)
    if (!wrote.includes(paths.state)) wrote.push(paths.state)
  }
  return {
    wrote,
    warnings: applied.warnings,
    notices: applied.notices,
    backup: applied.backup,
    baseUrl: applied.baseUrlUsed,
    defaultModel: applied.defaultModel
  }
})
