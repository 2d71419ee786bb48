/**
 * The plugin files `setup-openclaw` copies into `<state>/extensions/qwen-portal-auth/`: exactly
 * the files `npm pack` ships (package.json `files`, plus package.json itself), taken from the
 * installed package qwen-auth runs from, never from a git checkout or the npx cache (both can
 * change or vanish under OpenClaw).
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Option, type PlatformError } from "effect"
import { basename, dirname, join, sep } from "node:path"
import { FileAccessError, MalformedFile } from "../domain/Errors.ts"
import { accessError, isNotFound, tempPathFor } from "../store/AtomicWrite.ts"
import { PLUGIN_ID } from "../store/openclaw/Ids.ts"
import { isRecord, type JsonObject } from "../store/openclaw/Json.ts"
import { NotAnInstalledPackage } from "./SetupErrors.ts"

/** The npm package name, the same as the plugin id. */
const PACKAGE_NAME = PLUGIN_ID
/** The plugin entry and manifest a copy must hold for OpenClaw to load it. */
const REQUIRED = ["dist/openclaw-plugin.js", "openclaw.plugin.json"] as const
/** What npm always ships besides `files` (README is in our `files` already). */
const ALWAYS = /^(package\.json|readme(\..*)?|licen[cs]e(\..*)?|notice(\..*)?)$/i
/** What npm never ships, even inside a `files` folder. */
const NEVER = /^(\.git|\.svn|\.hg|CVS|node_modules|\.DS_Store|\.npmrc|npm-debug\.log|.*\.orig|\._.*|\.wafpickle-\d+|\.lock-wscript|config\.gypi)$/

/** Modes of what we copy: plain package files, readable by OpenClaw. */
const FILE_MODE = 0o644
const FOLDER_MODE = 0o755

/** One file of the package, by path relative to its root. @since 0.1.0 @category models */
export interface PackageFile {
  readonly path: string
  readonly bytes: Uint8Array
}

/** The installed package, ready to copy. @since 0.1.0 @category models */
export interface PluginPackage {
  readonly root: string
  readonly version: string
  readonly files: ReadonlyArray<PackageFile>
}

const readJsonObject = (fs: FileSystem.FileSystem, path: string) =>
  Effect.gen(function*() {
    const text = yield* fs.readFileString(path).pipe(Effect.mapError(accessError(path, "read")))
    try {
      const value: unknown = JSON.parse(text)
      if (isRecord(value)) return value
    } catch {
      // reported below
    }
    return yield* new MalformedFile({ path, problem: "is not a JSON object" })
  })

const exists = (fs: FileSystem.FileSystem, path: string) =>
  fs.exists(path).pipe(Effect.mapError(accessError(path, "inspect")))

/**
 * The root of the installed `qwen-portal-auth` package that `from` (a folder of the running
 * code) belongs to. Refused: a folder not inside `node_modules` or holding `.git` (a checkout,
 * also behind `npm link`), and the npx cache.
 *
 * @since 0.1.0
 * @category locating
 */
export const locate = Effect.fnUntraced(function*(from: string) {
  const fs = yield* FileSystem.FileSystem
  let dir = from
  let root: string | undefined
  for (;;) {
    const manifest = join(dir, "package.json")
    if (yield* exists(fs, manifest)) {
      const pkg = yield* readJsonObject(fs, manifest)
      if (pkg.name === PACKAGE_NAME) {
        root = dir
        break
      }
    }
    const up = dirname(dir)
    if (up === dir) break
    dir = up
  }
  if (root === undefined) {
    return yield* new NotAnInstalledPackage({ root: from, reason: `which is not inside a ${PACKAGE_NAME} package` })
  }
  const real = yield* fs.realPath(root).pipe(Effect.mapError(accessError(root, "resolve")))
  const parent = dirname(real)
  const inNodeModules = basename(parent) === "node_modules" ||
    (basename(parent).startsWith("@") && basename(dirname(parent)) === "node_modules")
  if (real.split(sep).includes("_npx")) {
    return yield* new NotAnInstalledPackage({ root: real, reason: "which is npx's cache (npm may remove it at any time)" })
  }
  if (yield* exists(fs, join(real, ".git"))) {
    return yield* new NotAnInstalledPackage({ root: real, reason: "which is a git checkout" })
  }
  if (!inNodeModules) {
    return yield* new NotAnInstalledPackage({ root: real, reason: "which is not an installed package (not inside node_modules)" })
  }
  for (const file of REQUIRED) {
    if (!(yield* exists(fs, join(real, file)))) {
      return yield* new NotAnInstalledPackage({ root: real, reason: `which has no ${file} (a damaged install)` })
    }
  }
  return real
})

/**
 * package.json as the copy carries it. The plugin bundle (`dist/openclaw-plugin.js` and
 * `dist/openclaw-plugin/`) is self-contained, and OpenClaw 2026.9.6 refuses to load a plugin whose
 * `dependencies` are not installed under its folder ("cannot load because required dependencies
 * are missing"), and would run npm (network) to install them. So the copy keeps only what
 * describes the plugin: no `dependencies`/`peerDependencies`/`devDependencies`, no `scripts`
 * (nothing to run at install), no `bin`/`main`/`exports` (the copy is not a library).
 *
 * @since 0.1.0
 * @category files
 */
export const pluginManifest = (pkg: JsonObject): JsonObject => {
  const keep = ["name", "version", "description", "license", "type", "engines", "openclaw"]
  return Object.fromEntries(keep.filter((k) => pkg[k] !== undefined).map((k) => [k, pkg[k]]))
}

/** Every file under `dir` (relative paths), skipping what npm never ships. */
const walk = (fs: FileSystem.FileSystem, root: string, rel: string): Effect.Effect<Array<string>, FileAccessError> =>
  Effect.gen(function*() {
    const dir = join(root, rel)
    const entries = yield* fs.readDirectoryEntries(dir).pipe(Effect.mapError(accessError(dir, "list")))
    const out: Array<string> = []
    for (const e of [...entries].sort((a, b) => a.name.localeCompare(b.name))) {
      if (NEVER.test(e.name)) continue
      const path = rel === "" ? e.name : `${rel}/${e.name}`
      if (e.type === "Directory") out.push(...(yield* walk(fs, root, path)))
      else if (e.type === "File") out.push(path)
    }
    return out
  })

/**
 * Reads the package's shipped files (package.json rewritten by `pluginManifest`).
 *
 * @since 0.1.0
 * @category files
 */
export const read = Effect.fnUntraced(function*(root: string) {
  const fs = yield* FileSystem.FileSystem
  const pkg = yield* readJsonObject(fs, join(root, "package.json"))
  const listed = Array.isArray(pkg.files) ? pkg.files.filter((f): f is string => typeof f === "string") : []
  const paths = new Set<string>()
  for (const name of yield* fs.readDirectory(root).pipe(Effect.mapError(accessError(root, "list")))) {
    if (ALWAYS.test(name) && name !== "package.json") paths.add(name)
  }
  for (const entry of listed) {
    const clean = entry.replace(/^\.\//, "").replace(/\/+$/, "")
    const info = yield* fs.stat(join(root, clean)).pipe(Effect.option)
    if (Option.isNone(info)) continue
    if (info.value.type === "Directory") for (const p of yield* walk(fs, root, clean)) paths.add(p)
    else if (info.value.type === "File") paths.add(clean)
  }
  const files: Array<PackageFile> = [{
    path: "package.json",
    bytes: new TextEncoder().encode(`${JSON.stringify(pluginManifest(pkg), null, 2)}\n`)
  }]
  for (const path of [...paths].sort()) {
    const bytes = yield* fs.readFile(join(root, path)).pipe(Effect.mapError(accessError(join(root, path), "read")))
    files.push({ path, bytes })
  }
  return { root, version: typeof pkg.version === "string" ? pkg.version : "unknown", files } satisfies PluginPackage
})

// =============================================================================
// The copy
// =============================================================================

/** What bringing a folder up to date with a package takes. @since 0.1.0 @category models */
export interface CopyPlan {
  readonly folderExists: boolean
  /** Files to write (missing or different). */
  readonly write: ReadonlyArray<PackageFile>
  /** Files in the folder that the package does not have. */
  readonly extra: ReadonlyArray<string>
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i])

const statOption = (fs: FileSystem.FileSystem, path: string) =>
  fs.stat(path).pipe(
    Effect.map(Option.some),
    Effect.catchIf(isNotFound, () => Effect.succeedNone),
    Effect.mapError(accessError(path, "inspect"))
  )

/** Every entry under `dir` that is not a folder (files, links), relative. */
const walkAll = (fs: FileSystem.FileSystem, root: string, rel: string): Effect.Effect<Array<string>, FileAccessError> =>
  Effect.gen(function*() {
    const dir = rel === "" ? root : join(root, rel)
    const entries = yield* fs.readDirectoryEntries(dir).pipe(Effect.mapError(accessError(dir, "list")))
    const out: Array<string> = []
    for (const e of entries) {
      const path = rel === "" ? e.name : `${rel}/${e.name}`
      if (e.type === "Directory") out.push(...(yield* walkAll(fs, root, path)))
      else out.push(path)
    }
    return out
  })

/**
 * Compares `folder` with the package's files.
 *
 * @since 0.1.0
 * @category copying
 */
export const plan = Effect.fnUntraced(function*(pkg: PluginPackage, folder: string) {
  const fs = yield* FileSystem.FileSystem
  const info = yield* statOption(fs, folder)
  if (Option.isSome(info) && info.value.type !== "Directory") {
    return yield* new FileAccessError({ path: folder, operation: "use", detail: "a file is in the way of the plugin folder" })
  }
  if (Option.isNone(info)) return { folderExists: false, write: pkg.files, extra: [] } satisfies CopyPlan
  const write: Array<PackageFile> = []
  for (const file of pkg.files) {
    const path = join(folder, file.path)
    const current = yield* fs.readFile(path).pipe(
      Effect.map(Option.some),
      Effect.catch(() => Effect.succeedNone)
    )
    if (Option.isNone(current) || !sameBytes(current.value, file.bytes)) write.push(file)
  }
  const wanted = new Set(pkg.files.map((f) => f.path))
  const extra = (yield* walkAll(fs, folder, "")).filter((p) => !wanted.has(p)).sort()
  return { folderExists: true, write, extra } satisfies CopyPlan
})

/** Writes one file through a temp file of our own name in its folder, then renames it over. */
const writeFile = (fs: FileSystem.FileSystem, path: string, bytes: Uint8Array) => {
  const temp = tempPathFor(path)
  return Effect.gen(function*() {
    yield* fs.writeFile(temp, bytes, { flag: "wx", mode: FILE_MODE })
    yield* fs.chmod(temp, FILE_MODE)
    yield* fs.rename(temp, path)
  }).pipe(
    Effect.mapError(accessError(path, "write")),
    Effect.onExit((exit) => exit._tag === "Success" ? Effect.void : fs.remove(temp, { force: true }).pipe(Effect.ignore))
  )
}

/**
 * Carries out a plan: writes what differs, removes files the package no longer has (and folders
 * left empty). Only for a folder qwen-auth owns.
 *
 * @since 0.1.0
 * @category copying
 */
export const apply = Effect.fnUntraced(function*(folder: string, copy: CopyPlan) {
  const fs = yield* FileSystem.FileSystem
  const mkdir = (path: string) =>
    fs.makeDirectory(path, { recursive: true, mode: FOLDER_MODE }).pipe(Effect.mapError(accessError(path, "create folder")))
  yield* mkdir(folder)
  for (const file of copy.write) {
    const path = join(folder, file.path)
    yield* mkdir(dirname(path))
    yield* writeFile(fs, path, file.bytes)
  }
  for (const rel of copy.extra) {
    yield* fs.remove(join(folder, rel), { force: true }).pipe(Effect.mapError(accessError(join(folder, rel), "remove")))
  }
  yield* removeEmptiedFolders(fs, folder, copy.extra)
})

const removeEmptiedFolders = (fs: FileSystem.FileSystem, folder: string, removed: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const dirs = new Set<string>()
    for (const rel of removed) {
      for (let d = dirname(rel); d !== "." && d !== ""; d = dirname(d)) dirs.add(d)
    }
    // Deepest first.
    for (const d of [...dirs].sort((a, b) => b.split("/").length - a.split("/").length)) {
      const path = join(folder, d)
      const left = yield* fs.readDirectory(path).pipe(Effect.orElseSucceed(() => ["?"]))
      if (left.length === 0) yield* fs.remove(path, { recursive: true }).pipe(Effect.ignore)
    }
  })

/**
 * Moves a folder (recursively) to `to`, copying when a plain rename cannot (another file
 * system). `to` must not exist.
 *
 * @since 0.1.0
 * @category copying
 */
export const moveFolder = Effect.fnUntraced(function*(from: string, to: string) {
  const fs = yield* FileSystem.FileSystem
  yield* fs.makeDirectory(dirname(to), { recursive: true, mode: 0o700 }).pipe(Effect.mapError(accessError(dirname(to), "create folder")))
  yield* fs.rename(from, to).pipe(
    Effect.catch((error: PlatformError.PlatformError) =>
      error.reason._tag === "NotFound" || error.reason._tag === "PermissionDenied"
        ? Effect.fail(error)
        : Effect.andThen(fs.copy(from, to, { preserveTimestamps: true }), fs.remove(from, { recursive: true }))
    ),
    Effect.mapError(accessError(from, `move to ${to}`))
  )
})

/**
 * Removes a folder and everything in it; a missing one is fine.
 *
 * @since 0.1.0
 * @category copying
 */
export const removeFolder = (folder: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    yield* fs.remove(folder, { recursive: true, force: true }).pipe(Effect.mapError(accessError(folder, "remove")))
  })


/**
 * The folders from `folder` up to `top` (both included) that do not exist yet, deepest first.
 *
 * @since 0.1.0
 * @category copying
 */
export const missingFolders = Effect.fnUntraced(function*(folder: string, top: string) {
  const fs = yield* FileSystem.FileSystem
  const out: Array<string> = []
  for (let d = folder; ; d = dirname(d)) {
    if (yield* exists(fs, d)) break
    out.push(d)
    if (d === top || dirname(d) === d) break
  }
  return out
})

/**
 * Removes each folder (deepest first, as given) that is empty; never fails.
 *
 * @since 0.1.0
 * @category copying
 */
export const removeEmptyFolders = (folders: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    for (const d of folders) {
      const left = yield* fs.readDirectory(d).pipe(Effect.orElseSucceed(() => ["?"]))
      if (left.length === 0) yield* fs.remove(d, { recursive: true }).pipe(Effect.ignore)
    }
  })
