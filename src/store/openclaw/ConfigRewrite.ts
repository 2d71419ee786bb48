/**
 * Rewriting `openclaw.json` or `<agent>/models.json` (files.md "Writing any of these files").
 *
 * An existing file is edited in place (`Json5Edit`): only the values a merge changes are
 * touched, everything else keeps its bytes. Neither file has a lock, so a rewrite is optimistic:
 * the file is re-read right before the atomic rename and, if it changed since it was read, the
 * merge is redone once. A file we cannot parse is never rewritten, and neither is a config using
 * `$include`: a merge that would change what OpenClaw reads from it is handed back as pending
 * entries instead. Before rewriting a config that qwen-auth did not write last, its bytes are
 * backed up (`ConfigBackup`).
 *
 * The state file (`lastWrittenBaseUrl`, `lastWrittenConfigSha256`) belongs to the caller: the
 * functions built on this take its values and return the new ones.
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Option, PlatformError, Result } from "effect"
import { dirname } from "node:path"
import { FileAccessError } from "../../domain/Errors.ts"
import { ensureDirectory, type FileRead, readFileIfExists, writeFileAtomic } from "../AtomicWrite.ts"
import { backUp } from "./ConfigBackup.ts"
import { findInclude, readParsed, renderJson } from "./ConfigFile.ts"
import { resolveIncludes } from "./Includes.ts"
import { editJson5 } from "./Json5Edit.ts"
import type { JsonObject } from "./Json.ts"
import { type PendingEntry, pendingEntries } from "./PendingConfig.ts"

/** What a merge made of the file's parsed content. @since 0.1.0 @category models */
export interface Rewrite<A> {
  readonly next: JsonObject
  readonly changed: boolean
  readonly extra: A
}

/** @since 0.1.0 @category models */
export interface RewriteOptions<A, E> {
  readonly merge: (value: JsonObject) => Effect.Effect<Rewrite<A>, E>
  /** Follow `$include` as OpenClaw does (openclaw.json only). */
  readonly includes?: boolean
  /** Back up a file whose hash differs from this (openclaw.json only). */
  readonly backupUnless?: { readonly sha256: string | undefined }
}

/** The outcome of a rewrite. @since 0.1.0 @category models */
export interface Outcome<A> {
  /** Whether the file was written (an unchanged existing file is not). */
  readonly written: boolean
  /** What was written. */
  readonly text: string | undefined
  /** The backup made, if any. */
  readonly backup: string | undefined
  readonly extra: A
  /**
   * Entries the merge would change but that were not written (nothing was): `why` says why
   * (a config using `$include`, or one qwen-auth could not edit in place).
   */
  readonly pending: { readonly why: string; readonly entries: ReadonlyArray<PendingEntry> } | undefined
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
    const done = (outcome: Outcome<A>) => ({ _tag: "Done", outcome }) as const
    const unwritten = (extra: A, pending?: Outcome<A>["pending"]) =>
      done({ written: false, text: undefined, backup: undefined, extra, pending })

    const at = options.includes === true ? findInclude(parsed.value) : undefined
    if (at !== undefined) {
      // Judged on what OpenClaw reads; any change is left to the user.
      const resolved = yield* resolveIncludes(path, parsed.value)
      const merged = yield* options.merge(resolved.value)
      if (!merged.changed) return unwritten(merged.extra)
      return unwritten(merged.extra, {
        why: `${path} uses $include (at ${at}), so qwen-auth changed none of OpenClaw's config files.`,
        entries: pendingEntries(resolved, merged.next)
      })
    }

    const merged = yield* options.merge(parsed.value)
    if (!merged.changed && Option.isSome(parsed.read)) return unwritten(merged.extra)
    const original = Option.getOrUndefined(parsed.read)?.text
    const edited = original === undefined || original.trim() === ""
      ? Result.succeed(renderJson(merged.next))
      : editJson5(original, parsed.value, merged.next)
    if (Result.isFailure(edited)) {
      // Never expected (the edit checks itself); rather than lose the user's text, hand it back.
      return unwritten(merged.extra, {
        why: `qwen-auth could not edit ${path} in place (${edited.failure}), so it left it as it is.`,
        entries: pendingEntries({ configPath: path, value: parsed.value, files: new Map([[path, parsed.value]]) }, merged.next)
      })
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
    return done({ written: true, text, backup, extra: merged.extra, pending: undefined })
  })

/**
 * Reads, merges and edits `path` in place, redoing the merge once when another program changed
 * the file meanwhile. An unchanged existing file is not written; see `Outcome`.
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
