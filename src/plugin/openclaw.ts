/**
 * The OpenClaw plugin entry (bundled to `dist/openclaw-plugin.js`): provider `qwen-portal`
 * with device-code login, refresh and catalog, as OpenClaw 2026.3.24's bundled
 * `qwen-portal-auth` offered it (openclaw-plugin.md).
 *
 * This module imports nothing at runtime but its own lazily loaded chunk (`Runtime.ts`, the
 * Effect core and undici), so importing it and calling `register` start no timer, open nothing,
 * and work on any Node: on Node older than 22.19 (what undici needs) the provider is still
 * registered and its calls fail with a message saying so. It never imports OpenClaw.
 *
 * @since 0.1.0
 */
import type { Settings } from "../Config.ts"
import type { PluginRuntime } from "./Runtime.ts"
import type { PluginApi, PluginEntry, ProviderPlugin } from "./types.ts"

export type * from "./types.ts"

// Kept as literals so the entry loads no Effect code; a test checks them against store/openclaw/Ids.ts.
/** @since 0.1.0 @category constants */
export const PLUGIN_ID = "qwen-portal-auth"
/** @since 0.1.0 @category constants */
export const PROVIDER_ID = "qwen-portal"
/** The oldest Node the Effect runtime (undici 8) works on. @since 0.1.0 @category constants */
export const MIN_NODE_VERSION = "22.19"

/**
 * Whether `version` (e.g. "22.23.3") is at least {@link MIN_NODE_VERSION}.
 *
 * @since 0.1.0
 * @category utils
 */
export const isSupportedNode = (version: string): boolean => {
  const [major = 0, minor = 0] = version.split(".").map((n) => Number.parseInt(n, 10) || 0)
  const [minMajor = 0, minMinor = 0] = MIN_NODE_VERSION.split(".").map(Number)
  return major > minMajor || (major === minMajor && minor >= minMinor)
}

/** @since 0.1.0 @category utils */
export const unsupportedNodeMessage = (version: string): string =>
  `qwen-portal-auth needs Node ≥ ${MIN_NODE_VERSION}; this OpenClaw runs on Node ${version}. ` +
  `Upgrade Node to use Qwen OAuth.`

/**
 * A plugin entry. Settings come from the environment like the CLI's (`QWEN_HOME`,
 * `QWEN_OAUTH_BASE_URL`, …), with `overrides` on top (tests, embedding).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makePlugin = (overrides: Partial<Settings> = {}): PluginEntry => {
  let runtime: Promise<PluginRuntime> | undefined
  let disposeOnExit = false
  let exitHookArmed = false

  const dispose = async (): Promise<void> => {
    const current = runtime
    runtime = undefined
    if (current !== undefined) await current.then((r) => r.dispose(), () => undefined)
  }

  /** The runtime, created on first use; never at import or `register` time. */
  const use = <A>(f: (r: PluginRuntime) => Promise<A>): Promise<A> => {
    const version = process.versions.node
    if (!isSupportedNode(version)) return Promise.reject(new Error(unsupportedNodeMessage(version)))
    if (runtime === undefined) {
      runtime = import("./Runtime.ts").then((m) => m.makeRuntime(overrides))
      // A failed load is not cached, so a later call may try again.
      runtime.catch(() => (runtime = undefined))
      if (disposeOnExit && !exitHookArmed) {
        exitHookArmed = true
        process.once("beforeExit", () => {
          exitHookArmed = false
          void dispose()
        })
      }
    }
    return runtime.then(f)
  }

  const provider: ProviderPlugin = {
    id: PROVIDER_ID,
    label: "Qwen",
    docsPath: "/providers/qwen",
    aliases: ["qwen"],
    envVars: ["QWEN_OAUTH_TOKEN", "QWEN_PORTAL_API_KEY"],
    auth: [{
      id: "device",
      label: "Qwen OAuth",
      hint: "Device code login",
      kind: "device_code",
      run: (ctx) => use((r) => r.authRun(ctx))
    }],
    wizard: {
      setup: { choiceId: "qwen-portal", choiceLabel: "Qwen OAuth", choiceHint: "Device code login", methodId: "device" }
    },
    catalog: { run: (ctx) => use((r) => r.catalogRun(ctx)) },
    refreshOAuth: (cred) => use((r) => r.refreshOAuth(cred))
  }

  return {
    id: PLUGIN_ID,
    name: "Qwen OAuth",
    description: "Qwen portal device-code login and token refresh (qwen-auth)",
    register(api: PluginApi) {
      if (typeof api.registerService === "function") {
        // The gateway stops services on shutdown; a short command ends with nothing to close.
        api.registerService({ id: `${PLUGIN_ID}-runtime`, start: () => undefined, stop: dispose })
      } else {
        disposeOnExit = true
      }
      api.registerProvider(provider)
    }
  }
}

/** The entry OpenClaw loads: settings from the environment. */
export default makePlugin()
