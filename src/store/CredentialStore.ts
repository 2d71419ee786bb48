/**
 * The credential store: the one place that reads, reconciles and writes the credentials
 * qwen-auth shares with OpenClaw (`auth-profiles.json`, profile `qwen-portal:default`, or the
 * credential OpenClaw hands the plugin) and Qwen Code (`oauth_creds.json`), plus qwen-auth's own
 * state file (files.md, cli-contract.md). Login, refresh, the token actor, the CLI and the plugin
 * all go through it.
 *
 * @since 0.1.0
 */
import { Context, type Effect, Layer } from "effect"
import type { Credentials } from "../domain/Credentials.ts"
import { HostCredential } from "./HostCredential.ts"
import { type LogoutReport, makeStore, type StoreError, type UpdateDecision } from "./CredentialStoreLive.ts"
import { OpenClawLock } from "./locks/OpenClawLock.ts"
import type { Snapshot } from "./Snapshot.ts"

export type { LogoutReport, StoreError, UpdateDecision } from "./CredentialStoreLive.ts"
export type { AbsentReason, FileReport, Snapshot } from "./Snapshot.ts"
export { HostCredential } from "./HostCredential.ts"

/**
 * @since 0.1.0
 * @category services
 */
export class CredentialStore extends Context.Service<CredentialStore, {
  /** Reads and reconciles every copy; never writes. */
  readonly load: Effect.Effect<Snapshot, StoreError>
  /** Writes credentials to every copy (OpenClaw's; Qwen Code's unless sync is off), under the locks. Returns the paths written. */
  readonly save: (credentials: Credentials) => Effect.Effect<ReadonlyArray<string>, StoreError>
  /**
   * One read-modify-write under the locks (OpenClaw's, then Qwen Code's): re-reads, calls `f`
   * with the fresh snapshot, writes `next` if given (and heals stale copies), releases.
   * The building block of refresh: `f` may do one network call.
   */
  readonly update: <A, E, R>(
    f: (current: Snapshot) => Effect.Effect<UpdateDecision<A>, E, R>
  ) => Effect.Effect<A, E | StoreError, R>
  /** Records a refused refresh token (by hash) in the state file; deletes nothing. */
  readonly markRefused: (refreshToken: Credentials["refreshToken"]) => Effect.Effect<void, StoreError>
  /** Removes our OpenClaw profile, records the logout; `all` also deletes Qwen Code's file. */
  readonly logout: (options: { readonly all: boolean }) => Effect.Effect<LogoutReport, StoreError>
  /** A cheap fingerprint (mtimes and sizes) of the credential files, to notice a peer's writes. */
  readonly fingerprint: Effect.Effect<string>
}>()("qwen-auth/store/CredentialStore") {
  /** Over the real files; needs FileSystem, QwenAuthConfig and OpenClawLock. */
  static readonly layer = Layer.effect(CredentialStore, OpenClawLock.use((lock) => makeStore({ _tag: "Files", lock })))
  /** Over the real files, with OpenClaw's lock (its exact options); needs FileSystem and QwenAuthConfig. */
  static readonly layerWithLocks = CredentialStore.layer.pipe(Layer.provide(OpenClawLock.layer))
  /**
   * Inside OpenClaw (the plugin): OpenClaw's copy is the `HostCredential`, only Qwen Code's lock
   * is taken; needs FileSystem, QwenAuthConfig and HostCredential.
   */
  static readonly layerHost = Layer.effect(
    CredentialStore,
    HostCredential.use((credential) => makeStore({ _tag: "Host", credential }))
  )
}
