/**
 * `auth[0].run`: qwen-auth's device login (RFC 8628 + PKCE) through OpenClaw's prompter, ending
 * in the `ProviderAuthResult` OpenClaw's own `buildOauthProviderAuthResult` would produce. The
 * Qwen Code file and the state file are written under Qwen Code's lock; the OpenClaw profile is
 * left to OpenClaw, which saves it from the result.
 *
 * @since 0.1.0
 */
import { Clock, Effect, Redacted } from "effect"
import { DEFAULT_API_BASE_URL, type Settings } from "../Config.ts"
import { type PollProgress, pollForTokens } from "../login/Poller.ts"
import { type DeviceAuthorization, startDeviceAuthorization } from "../oauth/DeviceAuthorization.ts"
import { checkResourceUrl } from "../oauth/ResourceUrl.ts"
import { toCredentials } from "../oauth/TokenEndpoint.ts"
import { ALIAS, CODER_REF, PROFILE_ID, PROVIDER_ID, VISION_REF } from "../store/ConfigMerge.ts"
import { readShared, withQwenLock, writeShared } from "./QwenCodeSync.ts"
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
 * The whole login. Nothing is written until the tokens are in hand and their `resource_url`
 * passed the host check.
 *
 * @since 0.1.0
 * @category login
 */
export const login = Effect.fn("Plugin.login")(function*(settings: Settings, ctx: ProviderAuthContext) {
  const progress = yield* Effect.sync(() => ctx.prompter.progress("Starting Qwen OAuth…"))
  return yield* Effect.gen(function*() {
    const { pkce, device } = yield* startDeviceAuthorization(settings)
    const issuedAtMs = yield* Clock.currentTimeMillis
    yield* Effect.promise(async () => ctx.prompter.note(deviceNote(device), NOTE_TITLE))
    yield* openQuietly(ctx, device.verificationUriComplete ?? device.verificationUri)
    const tokens = yield* pollForTokens(settings, device, pkce, {
      issuedAtMs,
      onProgress: (p) => Effect.sync(() => progress.update(progressLine(device.userCode, p)))
    })
    const baseUrl = yield* checkResourceUrl(settings, tokens.resourceUrl)
    const credentials = toCredentials(tokens, yield* Clock.currentTimeMillis)
    // The device code is spent by now: a Qwen Code file we cannot write costs a warning, not the
    // login (OpenClaw saves its profile from the result either way).
    const problem = yield* withQwenLock(
      settings,
      Effect.flatMap(readShared(settings), (shared) =>
        writeShared(settings, shared, credentials, {
          issuedLifetimeSeconds: tokens.expiresInSeconds,
          lastWrittenBaseUrl: baseUrl
        }))
    ).pipe(
      Effect.map((written) => written.skipped?.message),
      Effect.catch((e) => Effect.succeed(e.message))
    )
    yield* Effect.sync(() => progress.stop("Qwen OAuth complete"))
    if (problem !== undefined) {
      yield* Effect.promise(async () => ctx.prompter.note(`Qwen Code's credentials were not updated: ${problem}`, NOTE_TITLE))
    }
    const credential: OAuthCredential = {
      type: "oauth",
      provider: PROVIDER_ID,
      access: Redacted.value(credentials.accessToken),
      ...(credentials.refreshToken !== undefined ? { refresh: Redacted.value(credentials.refreshToken) } : {}),
      expires: credentials.expiresAt
    }
    return authResult(credential, baseUrl)
  }).pipe(
    Effect.onError(() => Effect.sync(() => progress.stop("Qwen OAuth failed")))
  )
})
