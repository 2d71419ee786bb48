/**
 * The Effect side of the plugin, loaded by the entry with a dynamic `import()` on the first call
 * (so importing the entry costs nothing and works on any Node). One `ManagedRuntime` per plugin
 * instance, built on first use: the file system and the undici `HttpClient`. It forks no
 * background fiber and arms no timer between calls, so a short OpenClaw command exits as soon as
 * its own work is done.
 *
 * @since 0.1.0
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Effect, Exit, type FileSystem, Layer, ManagedRuntime } from "effect"
import type { HttpClient } from "effect/http"
import { resolveSettings, type Settings } from "../Config.ts"
import * as HttpClientLayer from "../internal/HttpClientLayer.ts"
import { catalog } from "./Catalog.ts"
import { login } from "./Login.ts"
import { errorFromCause } from "./PluginErrors.ts"
import { refreshCredential } from "./Refresh.ts"
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
  const runtime = ManagedRuntime.make(Layer.mergeAll(NodeFileSystem.layer, HttpClientLayer.layer))
  const run = <A, E>(
    step: "login" | "refresh" | "catalog",
    body: (settings: Settings) => Effect.Effect<A, E, HttpClient.HttpClient | FileSystem.FileSystem>
  ): Promise<A> =>
    runtime.runPromiseExit(Effect.flatMap(resolveSettings(overrides), body)).then((exit) => {
      if (Exit.isSuccess(exit)) return exit.value
      throw errorFromCause(exit.cause, step)
    })
  return {
    authRun: (ctx) => run("login", (settings) => login(settings, ctx)),
    refreshOAuth: (cred) => run("refresh", (settings) => refreshCredential(settings, cred)),
    catalogRun: (ctx) => run("catalog", (settings) => catalog(settings, ctx)),
    dispose: () => runtime.dispose()
  }
}
