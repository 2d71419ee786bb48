/**
 * Node's compile cache, and the fast paths' code cache kept next to it (FastPathLoad.ts), hold
 * code this process runs. By default they live in the shared temp folder
 * (`<tmp>/node-compile-cache`), where another user could create the folder first and put code
 * in it for us to run. So they are used only in a folder no other user can write: owned by this
 * user or root, without write access for group or others. A folder that is not there yet is
 * fine (Node creates it as ours); anything else only loses the speed-up.
 */
const UNTRUSTED_WRITE = 0o022

/** Whether `path` is a folder only this user (or root) can write, or not there at all. */
const folderAt = (path: string): "private" | "missing" | "untrusted" => {
  const uid = process.getuid?.()
  if (uid === undefined) return "private" // no POSIX owners (Windows): nothing to check
  try {
    const info = process.getBuiltinModule("node:fs").lstatSync(path)
    return info.isDirectory() && (info.uid === uid || info.uid === 0) && (info.mode & UNTRUSTED_WRITE) === 0
      ? "private"
      : "untrusted"
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : "untrusted"
  }
}

/** Whether `path` is a folder only this user (or root) can write. */
export const isPrivateFolder = (path: string): boolean => folderAt(path) === "private"

/**
 * Turns on Node's compile cache where Node would put it (NODE_COMPILE_CACHE, else
 * node-compile-cache under the OS temp folder), unless that folder exists and is not private.
 * Never throws. `NODE_DISABLE_COMPILE_CACHE=1` still turns it off (Node's own switch).
 */
export const enableCompileCache = (): void => {
  const path = process.getBuiltinModule("node:path")
  const base = process.env["NODE_COMPILE_CACHE"] ||
    path.join(process.getBuiltinModule("node:os").tmpdir(), "node-compile-cache")
  if (folderAt(base) !== "untrusted") process.getBuiltinModule("node:module").enableCompileCache?.()
}
