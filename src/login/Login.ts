/**
 * The one login flow, used by `qwen-auth login` and by the OpenClaw plugin's `auth.run`: reuse a
 * stored login (refreshing it once when needed) unless forced, else request a device code, show
 * it, poll, persist through the credential store, and configure OpenClaw. Front ends only render:
 * they pass callbacks for the device code and the polling progress.
 *
 * OpenClaw is configured one of two ways: the CLI writes `openclaw.json`/`models.json` itself;
 * inside OpenClaw (host mode) the plugin returns a config patch that OpenClaw applies and saves.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { QwenAuthConfig } from "../Config.ts"
import type { Credentials } from "../domain/Credentials.ts"
import { checkResourceUrl } from "../oauth/Trust.ts"
import { CredentialStore } from "../store/CredentialStore.ts"
import { type DeviceLoginOptions, runDeviceLogin } from "./DeviceLogin.ts"
import { checkTargets, type ConfigResult, configureOpenClaw, recordConfig } from "./OpenClawSetup.ts"
import { decideReuse, type ReuseDecision } from "./Reuse.ts"

export type { DeviceAuthorization, PollProgress } from "./DeviceLogin.ts"

/** How OpenClaw learns about the login. @since 0.1.0 @category models */
export type OpenClawTarget =
  /** Write OpenClaw's config files (the CLI). */
  | { readonly _tag: "Files"; readonly setDefault: boolean }
  /** OpenClaw applies the result itself (the plugin); its credential copy is the store's host cell. */
  | { readonly _tag: "Host" }

/** @since 0.1.0 @category models */
export interface LoginOptions<R> extends Omit<DeviceLoginOptions<R>, "verifier"> {
  /** A new device login even when stored credentials are usable. */
  readonly force: boolean
  readonly openclaw: OpenClawTarget
  /** Why a stored login was not reused (said before the device code is shown). */
  readonly onNewLogin?: ((reason: string) => Effect.Effect<void>) | undefined
  /** Asked before a usable stored login is reused; `false` runs a new device login. Default: reuse. */
  readonly confirmReuse?: ((credentials: Credentials) => Effect.Effect<boolean>) | undefined
}

/** @since 0.1.0 @category models */
export interface LoginResult extends ConfigResult {
  readonly credentials: Credentials
  readonly reused: boolean
  /** A reused login had to be refreshed first. */
  readonly refreshed: boolean
}

/**
 * Logs in (or reuses a login) and persists it everywhere qwen-auth writes.
 *
 * @since 0.1.0
 * @category login
 */
export const login = Effect.fn("Login.login")(function*<R>(options: LoginOptions<R>) {
  const settings = yield* QwenAuthConfig
  const store = yield* CredentialStore
  const files = options.openclaw._tag === "Files"
  const setDefault = options.openclaw._tag === "Files" && options.openclaw.setDefault
  // Fail fast: nobody should approve a login whose results cannot be written. (Inside OpenClaw
  // the login counts even when qwen-auth's own copies cannot take it: OpenClaw keeps its copy.)
  if (files) yield* checkTargets({ openclawConfig: true })

  /** The OpenClaw side of a login whose credentials are stored. */
  const configure = (baseUrl: string) =>
    files
      ? configureOpenClaw({ baseUrl, setDefault })
      : Effect.map(recordConfig({ lastWrittenBaseUrl: baseUrl }), (state): ConfigResult => ({
        wrote: state === undefined ? [] : [state],
        warnings: [],
        notices: [],
        backup: undefined,
        baseUrl,
        defaultModel: null,
        pendingConfig: []
      }))

  if (!options.force) {
    const decision = yield* (files
      ? decideReuse(settings, store)
      // Inside OpenClaw an unreadable copy of ours only means there is nothing to reuse.
      : decideReuse(settings, store).pipe(Effect.orElseSucceed((): ReuseDecision => ({ _tag: "NewLogin", reason: undefined }))))
    const reuse = decision._tag === "Reuse" &&
      (options.confirmReuse === undefined || (yield* options.confirmReuse(decision.credentials)))
    if (decision._tag === "Reuse" && reuse) {
      // The question may have waited a while, and a peer (the daemon, a host) may have refreshed
      // meanwhile: reuse what is stored now, and bring behind copies up to date with that under
      // the locks. Saving the credentials read before the question would put a spent chain back.
      const now = yield* store.update((current) =>
        Effect.succeed({
          next: current.stale ? current.credentials : undefined,
          result: { credentials: current.credentials, healed: current.stale ? current.behind.map((b) => b.path) : [] }
        })
      )
      const credentials = now.credentials ?? decision.credentials
      const healed = now.credentials !== undefined ? now.healed : []
      const baseUrl = yield* checkResourceUrl(settings, credentials.resourceUrl)
      const configured = yield* configure(baseUrl)
      return {
        ...configured,
        wrote: [...new Set([...healed, ...configured.wrote])],
        credentials,
        reused: true,
        refreshed: decision.refreshed
      } satisfies LoginResult
    }
    if (decision._tag === "NewLogin" && decision.reason !== undefined && options.onNewLogin !== undefined) {
      yield* options.onNewLogin(decision.reason)
    }
  }

  const result = yield* runDeviceLogin(settings, options)
  // Inside OpenClaw the device code is spent by now and OpenClaw saves its own copy from the
  // result: a Qwen Code file that cannot be written costs a warning, not the login.
  const saved = yield* (files
    ? store.save(result.credentials).pipe(Effect.map((wrote) => ({ wrote, warnings: [] as Array<string> })))
    : store.save(result.credentials).pipe(
      // A copy the store could not read was left alone (never overwritten): say which.
      Effect.flatMap((wrote) =>
        Effect.map(store.load, (after) => ({
          wrote,
          warnings: after.unreadable.map((e) => `Qwen Code's credentials were not updated: ${e.message}`)
        }))
      ),
      Effect.catch((e) => Effect.succeed({ wrote: [], warnings: [`Qwen Code's credentials were not updated: ${e.message}`] }))
    ))
  const configured = yield* configure(result.baseUrl)
  return {
    ...configured,
    wrote: [...new Set([...saved.wrote, ...configured.wrote])],
    warnings: [...saved.warnings, ...configured.warnings],
    credentials: result.credentials,
    reused: false,
    refreshed: false
  } satisfies LoginResult
})
