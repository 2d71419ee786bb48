/**
 * File primitives on the FileSystem service (files.md "Writing any of these files"): reads that
 * tell "missing" from "broken", atomic writes through temp files of our own name, 0600/0700
 * modes, refusal of symlinked credential files and a sweep of our own stale temp files.
 *
 * @since 0.1.0
 */
import { Clock, Effect, FileSystem, Option, PlatformError } from "effect"
import { randomBytes } from "node:crypto"
import { basename, dirname } from "node:path"
import { FileAccessError, MalformedFile } from "../domain/Errors.ts"
import { pauseAt } from "../internal/TestPause.ts"

// =============================================================================
// Constants and models
// =============================================================================

/** Mode of credential files and of files we create. @since 0.1.0 @category constants */
export const CREDENTIAL_FILE_MODE = 0o600
/** Mode of folders we create. @since 0.1.0 @category constants */
export const DIRECTORY_MODE = 0o700
/** Our temp files older than this are leftovers of a crash. @since 0.1.0 @category constants */
export const STALE_TEMP_MS = 60_000

/** A file's text with what `status` and change detection need. @since 0.1.0 @category models */
export interface FileRead {
  readonly text: string
  readonly mtimeMs: number
  readonly size: number
  /** Permission bits only (e.g. 0o600). */
  readonly mode: number
}

/** Options of `writeFileAtomic`. @since 0.1.0 @category models */
export interface WriteOptions {
  /** A credential file: always 0600 (a looser mode is tightened) and never through a symlink. */
  readonly credential: boolean
  /** Mode of a new non-credential file (default 0600); an existing one keeps its mode. */
  readonly mode?: number
}

const TEMP_PATTERN = /^\..+\.qwen-auth-[0-9a-f]+\.tmp$/

/** Our temp name for `path`: `.<file>.qwen-auth-<random>.tmp` in the same folder. @since 0.1.0 @category utils */
export const tempPathFor = (path: string): string =>
  `${dirname(path)}/.${basename(path)}.qwen-auth-${randomBytes(6).toString("hex")}.tmp`

/** Whether a folder entry is one of our temp files. @since 0.1.0 @category utils */
export const isOwnTempName = (name: string): boolean => TEMP_PATTERN.test(name)

/** Octal permission bits as `status` shows them, e.g. "600". @since 0.1.0 @category utils */
export const formatMode = (mode: number): string => (mode & 0o777).toString(8).padStart(3, "0")

// =============================================================================
// Errors
// =============================================================================

const systemCode = (error: PlatformError.PlatformError): string | undefined => {
  const cause = error.reason.cause
  return typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string"
    ? cause.code
    : undefined
}

/** Whether a platform error means "no such file". @since 0.1.0 @category errors */
export const isNotFound = (error: PlatformError.PlatformError): boolean => error.reason._tag === "NotFound"

/** A short, path-free description of a platform error, e.g. "permission denied (EACCES)". */
export const describePlatformError = (error: PlatformError.PlatformError): string => {
  const code = systemCode(error)
  const words: Record<string, string> = {
    NotFound: "no such file or folder",
    PermissionDenied: "permission denied",
    AlreadyExists: "already exists",
    BadResource: "not a usable file or folder",
    Busy: "busy"
  }
  // Full and read-only disks come as "Unknown" from the platform layer: name them.
  const byCode: Record<string, string> = {
    ENOSPC: "no space left on the device",
    EDQUOT: "disk quota exceeded",
    EROFS: "read-only file system"
  }
  const text = (code !== undefined ? byCode[code] : undefined) ?? words[error.reason._tag] ?? error.reason.description ?? "failed"
  return code === undefined ? text : `${text} (${code})`
}

/** Maps a platform error to a `FileAccessError` naming the file. @since 0.1.0 @category errors */
export const accessError = (path: string, operation: string) => (error: PlatformError.PlatformError) =>
  new FileAccessError({ path, operation, detail: describePlatformError(error) })

// =============================================================================
// Reading
// =============================================================================

/**
 * Reads a file, or `None` when it does not exist. A folder in its place is a `MalformedFile`;
 * with `credential`, so is a symlink (files.md: never use a symlinked credential file).
 *
 * @since 0.1.0
 * @category reading
 */
export const readFileIfExists = Effect.fnUntraced(function*(
  path: string,
  options?: { readonly credential?: boolean }
) {
  const fs = yield* FileSystem.FileSystem
  if (options?.credential === true) yield* refuseSymlink(path)
  const info = yield* fs.stat(path).pipe(
    Effect.map(Option.some),
    Effect.catchIf(isNotFound, () => Effect.succeedNone),
    Effect.mapError(accessError(path, "read"))
  )
  if (Option.isNone(info)) return Option.none<FileRead>()
  if (info.value.type === "Directory") {
    return yield* new MalformedFile({ path, problem: "is a folder, expected a file" })
  }
  if (info.value.type !== "File") {
    return yield* new MalformedFile({ path, problem: `is a ${info.value.type}, expected a regular file` })
  }
  const text = yield* fs.readFileString(path).pipe(
    Effect.catchIf(isNotFound, () => Effect.succeed(undefined)),
    Effect.mapError(accessError(path, "read"))
  )
  if (text === undefined) return Option.none<FileRead>()
  return Option.some<FileRead>({
    text,
    mtimeMs: Option.match(info.value.mtime, { onNone: () => 0, onSome: (d) => d.getTime() }),
    size: Number(info.value.size),
    mode: info.value.mode & 0o777
  })
})

/**
 * Fails with `MalformedFile` when the last component of `path` is a symlink (naming its target);
 * symlinked parent folders are fine.
 *
 * @since 0.1.0
 * @category reading
 */
export const refuseSymlink = Effect.fnUntraced(function*(path: string) {
  const fs = yield* FileSystem.FileSystem
  const info = yield* fs.lstat(path).pipe(
    Effect.map(Option.some),
    Effect.catchIf(isNotFound, () => Effect.succeedNone),
    Effect.mapError(accessError(path, "inspect"))
  )
  if (Option.isSome(info) && info.value.type === "SymbolicLink") {
    const target = yield* fs.readLink(path).pipe(Effect.orElseSucceed(() => "an unknown target"))
    return yield* new MalformedFile({
      path,
      problem: `is a symlink to ${target}; qwen-auth does not write credentials through a symlink ` +
        `(replace the link with the file itself)`
    })
  }
})

// =============================================================================
// Writing
// =============================================================================

/**
 * Creates a folder and its missing parents with mode 0700; an existing folder is left as it is.
 *
 * @since 0.1.0
 * @category writing
 */
export const ensureDirectory = Effect.fnUntraced(function*(path: string) {
  const fs = yield* FileSystem.FileSystem
  const info = yield* fs.stat(path).pipe(
    Effect.map(Option.some),
    Effect.catchIf(isNotFound, () => Effect.succeedNone),
    Effect.mapError(accessError(path, "inspect folder"))
  )
  if (Option.isSome(info)) {
    if (info.value.type === "Directory") return
    return yield* new FileAccessError({ path, operation: "create folder", detail: "a file is in the way" })
  }
  yield* fs.makeDirectory(path, { recursive: true, mode: DIRECTORY_MODE }).pipe(
    Effect.mapError(accessError(path, "create folder"))
  )
})

/**
 * Writes `contents` to `path` atomically: a temp file of our own name in the same folder, fsync,
 * rename over the target, fsync of the folder where possible. The temp file is removed on any
 * failure or interrupt. The folder must exist (see `ensureDirectory`).
 *
 * A non-credential path that is a symlink is written at its target, so a dotfile link survives.
 *
 * @since 0.1.0
 * @category writing
 */
export const writeFileAtomic = Effect.fnUntraced(function*(path: string, contents: string, options: WriteOptions) {
  const fs = yield* FileSystem.FileSystem
  if (options.credential) yield* refuseSymlink(path)
  const target = options.credential
    ? path
    : yield* fs.realPath(path).pipe(Effect.orElseSucceed(() => path))
  const existing = yield* fs.stat(target).pipe(
    Effect.map(Option.some),
    Effect.catchIf(isNotFound, () => Effect.succeedNone),
    Effect.mapError(accessError(target, "inspect"))
  )
  if (Option.isSome(existing) && existing.value.type !== "File") {
    return yield* new MalformedFile({ path: target, problem: `is a ${existing.value.type}, expected a regular file` })
  }
  const mode = options.credential
    ? CREDENTIAL_FILE_MODE
    : Option.match(existing, { onNone: () => options.mode ?? CREDENTIAL_FILE_MODE, onSome: (i) => i.mode & 0o777 })
  const temp = tempPathFor(target)
  const bytes = new TextEncoder().encode(contents)
  yield* Effect.gen(function*() {
    yield* Effect.scoped(Effect.gen(function*() {
      const file = yield* fs.open(temp, { flag: "wx", mode, noFollow: true })
      yield* file.writeAll(bytes)
      yield* file.sync
    })).pipe(Effect.mapError(accessError(target, "write")))
    yield* pauseAt("atomic-write:after-temp-write")
    // The umask may have narrowed the mode at creation; set exactly what we mean.
    yield* fs.chmod(temp, mode).pipe(Effect.mapError(accessError(target, "write")))
    yield* pauseAt("atomic-write:before-rename")
    yield* fs.rename(temp, target).pipe(Effect.mapError(accessError(target, "replace")))
  }).pipe(
    Effect.onExit((exit) => exit._tag === "Success" ? Effect.void : fs.remove(temp, { force: true }).pipe(Effect.ignore))
  )
  yield* syncDirectory(dirname(target))
})

/** Makes the rename durable; some platforms cannot fsync a folder, which is fine. */
const syncDirectory = (dir: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    yield* Effect.scoped(Effect.flatMap(fs.open(dir, { flag: "r" }), (f) => f.sync))
  }).pipe(Effect.ignore)

/**
 * Removes a file if it exists (refusing nothing: removal of a symlink removes the link).
 *
 * @since 0.1.0
 * @category writing
 */
export const removeIfExists = (path: string): Effect.Effect<boolean, FileAccessError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    return yield* fs.remove(path).pipe(
      Effect.as(true),
      Effect.catchIf(isNotFound, () => Effect.succeed(false)),
      Effect.mapError(accessError(path, "remove"))
    )
  })

/**
 * Removes our own temp files (`.<file>.qwen-auth-<random>.tmp`) in `dir` older than
 * `olderThanMs`; never touches another tool's files and never fails.
 *
 * @since 0.1.0
 * @category writing
 */
export const sweepStaleTempFiles = (
  dir: string,
  olderThanMs: number = STALE_TEMP_MS
): Effect.Effect<void, never, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const now = yield* Clock.currentTimeMillis
    const names = yield* fs.readDirectory(dir)
    for (const name of names.filter(isOwnTempName)) {
      const path = `${dir}/${name}`
      yield* Effect.gen(function*() {
        const info = yield* fs.lstat(path)
        const mtime = Option.match(info.mtime, { onNone: () => now, onSome: (d) => d.getTime() })
        if (info.type === "File" && now - mtime >= olderThanMs) yield* fs.remove(path)
      }).pipe(Effect.ignore)
    }
  }).pipe(Effect.ignore)

/**
 * Reads a credential file (symlinks refused) and decodes it; `None` when it does not exist. The
 * result keeps what was read, so a later write can tell whether the file changed.
 *
 * @since 0.1.0
 * @category reading
 */
export const readCredentialFile = <A extends object>(
  path: string,
  decode: (path: string, text: string) => Effect.Effect<A, MalformedFile>
): Effect.Effect<Option.Option<A & { readonly file: FileRead }>, MalformedFile | FileAccessError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const file = yield* readFileIfExists(path, { credential: true })
    if (Option.isNone(file)) return Option.none()
    const decoded = yield* decode(path, file.value.text)
    return Option.some({ ...decoded, file: file.value })
  })
