/**
 * One read and one write for every credential file (Qwen Code's `oauth_creds.json`, OpenClaw's
 * `auth-profiles.json`, qwen-auth's state file), each described by its codec. A read never
 * fails: a broken file is `Bad` (and never rewritten), so one broken copy cannot hide another.
 *
 * @since 0.1.0
 */
import { Effect, type FileSystem, Option } from "effect"
import type { FileAccessError, MalformedFile } from "../domain/Errors.ts"
import { type FileRead, readCredentialFile, writeFileAtomic } from "./AtomicWrite.ts"
import type { JsonObject } from "./JsonFile.ts"

/**
 * A file format: `decode` names the file and field on failure (never quoting content), `encode`
 * writes `value` over the keys read (`raw`), so unknown fields survive a rewrite.
 *
 * @since 0.1.0
 * @category models
 */
export interface Codec<Decoded extends { readonly raw: JsonObject }, Value> {
  readonly decode: (path: string, text: string) => Effect.Effect<Decoded, MalformedFile>
  readonly encode: (value: Value, raw: JsonObject | undefined) => string
}

/** A file as read, with what was read. @since 0.1.0 @category models */
export type Loaded<Decoded> = Decoded & { readonly file: FileRead }

/** One file as read: missing, readable, or broken (never rewritten). @since 0.1.0 @category models */
export type Read<A> =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Ok"; readonly value: A }
  | { readonly _tag: "Bad"; readonly error: MalformedFile | FileAccessError }

/** @since 0.1.0 @category constructors */
export const missing: Read<never> = { _tag: "Missing" }

/**
 * Reads and decodes the file at `path` (symlinks refused).
 *
 * @since 0.1.0
 * @category io
 */
export const read = <Decoded extends { readonly raw: JsonObject }, Value>(
  codec: Codec<Decoded, Value>,
  path: string
): Effect.Effect<Read<Loaded<Decoded>>, never, FileSystem.FileSystem> =>
  readCredentialFile(path, codec.decode).pipe(
    Effect.map((o): Read<Loaded<Decoded>> => (Option.isSome(o) ? { _tag: "Ok", value: o.value } : missing)),
    Effect.catch((error) => Effect.succeed<Read<Loaded<Decoded>>>({ _tag: "Bad", error }))
  )

/**
 * Reads the file, failing on a broken one; `None` when it does not exist.
 *
 * @since 0.1.0
 * @category io
 */
export const readOrFail = <Decoded extends { readonly raw: JsonObject }, Value>(
  codec: Codec<Decoded, Value>,
  path: string
): Effect.Effect<Option.Option<Loaded<Decoded>>, MalformedFile | FileAccessError, FileSystem.FileSystem> =>
  readCredentialFile(path, codec.decode)

/**
 * Writes `value` atomically (0600, never through a symlink) over the keys of `raw`. `raw` must
 * come from a successful read: a broken file is never rewritten.
 *
 * @since 0.1.0
 * @category io
 */
export const write = <Decoded extends { readonly raw: JsonObject }, Value>(
  codec: Codec<Decoded, Value>,
  path: string,
  value: Value,
  raw: JsonObject | undefined
): Effect.Effect<void, MalformedFile | FileAccessError, FileSystem.FileSystem> =>
  writeFileAtomic(path, codec.encode(value, raw), { credential: true })

/** The keys as read, when the file was readable. @since 0.1.0 @category utils */
export const rawOf = <A extends { readonly raw: JsonObject | undefined }>(r: Read<A>): JsonObject | undefined =>
  r._tag === "Ok" ? r.value.raw : undefined
