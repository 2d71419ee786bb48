/**
 * Qwen Code's `oauth_creds.json` (files.md "Qwen Code: oauth_creds.json"): decoding into
 * `Credentials`, encoding back with every unknown field kept.
 *
 * @since 0.1.0
 */
import { Effect, Redacted, Schema } from "effect"
import { Credentials, EpochMillis } from "../domain/Credentials.ts"
import type { MalformedFile } from "../domain/Errors.ts"
import type { FileRead } from "./AtomicWrite.ts"
import type { Codec } from "./CredentialFile.ts"
import { decodeField, type JsonObject, parseJsonObject, stringifyJson } from "./JsonFile.ts"

/**
 * The fields qwen-auth reads; Qwen Code requires all but `resource_url`/`id_token` to be valid.
 *
 * @since 0.1.0
 * @category schemas
 */
export const QwenCodeCredentialsJson = Schema.Struct({
  access_token: Schema.NonEmptyString,
  token_type: Schema.NonEmptyString,
  refresh_token: Schema.NonEmptyString,
  expiry_date: EpochMillis,
  resource_url: Schema.optionalKey(Schema.String),
  id_token: Schema.optionalKey(Schema.String)
})

/** The file as read. @since 0.1.0 @category models */
export interface QwenCodeFile {
  readonly credentials: Credentials
  /** Every key as read, for a rewrite that keeps unknown fields. */
  readonly raw: JsonObject
  readonly file: FileRead
}

/**
 * Decodes the file's text; a failure names the file and the field.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (path: string, text: string): Effect.Effect<{ credentials: Credentials; raw: JsonObject }, MalformedFile> =>
  Effect.gen(function*() {
    const raw = yield* parseJsonObject(path, text)
    const json = yield* decodeField(QwenCodeCredentialsJson, path, raw)
    const credentials = new Credentials({
      accessToken: Redacted.make(json.access_token),
      refreshToken: Redacted.make(json.refresh_token),
      tokenType: json.token_type,
      expiresAt: json.expiry_date,
      ...(json.id_token !== undefined && json.id_token !== "" ? { idToken: Redacted.make(json.id_token) } : {}),
      ...(json.resource_url !== undefined && json.resource_url !== "" ? { resourceUrl: json.resource_url } : {})
    })
    return { credentials, raw }
  })

/**
 * The file's text for `credentials`, over `raw` (unknown keys kept, in their order). Known
 * optional fields the credentials lack are dropped, so a new login does not inherit an old
 * `resource_url`. The caller must not write credentials without a refresh token here.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (credentials: Credentials, raw: JsonObject = {}): string => {
  const { id_token: _id, resource_url: _resource, ...rest } = raw
  return stringifyJson({
    ...rest,
    access_token: Redacted.value(credentials.accessToken),
    token_type: credentials.tokenType === "" ? "Bearer" : credentials.tokenType,
    refresh_token: credentials.refreshToken === undefined ? undefined : Redacted.value(credentials.refreshToken),
    ...(credentials.resourceUrl !== undefined ? { resource_url: credentials.resourceUrl } : {}),
    expiry_date: credentials.expiresAt,
    ...(credentials.idToken !== undefined ? { id_token: Redacted.value(credentials.idToken) } : {})
  })
}

/**
 * The file's codec, for `CredentialFile.read`/`write` (never write credentials without a
 * refresh token: Qwen Code requires one).
 *
 * @since 0.1.0
 * @category codecs
 */
export const codec: Codec<{ credentials: Credentials; raw: JsonObject }, Credentials> = { decode, encode }
