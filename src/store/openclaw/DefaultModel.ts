/**
 * The file side of `models list` and `models set`: reading the model rows from `openclaw.json`
 * and storing a new default model there (the logic is `Models.ts`).
 *
 * @since 0.1.0
 */
import { Effect, type FileSystem, Result } from "effect"
import { ConfigProblem, type FileAccessError, type MalformedFile } from "../../domain/Errors.ts"
import { type LastWritten, readConfig, sha256Hex } from "./ConfigFile.ts"
import { rewrite } from "./ConfigRewrite.ts"
import { listModels, type ModelRow, setDefaultModel, type UnknownModelRef } from "./Models.ts"
import { describePending } from "./PendingConfig.ts"

/**
 * The rows of `models list` from `openclaw.json` (none when it does not exist).
 *
 * @since 0.1.0
 * @category models
 */
export const readModelRows = (
  configPath: string
): Effect.Effect<ReadonlyArray<ModelRow>, MalformedFile | FileAccessError, FileSystem.FileSystem> =>
  Effect.map(readConfig(configPath), listModels)

/**
 * `models set <ref>`: resolves a ref or alias and stores it as the primary default model,
 * keeping fallbacks; backup and change detection as for a login. A config using `$include` is
 * not written: unless it already says so, this fails saying what to add where. Persist `lastWritten`.
 *
 * @since 0.1.0
 * @category models
 */
export const applyDefaultModel = Effect.fn("OpenClawConfig.applyDefaultModel")(function*(
  configPath: string,
  ref: string,
  lastWritten: LastWritten
) {
  const outcome = yield* rewrite(configPath, {
    merge: (value) =>
      Result.match(setDefaultModel(value, ref), {
        onFailure: (e) => Effect.fail<UnknownModelRef>(e),
        onSuccess: (r) => Effect.succeed({ next: r.config, changed: r.changed, extra: r.ref })
      }),
    includes: true,
    backupUnless: { sha256: lastWritten.configSha256 }
  })
  if (outcome.pending !== undefined) {
    return yield* new ConfigProblem({
      path: configPath,
      problem: describePending(`${outcome.pending.why} Add this yourself:`, outcome.pending.entries)
    })
  }
  return {
    ref: outcome.extra,
    wrote: outcome.written,
    ...(outcome.backup === undefined ? {} : { backup: outcome.backup }),
    lastWritten: {
      baseUrl: lastWritten.baseUrl,
      configSha256: outcome.text === undefined ? lastWritten.configSha256 : sha256Hex(outcome.text)
    } satisfies LastWritten
  }
})
