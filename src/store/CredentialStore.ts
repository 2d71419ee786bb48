/**
 * The credential store: one place that reads, reconciles and writes the credentials qwen-auth
 * shares with OpenClaw (`auth-profiles.json`, profile `qwen-portal:default`) and Qwen Code
 * (`oauth_creds.json`), plus qwen-auth's own state file (files.md, cli-contract.md).
 *
 * CONTRACT (shared by the store, the token actor, login and the plugin). Implementation: the
 * store's `layer`. Other modules may rely on exactly these shapes.
 *
 * @since 0.1.0
 */
import { Context, type Effect, Layer } from "effect"
import type { Credentials, CredentialSource } from "../domain/Credentials.ts"
import type { FileAccessError, LockError, LoginRequired, MalformedFile } from "../domain/Errors.ts"
import { makeStore, type UpdateOptions } from "./CredentialStoreLive.ts"
import { OpenClawLock } from "./locks/OpenClawLock.ts"

export type { UpdateOptions } from "./CredentialStoreLive.ts"

/** Errors a store operation can fail with. @since 0.1.0 @category errors */
export type StoreError = MalformedFile | FileAccessError | LockError

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
 * The reconciled view of every source.
 *
 * @since 0.1.0
 * @category models
 */
export interface Snapshot {
  /** The valid credentials with the later expiry, if any source has valid ones. */
  readonly credentials: Credentials | undefined
  readonly source: CredentialSource | undefined
  /** The token lifetime as issued (`expires_in`), from the state file, if known. */
  readonly issuedLifetimeSeconds: number | undefined
  /** True when a source holds older or no credentials than the winner (a later write heals it). */
  readonly stale: boolean
  /** Why there are no usable credentials: "logged-out" | "refused" | "none". */
  readonly absentReason: "logged-out" | "refused" | "none" | undefined
  /** One line per malformed or unreadable source that was skipped. */
  readonly problems: ReadonlyArray<string>
  readonly files: ReadonlyArray<FileReport>
}

/** What `save` should also record. @since 0.1.0 @category models */
export interface SaveOptions {
  /** The token lifetime as issued (`expires_in`), kept in the state file. */
  readonly issuedLifetimeSeconds?: number
}

/**
 * The decision an `update` step returns: write `next` (to every target) or write nothing.
 *
 * @since 0.1.0
 * @category models
 */
export interface UpdateDecision<A> {
  readonly next: Credentials | undefined
  readonly issuedLifetimeSeconds?: number
  /** Also record this refresh token as refused (by hash), in the same locked step. */
  readonly refused?: Credentials["refreshToken"]
  readonly result: A
}

/** What `logout` removed. @since 0.1.0 @category models */
export interface LogoutReport {
  readonly removed: ReadonlyArray<string>
  readonly wasLoggedIn: boolean
}

/**
 * @since 0.1.0
 * @category services
 */
export class CredentialStore extends Context.Service<CredentialStore, {
  /** Reads and reconciles every source; never writes. */
  readonly load: Effect.Effect<Snapshot, StoreError>
  /** Writes credentials to every target (OpenClaw profile; Qwen Code file unless sync is off), under the locks. Returns the paths written. */
  readonly save: (credentials: Credentials, options?: SaveOptions) => Effect.Effect<ReadonlyArray<string>, StoreError>
  /**
   * One read-modify-write under both locks (OpenClaw's, then Qwen Code's): re-reads, calls `f`
   * with the fresh snapshot, writes `next` if given (and heals stale sources), releases.
   * The building block of refresh: `f` may do one network call.
   */
  readonly update: <A, E, R>(
    f: (current: Snapshot) => Effect.Effect<UpdateDecision<A>, E, R>,
    options?: UpdateOptions
  ) => Effect.Effect<A, E | StoreError, R>
  /** Records a refused refresh token (by hash) in the state file; deletes nothing. */
  readonly markRefused: (refreshToken: Credentials["refreshToken"]) => Effect.Effect<void, StoreError>
  /** Removes our OpenClaw profile, records the logout; `all` also deletes the Qwen Code file. */
  readonly logout: (options: { readonly all: boolean }) => Effect.Effect<LogoutReport, StoreError>
  /** A cheap fingerprint (mtimes and sizes) of the credential files, to notice a peer's writes. */
  readonly fingerprint: Effect.Effect<string>
}>()("qwen-auth/store/CredentialStore") {
  /** The store over the real files; needs FileSystem, QwenAuthConfig and OpenClawLock. */
  static readonly layer = Layer.effect(CredentialStore, makeStore)
  /** `layer` with OpenClaw's lock (OpenClaw's exact options); needs FileSystem and QwenAuthConfig. */
  static readonly layerWithLocks = CredentialStore.layer.pipe(Layer.provide(OpenClawLock.layer))
}

/** Convenience: load, failing with LoginRequired when nothing usable is stored. */
export type RequireCredentials = Effect.Effect<Credentials, StoreError | LoginRequired, CredentialStore>
