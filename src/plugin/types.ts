/**
 * The parts of OpenClaw's plugin API the entry uses, as OpenClaw 2026.3.24 defines them
 * (openclaw-plugin.md). Declared here so the plugin never imports OpenClaw: types only, erased
 * at build time.
 *
 * @since 0.1.0
 */

/** An OAuth credential as OpenClaw stores it (`access`/`refresh` are plain strings). */
export interface OAuthCredential {
  readonly type: "oauth"
  readonly provider: string
  readonly access: string
  /** Absent when the server issued no refresh token (usable until expiry). */
  readonly refresh?: string
  /** Epoch milliseconds. */
  readonly expires: number
  readonly email?: string
}

/** What `prompter.progress` returns. */
export interface ProgressHandle {
  update(message: string): void
  stop(message?: string): void
}

/** `ctx` of `auth[].run`. */
export interface ProviderAuthContext {
  readonly openUrl: (url: string) => unknown
  readonly prompter: {
    note(message: string, title?: string): Promise<void> | void
    progress(initialMessage: string): ProgressHandle
    /** OpenClaw's `WizardPrompter.confirm` (2026.3.24 and 2026.9.6). */
    confirm?(params: { readonly message: string; readonly initialValue?: boolean }): Promise<boolean>
  }
}

/** What `auth[].run` returns (OpenClaw's `buildOauthProviderAuthResult` shape). */
export interface ProviderAuthResult {
  readonly profiles: ReadonlyArray<{ readonly profileId: string; readonly credential: OAuthCredential }>
  readonly configPatch: {
    readonly models: {
      readonly providers: {
        readonly [id: string]: { readonly baseUrl: string; readonly models: ReadonlyArray<unknown> }
      }
    }
    readonly agents: { readonly defaults: { readonly models: { readonly [ref: string]: { readonly alias?: string } } } }
  }
  readonly defaultModel: string
  readonly notes: ReadonlyArray<string>
}

/** `ctx` of `catalog.run`. */
export interface ProviderCatalogContext {
  readonly config: unknown
  readonly agentDir?: string | undefined
  readonly resolveProviderApiKey: (providerId: string) => { readonly apiKey?: string | undefined }
}

/** What `catalog.run` returns when the provider is usable. */
export interface ProviderCatalogResult {
  readonly provider: {
    readonly baseUrl: string
    readonly api: "openai-completions"
    readonly apiKey: string
    readonly models: ReadonlyArray<unknown>
  }
}

/** The provider object given to `api.registerProvider`. */
export interface ProviderPlugin {
  readonly id: string
  readonly label: string
  readonly docsPath: string
  readonly aliases: ReadonlyArray<string>
  readonly envVars: ReadonlyArray<string>
  readonly auth: ReadonlyArray<{
    readonly id: string
    readonly label: string
    readonly hint: string
    readonly kind: "device_code"
    readonly run: (ctx: ProviderAuthContext) => Promise<ProviderAuthResult>
  }>
  readonly wizard: {
    readonly setup: {
      readonly choiceId: string
      readonly choiceLabel: string
      readonly choiceHint: string
      readonly methodId: string
    }
  }
  readonly catalog: { readonly run: (ctx: ProviderCatalogContext) => Promise<ProviderCatalogResult | null> }
  readonly refreshOAuth: (cred: OAuthCredential) => Promise<OAuthCredential>
}

/** A background service (OpenClaw starts and stops them with the gateway). */
export interface PluginService {
  readonly id: string
  start(ctx?: unknown): void | Promise<void>
  stop?(ctx?: unknown): void | Promise<void>
}

/** The subset of `OpenClawPluginApi` the entry calls. */
export interface PluginApi {
  registerProvider(provider: ProviderPlugin): void
  registerService?: ((service: PluginService) => void) | undefined
}

/** The entry's default export (what OpenClaw's `definePluginEntry` returns). */
export interface PluginEntry {
  readonly id: string
  readonly name: string
  readonly description: string
  register(api: PluginApi): void
}
