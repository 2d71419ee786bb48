/**
 * The Effect side of the plugin, loaded by the entry with a dynamic `import()` on the first call
 * (so importing the entry costs nothing and works on any Node). One `ManagedRuntime` per plugin
 * instance, built on first use: the file system and the undici `HttpClient` (the core's wiring,
 * `QwenAuth`); every call runs the core with the credential store in host mode. It forks no
 * background fiber and arms no timer between calls, so a short OpenClaw command exits as soon as
 * its own work is done.
 *
 * @since 0.1.0
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Effect, Exit, type FileSystem, Layer, ManagedRuntime } from "effect"
import type { HttpClient } from "effect/http"
import { QwenAuthConfig, type Settings } from "../Config.ts"
import * as QwenAuth from "../QwenAuth.ts"
import { catalog } from "./Catalog.ts"
import { login } from "./Login.ts"
import { errorFromCause } from "./PluginErrors.ts"
import { fromOpenClaw, refreshCredential } from "./Refresh.ts"
import type { OAuthCredential, ProviderAuthContext, ProviderAuthResult, ProviderCatalogContext, ProviderCatalogResult } from "./types.ts"

/**
 * What the entry calls.
 *
 * @since 0.1.0
 * @category models
 */
export interface PluginRuntime {
  readonly authRun: (ctx: ProviderAuthContext) => Promise<ProviderAuthResult>
  readonly refreshOAuth: (cred: OAuthCredential) => Promise<OAuthCredential>
  readonly catalogRun: (ctx: ProviderCatalogContext) => Promise<ProviderCatalogResult | null>
  readonly dispose: () => Promise<void>
}

/**
 * A runtime whose settings come from the environment (like the CLI's) with `overrides` on top.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeRuntime = (overrides: Partial<Settings> = {}): PluginRuntime => {
  const runtime = ManagedRuntime.make(Layer.mergeAll(NodeFileSystem.layer, QwenAuth.httpClient))
  const run = <A, E>(
    step: "login" | "refresh" | "catalog",
    body: Effect.Effect<A, E, HttpClient.HttpClient | FileSystem.FileSystem | QwenAuthConfig>
  ): Promise<A> =>
    runtime.runPromiseExit(Effect.provide(body, QwenAuthConfig.layer(overrides))).then((exit) => {
      if (Exit.isSuccess(exit)) return exit.value
      throw errorFromCause(exit.cause, step)
    })
  // OpenClaw owns its store and lock: each call gets the store in host mode over what it passed.
  return {
    authRun: (ctx) => run("login", login(ctx).pipe(Effect.provide(QwenAuth.hostStore(undefined)))),
    refreshOAuth: (cred) => run("refresh", refreshCredential(cred).pipe(Effect.provide(QwenAuth.hostStore(fromOpenClaw(cred))))),
    catalogRun: (ctx) => run("catalog", QwenAuthConfig.use((settings) => catalog(settings, ctx))),
    dispose: () => runtime.dispose()
  }
}
