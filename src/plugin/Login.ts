/**
 * `auth[0].run`: qwen-auth's device login (RFC 8628 + PKCE) through OpenClaw's prompter, ending
 * in the `ProviderAuthResult` OpenClaw's own `buildOauthProviderAuthResult` would produce.
 * The core's login flow writes qwen-auth's copies (Qwen Code's file, the state file) under Qwen
 * Code's lock; the OpenClaw profile is left to OpenClaw, which saves it from the result.
 *
 * @since 0.1.0
 */
import { Effect, Redacted } from "effect"
import { DEFAULT_API_BASE_URL } from "../Config.ts"
import * as Login from "../login/Login.ts"
import type { DeviceAuthorization, PollProgress } from "../login/Login.ts"
import { ALIAS, CODER_REF, PROFILE_ID, PROVIDER_ID, VISION_REF } from "../store/openclaw/Ids.ts"
import type { OAuthCredential, ProviderAuthContext, ProviderAuthResult } from "./types.ts"

/** The title of every note the login shows. */
export const NOTE_TITLE = "Qwen OAuth"

/** The notes OpenClaw 2026.3.24's bundled plugin returned, word for word. */
export const LOGIN_NOTES: ReadonlyArray<string> = [
  "Qwen OAuth tokens auto-refresh. Re-run login if refresh fails or access is revoked.",
  `Base URL defaults to ${DEFAULT_API_BASE_URL}. Override models.providers.${PROVIDER_ID}.baseUrl if needed.`
]

const minutes = (seconds: number) => Math.max(1, Math.round(seconds / 60))

/** RFC 8628 §3.3.1: the code is always shown with the plain URL; the complete URL is extra. */
export const deviceNote = (device: DeviceAuthorization): string =>
  [
    `Open ${device.verificationUri} and enter the code ${device.userCode}`,
    ...(device.verificationUriComplete !== undefined && device.verificationUriComplete !== device.verificationUri
      ? [`(or open ${device.verificationUriComplete}, which has the code filled in).`]
      : []),
    `The code expires in about ${minutes(device.expiresInSeconds)} min.`
  ].join("\n")

const clock = (ms: number) => {
  const s = Math.max(0, Math.ceil(ms / 1000))
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`
}

/** One progress line while polling. */
export const progressLine = (userCode: string, p: PollProgress): string =>
  `Waiting for approval of code ${userCode} (expires in ${clock(p.deadlineAtMs - p.nowMs)})` +
  (p.last === "slow_down" ? `; the server asked to slow down, polling every ${p.intervalSeconds} s` : "") +
  (p.last === "transient" ? "; the server did not answer, retrying" : "") +
  "…"

/**
 * Opens the URL without waiting for the browser; a failure (sync or async) is ignored because
 * the URL is already on screen.
 */
const openQuietly = (ctx: ProviderAuthContext, url: string) =>
  Effect.sync(() => {
    try {
      const r = ctx.openUrl(url)
      if (typeof r === "object" && r !== null && "then" in r && typeof r.then === "function") {
        ;(r as PromiseLike<unknown>).then(undefined, () => undefined)
      }
    } catch {
      // Shown already.
    }
  })

/** The `ProviderAuthResult` for a finished login (openclaw-plugin.md). */
export const authResult = (credential: OAuthCredential, baseUrl: string): ProviderAuthResult => ({
  profiles: [{ profileId: PROFILE_ID, credential }],
  configPatch: {
    models: { providers: { [PROVIDER_ID]: { baseUrl, models: [] } } },
    agents: { defaults: { models: { [CODER_REF]: { alias: ALIAS }, [VISION_REF]: {} } } }
  },
  defaultModel: CODER_REF,
  notes: [...LOGIN_NOTES]
})

/**
 * The whole login, through the core's one login flow in host mode (OpenClaw saves the profile
 * and applies the config patch from the result); this module only renders it.
 *
 * @since 0.1.0
 * @category login
 */
export const login = Effect.fn("Plugin.login")(function*(ctx: ProviderAuthContext) {
  const progress = yield* Effect.sync(() => ctx.prompter.progress("Starting Qwen OAuth…"))
  let userCode = ""
  return yield* Effect.gen(function*() {
    const result = yield* Login.login({
      // A usable qwen-auth login (Qwen Code's file or qwen-auth's copy) is offered first.
      force: false,
      openclaw: { _tag: "Host" },
      confirmReuse: (credentials) =>
        ctx.prompter.confirm === undefined
          ? Effect.succeed(true)
          : Effect.promise(() =>
            ctx.prompter.confirm!({
              message: `Use the Qwen login qwen-auth already has (valid until ${new Date(credentials.expiresAt).toISOString()})?`,
              initialValue: true
            })
          ),
      onNewLogin: (reason) => Effect.promise(async () => ctx.prompter.note(reason, NOTE_TITLE)),
      onDevice: (device) =>
        Effect.gen(function*() {
          userCode = device.userCode
          yield* Effect.promise(async () => ctx.prompter.note(deviceNote(device), NOTE_TITLE))
          yield* openQuietly(ctx, device.verificationUriComplete ?? device.verificationUri)
        }),
      onProgress: (p) => Effect.sync(() => progress.update(progressLine(userCode, p)))
    })
    yield* Effect.sync(() => progress.stop("Qwen OAuth complete"))
    for (const warning of result.warnings) {
      yield* Effect.promise(async () => ctx.prompter.note(warning, NOTE_TITLE))
    }
    const credentials = result.credentials
    const credential: OAuthCredential = {
      type: "oauth",
      provider: PROVIDER_ID,
      access: Redacted.value(credentials.accessToken),
      ...(credentials.refreshToken !== undefined ? { refresh: Redacted.value(credentials.refreshToken) } : {}),
      expires: credentials.expiresAt
    }
    return authResult(credential, result.baseUrl)
  }).pipe(
    Effect.onError(() => Effect.sync(() => progress.stop("Qwen OAuth failed")))
  )
})
