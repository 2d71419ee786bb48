/**
 * Rewriting `openclaw.json` or `<agent>/models.json` (files.md "Writing any of these files").
 *
 * An existing file is edited in place (`Json5Edit`): only the values a merge changes are
 * touched, everything else keeps its bytes. Neither file has a lock, so a rewrite is optimistic:
 * the file is re-read right before the atomic rename and, if it changed since it was read, the
 * merge is redone once. A file we cannot parse, or a config using `$include`, is never
 * rewritten. Before rewriting a config that qwen-auth did not write last, its bytes are backed
 * up (`ConfigBackup`).
 *
 * The state file (`lastWrittenBaseUrl`, `lastWrittenConfigSha256`) belongs to the caller: the
 * functions built on this take its values and return the new ones.
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Option, PlatformError, Result } from "effect"
import { dirname } from "node:path"
import { ConfigProblem, FileAccessError } from "../../domain/Errors.ts"
import { ensureDirectory, type FileRead, readFileIfExists, writeFileAtomic } from "../AtomicWrite.ts"
import { backUp } from "./ConfigBackup.ts"
import { findInclude, includeProblem, readParsed, renderJson } from "./ConfigFile.ts"
import { editJson5 } from "./Json5Edit.ts"
import type { JsonObject } from "./Json.ts"

/** What a merge made of the file's parsed content. @since 0.1.0 @category models */
export interface Rewrite<A> {
  readonly next: JsonObject
  readonly changed: boolean
  readonly extra: A
}

/** @since 0.1.0 @category models */
export interface RewriteOptions<A, E> {
  readonly merge: (value: JsonObject) => Effect.Effect<Rewrite<A>, E>
  /** Refuse `$include`, showing these entries to add by hand. */
  readonly includeEntries?: (value: JsonObject) => JsonObject
  /** Back up a file whose hash differs from this (openclaw.json only). */
  readonly backupUnless?: { readonly sha256: string | undefined }
}

const sameFile = (a: Option.Option<FileRead>, b: Option.Option<FileRead>) =>
  Option.isNone(a) ? Option.isNone(b) : Option.isSome(b) &&
    a.value.mtimeMs === b.value.mtimeMs && a.value.size === b.value.size && a.value.text === b.value.text

/**
 * One read-merge-write pass. The FileSystem seen by the atomic write checks, right before its
 * rename, that the file is still the one we read; `Conflict` reports that it was not.
 */
const rewriteOnce = <A, E>(path: string, options: RewriteOptions<A, E>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const parsed = yield* readParsed(path)
    const at = options.includeEntries === undefined ? undefined : findInclude(parsed.value)
    if (at !== undefined && options.includeEntries !== undefined) {
      return yield* includeProblem(path, at, options.includeEntries(parsed.value))
    }
    const merged = yield* options.merge(parsed.value)
    if (!merged.changed && Option.isSome(parsed.read)) {
      return { _tag: "Done", outcome: { written: false, text: undefined, backup: undefined, extra: merged.extra } } as const
    }
    const original = Option.getOrUndefined(parsed.read)?.text
    const edited = original === undefined || original.trim() === ""
      ? Result.succeed(renderJson(merged.next))
      : editJson5(original, parsed.value, merged.next)
    if (Result.isFailure(edited)) {
      // Never expected (the edit checks itself); rather than lose the user's text, write nothing.
      return yield* new ConfigProblem({ path, problem: `qwen-auth could not edit it in place (${edited.failure}); nothing was written` })
    }
    const text = edited.success
    yield* ensureDirectory(dirname(path))
    let backup: string | undefined
    if (options.backupUnless !== undefined && Option.isSome(parsed.read) && parsed.sha256 !== options.backupUnless.sha256) {
      backup = yield* backUp(path, parsed.read.value.mode)
    }
    let conflict = false
    const guarded = FileSystem.FileSystem.of({
      ...fs,
      rename: (from, to) =>
        Effect.gen(function*() {
          const now = yield* readFileIfExists(path).pipe(Effect.option, Effect.provideService(FileSystem.FileSystem, fs))
          if (Option.isNone(now) || !sameFile(parsed.read, now.value)) {
            conflict = true
            return yield* new PlatformError.PlatformError(
              new PlatformError.SystemError({ _tag: "Busy", module: "FileSystem", method: "rename", description: "changed since read" })
            )
          }
          return yield* fs.rename(from, to)
        })
    })
    const wrote = yield* writeFileAtomic(path, text, { credential: false }).pipe(
      Effect.provideService(FileSystem.FileSystem, guarded),
      Effect.as(true),
      Effect.catchIf((e) => conflict && e._tag === "FileAccessError", () => Effect.succeed(false))
    )
    if (!wrote) return { _tag: "Conflict" } as const
    return { _tag: "Done", outcome: { written: true, text, backup, extra: merged.extra } } as const
  })

/**
 * Reads, merges and edits `path` in place, redoing the merge once when another program
 * changed the file meanwhile. An unchanged existing file is not written (`written: false`);
 * `text` is what was written, `backup` the backup made, if any.
 *
 * @since 0.1.0
 * @category writing
 */
export const rewrite = <A, E>(path: string, options: RewriteOptions<A, E>) =>
  Effect.gen(function*() {
    for (let attempt = 1; attempt <= 2; attempt++) {
      const result = yield* rewriteOnce(path, options)
      if (result._tag === "Done") return result.outcome
    }
    return yield* new FileAccessError({
      path,
      operation: "update",
      detail: "another program kept changing it while qwen-auth was writing; nothing was written, try again"
    })
  })
