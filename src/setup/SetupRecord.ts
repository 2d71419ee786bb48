/**
 * What `setup-openclaw` added, kept in `<qwen home>/qwen-auth-setup.json` (0600, atomic) so that
 * `--remove` undoes exactly that and nothing the user did. OpenClaw's config is not the place:
 * OpenClaw validates it and rejects keys it does not know.
 *
 * One entry per plugin folder (`<state>/extensions/qwen-portal-auth`), so setups of several
 * OpenClaw homes from one Qwen home stay apart.
 *
 * @since 0.1.0
 */
import { Effect, type FileSystem, Option, Schema } from "effect"
import { dirname } from "node:path"
import { type FileAccessError, MalformedFile } from "../domain/Errors.ts"
import { ensureDirectory, readFileIfExists, removeIfExists, writeFileAtomic } from "../store/AtomicWrite.ts"
import { decodeField, parseJsonObject, stringifyJson } from "../store/JsonFile.ts"

/** The record file's version. @since 0.1.0 @category constants */
export const RECORD_VERSION = 1

/** The record's file name under the Qwen home. @since 0.1.0 @category paths */
export const recordPathOf = (qwenHome: string) => `${qwenHome}/qwen-auth-setup.json`

const Previous = Schema.Union([
  Schema.Struct({ present: Schema.Literal(false) }),
  Schema.Struct({ present: Schema.Literal(true), value: Schema.Unknown })
])

/** One setup. @since 0.1.0 @category schemas */
export const SetupEntry = Schema.Struct({
  pluginDir: Schema.String,
  configPath: Schema.String,
  method: Schema.Literals(["load-paths", "plugins-install"]),
  openclawVersion: Schema.String,
  /** The plugin folder did not exist before (`created`) or was moved to `previousFolder`. */
  folder: Schema.Literals(["created", "replaced"]),
  previousFolder: Schema.optionalKey(Schema.String),
  /** Folders above the plugin folder that setup created (`<state>/extensions`), removed when empty. */
  createdFolders: Schema.optionalKey(Schema.Array(Schema.String)),
  /** `openclaw.json` did not exist before setup wrote it; removed again when left empty. */
  configCreated: Schema.optionalKey(Schema.Boolean),
  loadPaths: Schema.optionalKey(Schema.Struct({
    loadPath: Schema.Boolean,
    entry: Schema.optionalKey(Previous),
    allow: Schema.Boolean,
    created: Schema.Array(Schema.String)
  })),
  install: Schema.optionalKey(Schema.Struct({
    /** We ran `plugins install` on an OpenClaw that did not have the plugin installed. */
    installed: Schema.Boolean,
    before: Schema.Struct({ entry: Previous, allowHad: Schema.Boolean, denyHad: Schema.Boolean })
  }))
})

/** @since 0.1.0 @category models */
export type SetupEntry = typeof SetupEntry.Type

const RecordJson = Schema.Struct({
  version: Schema.Number,
  setups: Schema.Array(SetupEntry)
})

/**
 * The setups recorded in `path` (none when the file does not exist). A file this version cannot
 * read is a `MalformedFile`, never overwritten.
 *
 * @since 0.1.0
 * @category reading
 */
export const read = Effect.fnUntraced(function*(
  path: string
): Effect.fn.Return<ReadonlyArray<SetupEntry>, MalformedFile | FileAccessError, FileSystem.FileSystem> {
  const file = yield* readFileIfExists(path, { credential: true })
  if (Option.isNone(file)) return []
  const raw = yield* parseJsonObject(path, file.value.text)
  const json = yield* decodeField(RecordJson, path, raw)
  if (json.version !== RECORD_VERSION) {
    return yield* new MalformedFile({ path, problem: `has version ${json.version}; this qwen-auth understands only ${RECORD_VERSION}` })
  }
  return json.setups
})

/**
 * Writes the setups (0600, atomically); no setups left removes the file.
 *
 * @since 0.1.0
 * @category writing
 */
export const write = Effect.fnUntraced(function*(path: string, setups: ReadonlyArray<SetupEntry>) {
  if (setups.length === 0) {
    yield* removeIfExists(path)
    return
  }
  yield* ensureDirectory(dirname(path))
  yield* writeFileAtomic(path, stringifyJson({ version: RECORD_VERSION, setups }), { credential: true })
})

/**
 * Merges a new setup into the recorded one of the same folder, keeping what was there first
 * (the folder's and the entry's original state), so `--remove` still restores that.
 *
 * @since 0.1.0
 * @category merging
 */
export const merge = (old: SetupEntry | undefined, next: SetupEntry): SetupEntry => {
  if (old === undefined) return next
  const lp = old.loadPaths === undefined
    ? next.loadPaths
    : next.loadPaths === undefined
    ? old.loadPaths
    : {
      loadPath: old.loadPaths.loadPath || next.loadPaths.loadPath,
      ...(old.loadPaths.entry !== undefined ? { entry: old.loadPaths.entry } : next.loadPaths.entry !== undefined ? { entry: next.loadPaths.entry } : {}),
      allow: old.loadPaths.allow || next.loadPaths.allow,
      created: [...new Set([...old.loadPaths.created, ...next.loadPaths.created])]
    }
  const install = old.install === undefined
    ? next.install
    : next.install === undefined
    ? old.install
    : { installed: old.install.installed || next.install.installed, before: old.install.before }
  return {
    ...next,
    folder: old.folder,
    ...(old.previousFolder !== undefined ? { previousFolder: old.previousFolder } : {}),
    ...(old.createdFolders !== undefined ? { createdFolders: old.createdFolders } : {}),
    ...(old.configCreated !== undefined ? { configCreated: old.configCreated } : {}),
    ...(lp !== undefined ? { loadPaths: lp } : {}),
    ...(install !== undefined ? { install } : {})
  }
}
