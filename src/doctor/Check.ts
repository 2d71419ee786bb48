/**
 * What `qwen-auth doctor` reports: one result per check (ok / problem / skipped), each problem
 * with a cause from a fixed list and one next step (a command). Pure data and the exit-code rule.
 *
 * @since 0.1.0
 */

/** The checks, in the order they run and are shown. @since 0.1.0 @category models */
export const CHECK_IDS = ["files", "oauth-server", "api", "openclaw", "qwen-code", "daemon"] as const
/** @since 0.1.0 @category models */
export type CheckId = typeof CHECK_IDS[number]

/**
 * Why a check found a problem. README.md "qwen-auth doctor" documents each one.
 *
 * @since 0.1.0
 * @category models
 */
export const CAUSES = [
  "login-required",
  "service-rejects-tokens",
  "endpoint-not-found",
  "client-refused",
  "quota-exhausted",
  "throttled",
  "unreachable",
  "untrusted-endpoint",
  "server-error",
  "unexpected-answer",
  "refresh-failed",
  "file-problem",
  "copy-behind",
  "openclaw-failed",
  "plugin-not-loaded",
  "daemon-stopped"
] as const
/** @since 0.1.0 @category models */
export type Cause = typeof CAUSES[number]

/** One check's result, as `--json` prints it. @since 0.1.0 @category models */
export type CheckResult =
  | { readonly id: CheckId; readonly status: "ok" | "skipped"; readonly detail: string }
  | { readonly id: CheckId; readonly status: "problem"; readonly cause: Cause; readonly detail: string; readonly next: string }

/** @since 0.1.0 @category constructors */
export const ok = (id: CheckId, detail: string): CheckResult => ({ id, status: "ok", detail })
/** @since 0.1.0 @category constructors */
export const skipped = (id: CheckId, detail: string): CheckResult => ({ id, status: "skipped", detail })
/** @since 0.1.0 @category constructors */
export const problem = (id: CheckId, cause: Cause, detail: string, next: string): CheckResult => ({
  id,
  status: "problem",
  cause,
  detail,
  next
})

/**
 * 0 when no check found a problem; 4 when every problem is `login-required` (what `status` says
 * for the same situation); 1 otherwise.
 *
 * @since 0.1.0
 * @category exit codes
 */
export const exitCodeOf = (checks: ReadonlyArray<CheckResult>): 0 | 1 | 4 => {
  const problems = checks.filter((c) => c.status === "problem")
  if (problems.length === 0) return 0
  return problems.every((c) => c.status === "problem" && c.cause === "login-required") ? 4 : 1
}

/** A path or argument as one shell word (the next steps are commands to paste). @since 0.1.0 */
export const shellWord = (s: string): string => /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
