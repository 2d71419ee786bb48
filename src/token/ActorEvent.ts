/**
 * What the token actor reports as it works, for a front end that shows its life (the daemon):
 * one event per job that changed something a user notices. Carries no secrets: instants, counts,
 * error tags and messages only.
 *
 * @since 0.1.0
 */
import type { Duration, Effect } from "effect"

/**
 * - `Refreshed`: the actor's own refresh was persisted to every copy.
 * - `Adopted`: a newer token a peer (Qwen Code, OpenClaw's plugin, `qwen-auth token`) stored
 *   was taken up without a POST.
 * - `LoginDetected`: credentials appeared while none were usable (a new login, by any tool).
 * - `RefreshFailed`: an attempt failed; the old token is still held; the next try is at `retryAt`.
 * - `NeedsLogin`: no usable credentials (refused, logged out, none, unreadable); said once per
 *   change of reason, then the actor waits for a login.
 *
 * @since 0.1.0
 * @category models
 */
export type ActorEvent =
  | { readonly _tag: "Refreshed"; readonly expiresAt: number; readonly nextRefreshAt: number }
  | { readonly _tag: "Adopted"; readonly expiresAt: number; readonly nextRefreshAt: number }
  | { readonly _tag: "LoginDetected"; readonly expiresAt: number; readonly nextRefreshAt: number }
  | {
    readonly _tag: "RefreshFailed"
    readonly expiresAt: number
    readonly retryAt: number
    readonly failures: number
    readonly errorTag: string
    readonly message: string
  }
  | { readonly _tag: "NeedsLogin"; readonly reason: string }

/**
 * Options of the token actor beyond the settings (the Layer uses none of them).
 *
 * @since 0.1.0
 * @category models
 */
export interface ActorOptions {
  /** The refresh margin is at least this (still capped at half the token's lifetime). */
  readonly minMargin?: Duration.Duration | undefined
  /**
   * Also look at the files (mtimes, every `fileCheckInterval`) while a token is held, so a peer's
   * refresh or a new login is taken up at once rather than at the next scheduled refresh.
   */
  readonly watchFiles?: boolean | undefined
  /** Keep retrying on the backoff after the token expired (nobody else drives the attempts). */
  readonly retryPastExpiry?: boolean | undefined
  /** Called once per event, in order, after the state changed; replaces the actor's own warnings. */
  readonly onEvent?: ((event: ActorEvent) => Effect.Effect<void>) | undefined
}
