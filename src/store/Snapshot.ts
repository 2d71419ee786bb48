/**
 * What the store reports: the reconciled view of every credential copy. A leaf module (models
 * only), so the store's contract, its implementation and the reconciler can all use it without
 * importing each other.
 *
 * @since 0.1.0
 */
import type { Credentials, CredentialSource } from "../domain/Credentials.ts"
import type { FileAccessError, MalformedFile } from "../domain/Errors.ts"

/** What is known about one file, for `status`. @since 0.1.0 @category models */
export interface FileReport {
  readonly path: string
  readonly exists: boolean
  /** Octal permission bits, e.g. "600"; null when the file does not exist. */
  readonly mode: string | null
  readonly ok: boolean
  readonly problem: string | null
}

/**
 * A copy qwen-auth keeps in step that does not hold the winning login: missing (only where
 * qwen-auth may recreate it), holding a refresh token qwen-auth rotated away or the server
 * refused, holding another login, or readable by others (tightened to 0600 on the next write).
 *
 * @since 0.1.0
 * @category models
 */
export interface BehindCopy {
  readonly path: string
  readonly why: "missing" | "spent" | "other-login" | "loose-mode"
}

/** Why no credentials are usable. @since 0.1.0 @category models */
export type AbsentReason = "logged-out" | "refused" | "none"

/**
 * The reconciled view of every source.
 *
 * @since 0.1.0
 * @category models
 */
export interface Snapshot {
  /** The valid credentials with the later expiry (with their issued lifetime), if any. */
  readonly credentials: Credentials | undefined
  readonly source: CredentialSource | undefined
  /** True when a copy qwen-auth writes is behind the winner (a later write under the locks heals it). */
  readonly stale: boolean
  /** Those copies, for `status`. */
  readonly behind: ReadonlyArray<BehindCopy>
  /** Why there are no usable credentials. */
  readonly absentReason: AbsentReason | undefined
  /** One line per malformed or unreadable source that was skipped. */
  readonly problems: ReadonlyArray<string>
  /** The copies that could not be read (never rewritten): a login must not start while any is. */
  readonly unreadable: ReadonlyArray<MalformedFile | FileAccessError>
  readonly files: ReadonlyArray<FileReport>
}
