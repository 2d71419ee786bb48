/**
 * OpenClaw's `auth-profiles.json` (files.md "OpenClaw: auth-profiles.json"): our profile
 * `qwen-portal:default`, with every other profile and unknown key kept as it was.
 *
 * @since 0.1.0
 */
import { Effect, Redacted, Schema } from "effect"
import { Credentials, EpochMillis } from "../domain/Credentials.ts"
import { MalformedFile } from "../domain/Errors.ts"
import type { FileRead } from "./AtomicWrite.ts"
import type { Codec, Read } from "./CredentialFile.ts"
import { decodeField, type JsonObject, parseJsonObject, stringifyJson } from "./JsonFile.ts"

/** Our profile id. @since 0.1.0 @category constants */
export const PROFILE_ID = "qwen-portal:default"
/** Our provider id. @since 0.1.0 @category constants */
export const PROVIDER_ID = "qwen-portal"
/** The only store version qwen-auth understands (and rewrites). @since 0.1.0 @category constants */
export const STORE_VERSION = 1

/** The store's envelope: version and profiles; other keys are kept. @since 0.1.0 @category schemas */
export const AuthProfilesEnvelope = Schema.Struct({
  version: Schema.Number,
  profiles: Schema.Record(Schema.String, Schema.Unknown)
})

/** Our profile's fields. @since 0.1.0 @category schemas */
export const QwenPortalProfileJson = Schema.Struct({
  type: Schema.Literal("oauth"),
  provider: Schema.Literal(PROVIDER_ID),
  access: Schema.NonEmptyString,
  refresh: Schema.optionalKey(Schema.String),
  expires: EpochMillis
})

/** The store as read. @since 0.1.0 @category models */
export interface AuthProfilesFile {
  /** Every key as read. */
  readonly raw: JsonObject
  readonly file: FileRead
  /** Our profile: none when absent, a problem when it cannot be used. */
  readonly profile: ProfileState
}

/** Our profile inside a readable store. @since 0.1.0 @category models */
export type ProfileState =
  | { readonly _tag: "Absent" }
  | { readonly _tag: "Present"; readonly credentials: Credentials; readonly raw: JsonObject }
  | { readonly _tag: "Invalid"; readonly problem: MalformedFile }
  /**
   * The user's own profile under our id, of another type than `oauth` (e.g. `api_key`): not a
   * login of ours, and never written (issue 13: it would silently become an oauth hybrid).
   */
  | { readonly _tag: "Foreign"; readonly type: string }

/**
 * Decodes the store. An unreadable envelope or an unknown version fails (the file is then never
 * rewritten); a broken `qwen-portal:default` entry is reported in `profile` (a save replaces it).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (path: string, text: string): Effect.Effect<{ raw: JsonObject; profile: ProfileState }, MalformedFile> =>
  Effect.gen(function*() {
    const raw = yield* parseJsonObject(path, text)
    const envelope = yield* decodeField(AuthProfilesEnvelope, path, raw)
    if (envelope.version !== STORE_VERSION) {
      return yield* new MalformedFile({
        path,
        problem: `has store version ${envelope.version}; qwen-auth understands only version ${STORE_VERSION} ` +
          `and will not rewrite it (update qwen-auth)`
      })
    }
    const entry = envelope.profiles[PROFILE_ID]
    if (entry === undefined) return { raw, profile: { _tag: "Absent" } as const }
    const type = typeof entry === "object" && entry !== null ? (entry as JsonObject)["type"] : undefined
    if (typeof type === "string" && type !== "oauth") return { raw, profile: { _tag: "Foreign", type } as const }
    const profile = yield* decodeProfile(path, entry).pipe(
      Effect.map((p): ProfileState => ({ _tag: "Present", ...p })),
      Effect.catchTag("MalformedFile", (problem) => Effect.succeed<ProfileState>({ _tag: "Invalid", problem }))
    )
    return { raw, profile }
  })

const decodeProfile = (path: string, entry: unknown) =>
  Effect.gen(function*() {
    const prefix = ["profiles", PROFILE_ID]
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      return yield* new MalformedFile({ path, problem: `field "${prefix.join(".")}": expected an object` })
    }
    const json = yield* decodeField(QwenPortalProfileJson, path, entry, prefix)
    const credentials = new Credentials({
      accessToken: Redacted.make(json.access),
      tokenType: "Bearer",
      expiresAt: json.expires,
      ...(json.refresh !== undefined && json.refresh !== "" ? { refreshToken: Redacted.make(json.refresh) } : {})
    })
    return { credentials, raw: entry as JsonObject }
  })

/**
 * Why OpenClaw's copy, as read from `path`, is not qwen-auth's to write, if it is not: it holds
 * the user's own profile of another type under our id. One line for the user.
 *
 * @since 0.1.0
 * @category decoding
 */
export const notOurs = (copy: Read<{ readonly profile: ProfileState }>, path: string): string | undefined =>
  copy._tag === "Ok" && copy.value.profile._tag === "Foreign"
    ? `qwen-auth left ${path} as it is: its ${PROFILE_ID} profile is your own "${copy.value.profile.type}" profile, ` +
      "not a Qwen OAuth login; OpenClaw keeps using it, and qwen-auth keeps the Qwen login in its other copies"
    : undefined

/**
 * The store's text with our profile set to `credentials` (or removed with `undefined`); other
 * profiles and keys are kept as read, and unknown keys of our own profile too. A user's own
 * profile of another type under our id is kept as it is (see `notOurs`: callers skip the write).
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (credentials: Credentials | undefined, raw: JsonObject | undefined): string => {
  const base: JsonObject = raw ?? { version: STORE_VERSION }
  const profiles = (typeof base["profiles"] === "object" && base["profiles"] !== null ? base["profiles"] : {}) as JsonObject
  const { [PROFILE_ID]: previous, ...others } = profiles
  const previousType = typeof previous === "object" && previous !== null ? (previous as JsonObject)["type"] : undefined
  if (typeof previousType === "string" && previousType !== "oauth") return stringifyJson(base)
  const previousRaw = typeof previous === "object" && previous !== null && !Array.isArray(previous)
    ? previous as JsonObject
    : {}
  const { refresh: _refresh, ...keep } = previousRaw
  const nextProfiles = credentials === undefined ? others : {
    ...profiles,
    [PROFILE_ID]: {
      ...keep,
      type: "oauth",
      provider: PROVIDER_ID,
      access: Redacted.value(credentials.accessToken),
      ...(credentials.refreshToken !== undefined ? { refresh: Redacted.value(credentials.refreshToken) } : {}),
      expires: credentials.expiresAt
    }
  }
  return stringifyJson({ ...base, version: STORE_VERSION, profiles: nextProfiles })
}

/**
 * The store's codec (`undefined` removes our profile), for `CredentialFile.read`/`write`.
 *
 * @since 0.1.0
 * @category codecs
 */
export const codec: Codec<{ raw: JsonObject; profile: ProfileState }, Credentials | undefined> = { decode, encode }
