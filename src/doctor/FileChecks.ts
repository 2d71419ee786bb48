/**
 * The `files` and `qwen-code` checks: what `status` reads (every copy parsed, its mode, whether it
 * holds the login in use), as one result each. Read-only: a copy that is behind is named with
 * the command that repairs it, not repaired here.
 *
 * @since 0.1.0
 */
import type { Paths } from "../Config.ts"
import type { Snapshot } from "../store/Snapshot.ts"
import { type CheckResult, ok, problem, shellWord, skipped } from "./Check.ts"

const BEHIND = {
  "missing": "is missing",
  "spent": "holds a refresh token that is already used up",
  "other-login": "holds another login than the one in use",
  "loose-mode": "is readable by others"
} as const

const isLoose = (mode: string | null) => mode !== null && (Number.parseInt(mode, 8) & 0o077) !== 0

/** The one command that fixes a file we could not use. */
const fixFor = (f: Snapshot["files"][number]) =>
  isLoose(f.mode)
    ? `chmod 600 ${shellWord(f.path)}`
    : f.problem?.includes("openclaw doctor --fix")
    ? "openclaw doctor --fix"
    : `\${EDITOR:-vi} ${shellWord(f.path)}`

/**
 * @param snapshot what the store read; `undefined` when no copy held a login and one could not be
 *   read (then `unreadable` names it).
 * @since 0.1.0
 * @category checks
 */
export const checkFiles = (
  snapshot: Snapshot,
  paths: Paths,
  loggedIn: boolean
): CheckResult => {
  const bad = snapshot.files.filter((f) => f.exists && !f.ok)
  const first = bad[0]
  if (first !== undefined) {
    const more = bad.length > 1 ? ` (and ${bad.length - 1} more: ${bad.slice(1).map((f) => f.path).join(", ")})` : ""
    return problem("files", "file-problem", `${first.path} ${first.problem ?? "cannot be used"}${more}`, fixFor(first))
  }
  if (!loggedIn) {
    return problem(
      "files",
      "login-required",
      snapshot.absentReason === "refused"
        ? "the stored login was refused by the server (invalid_grant)"
        : snapshot.absentReason === "logged-out"
        ? "you logged out with qwen-auth"
        : "no Qwen login is stored",
      "qwen-auth login"
    )
  }
  // As `status`: Qwen Code's copy is the `qwen-code` check's, qwen-auth's own copy is caught up
  // silently, and an OpenClaw profile never created is normal (OpenClaw may not be set up).
  const behind = snapshot.behind.filter((b) =>
    b.path !== paths.qwenCreds && b.path !== paths.ownCreds && b.why !== "loose-mode" &&
    !(b.path === paths.authProfiles && b.why === "missing")
  )
  const lag = behind[0]
  if (lag !== undefined) return problem("files", "copy-behind", `${lag.path} ${BEHIND[lag.why]}`, "qwen-auth token")
  const present = snapshot.files.filter((f) => f.exists).length
  return ok("files", `${present} file(s) read, modes 0600, the copies agree (the login in use comes from ${snapshot.source ?? "?"})`)
}

/** @since 0.1.0 @category checks */
export const checkQwenCode = (snapshot: Snapshot, paths: Paths, qwenCodeSync: boolean, loggedIn: boolean): CheckResult => {
  if (!qwenCodeSync) return skipped("qwen-code", "keeping Qwen Code's file in step is turned off (--no-qwen-code-sync)")
  const file = snapshot.files.find((f) => f.path === paths.qwenCreds)
  if (file !== undefined && file.exists && !file.ok) {
    return problem("qwen-code", "file-problem", `${file.path} ${file.problem ?? "cannot be used"}`, fixFor(file))
  }
  if (!loggedIn) return skipped("qwen-code", "no login to share with Qwen Code")
  const lag = snapshot.behind.find((b) => b.path === paths.qwenCreds && b.why !== "loose-mode")
  if (lag !== undefined) {
    return problem("qwen-code", "copy-behind", `${lag.path} ${BEHIND[lag.why]}, so Qwen Code would not use the login in use`, "qwen-auth token")
  }
  if (file === undefined || !file.exists) {
    return skipped("qwen-code", `${paths.qwenCreds} is absent: Qwen Code removed its login, and qwen-auth does not put one back that Qwen Code removed`)
  }
  return ok("qwen-code", `${file.path} holds the login in use`)
}
