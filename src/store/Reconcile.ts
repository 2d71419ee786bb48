/**
 * Reading every source and reconciling them into one `Snapshot` (pure apart from the reads):
 * the valid credentials with the later expiry win; a broken source is listed under `problems`
 * while the other can still win.
 *
 * @since 0.1.0
 */
import { Effect, type FileSystem, Option } from "effect"
import { Credentials, type CredentialSource, sameAccessToken, sameRefreshToken } from "../domain/Credentials.ts"
import type { FileAccessError, MalformedFile } from "../domain/Errors.ts"
import type { Paths } from "../Config.ts"
import { CREDENTIAL_FILE_MODE, type FileRead, formatMode } from "./AtomicWrite.ts"
import type { FileReport, Snapshot } from "./CredentialStore.ts"
import * as OpenClawProfiles from "./OpenClawProfiles.ts"
import * as QwenCodeFile from "./QwenCodeFile.ts"
import * as StateFile from "./StateFile.ts"

/** One source as read: missing, readable, or broken (never rewritten). */
export type Read<A> =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Ok"; readonly value: A }
  | { readonly _tag: "Bad"; readonly error: MalformedFile | FileAccessError }

/** Every file the store looks at. */
export interface Sources {
  readonly paths: Paths
  readonly qwenCodeSync: boolean
  readonly qwen: Read<QwenCodeFile.QwenCodeFile>
  readonly openclaw: Read<OpenClawProfiles.AuthProfilesFile>
  readonly state: Read<StateFile.StateFile>
}

const toRead = <A>(
  effect: Effect.Effect<Option.Option<A>, MalformedFile | FileAccessError, FileSystem.FileSystem>
): Effect.Effect<Read<A>, never, FileSystem.FileSystem> =>
  effect.pipe(
    Effect.map((o): Read<A> => Option.isSome(o) ? { _tag: "Ok", value: o.value } : { _tag: "Missing" }),
    Effect.catch((error) => Effect.succeed<Read<A>>({ _tag: "Bad", error }))
  )

/** Reads every source; never fails (a broken file becomes `Bad`). */
export const readSources = (
  paths: Paths,
  qwenCodeSync: boolean
): Effect.Effect<Sources, never, FileSystem.FileSystem> =>
  Effect.all({
    qwen: qwenCodeSync ? toRead(QwenCodeFile.read(paths.qwenCreds)) : Effect.succeed<Read<never>>({ _tag: "Missing" }),
    openclaw: toRead(OpenClawProfiles.read(paths.authProfiles)),
    state: toRead(StateFile.readAt(paths.state))
  }).pipe(Effect.map((r) => ({ paths, qwenCodeSync, ...r })))

/** The state to judge credentials by (a broken state file counts as empty; it is reported). */
export const stateOf = (sources: Sources): StateFile.State =>
  sources.state._tag === "Ok" ? sources.state.value.state : StateFile.emptyState

/** Same tokens and expiry. */
export const sameCredentials = (a: Credentials, b: Credentials): boolean =>
  sameAccessToken(a, b) && sameRefreshToken(a, b) && a.expiresAt === b.expiresAt

/** The OpenClaw profile's credentials, completed with what only the state file keeps. */
export const openclawCredentials = (sources: Sources): Credentials | undefined => {
  if (sources.openclaw._tag !== "Ok" || sources.openclaw.value.profile._tag !== "Present") return undefined
  const credentials = sources.openclaw.value.profile.credentials
  const resourceUrl = stateOf(sources).resourceUrl
  return resourceUrl === undefined || credentials.resourceUrl !== undefined
    ? credentials
    : new Credentials({ ...credentials, resourceUrl })
}

/** The Qwen Code file's credentials. */
export const qwenCredentials = (sources: Sources): Credentials | undefined =>
  sources.qwen._tag === "Ok" ? sources.qwen.value.credentials : undefined

const fileReport = (path: string, read: Read<{ readonly file: FileRead }>, extra?: string): FileReport => {
  switch (read._tag) {
    case "Missing":
      return { path, exists: false, mode: null, ok: true, problem: null }
    case "Bad":
      return {
        path,
        exists: !(read.error._tag === "FileAccessError" && read.error.detail.startsWith("no such")),
        mode: null,
        ok: false,
        problem: read.error._tag === "MalformedFile" ? read.error.problem : read.error.message
      }
    case "Ok": {
      const mode = read.value.file.mode
      const loose = (mode & ~CREDENTIAL_FILE_MODE & 0o777) !== 0
      const problem = loose
        ? `mode ${formatMode(mode)} is looser than ${formatMode(CREDENTIAL_FILE_MODE)} (qwen-auth tightens it when it next writes)`
        : extra ?? null
      return { path, exists: true, mode: formatMode(mode), ok: problem === null, problem }
    }
  }
}

const problemLine = (error: MalformedFile | FileAccessError) => error.message

/**
 * Reconciles the sources. Fails only when no source holds any credentials and at least one
 * could not be read (the error names the file).
 */
export const reconcile = (sources: Sources): Effect.Effect<Snapshot, MalformedFile | FileAccessError> => {
  const state = stateOf(sources)
  const problems: Array<string> = []
  const errors: Array<MalformedFile | FileAccessError> = []
  for (const read of [sources.openclaw, sources.qwen, sources.state]) {
    if (read._tag === "Bad") {
      problems.push(problemLine(read.error))
      if (read !== sources.state) errors.push(read.error)
    }
  }
  const invalidProfile = sources.openclaw._tag === "Ok" && sources.openclaw.value.profile._tag === "Invalid"
    ? sources.openclaw.value.profile.problem
    : undefined
  if (invalidProfile !== undefined) {
    problems.push(problemLine(invalidProfile))
    errors.push(invalidProfile)
  }

  const candidates: Array<{ source: CredentialSource; credentials: Credentials }> = []
  const fromOpenClaw = openclawCredentials(sources)
  const fromQwen = qwenCredentials(sources)
  if (fromOpenClaw !== undefined) candidates.push({ source: "openclaw", credentials: fromOpenClaw })
  if (fromQwen !== undefined) candidates.push({ source: "qwen-code", credentials: fromQwen })
  if (candidates.length === 0 && errors.length > 0) {
    return Effect.fail(errors.find((e) => e._tag === "MalformedFile") ?? errors[0]!)
  }

  const blocked = candidates.map((c) => StateFile.blockedReason(state, c.credentials))
  const valid = candidates.filter((c, i) => blocked[i] === undefined && Number.isFinite(c.credentials.expiresAt))
  // Later expiry wins; on a tie the OpenClaw profile (listed first) stays.
  const winner = valid.reduce<(typeof valid)[number] | undefined>(
    (best, c) => best === undefined || c.credentials.expiresAt > best.credentials.expiresAt ? c : best,
    undefined
  )
  const stale = winner !== undefined && isStale(sources, winner.credentials)
  const absentReason = winner !== undefined
    ? undefined
    : blocked.includes("logged-out")
    ? "logged-out" as const
    : blocked.includes("refused")
    ? "refused" as const
    : candidates.length === 0 && state.loggedOut.length > 0
    ? "logged-out" as const // e.g. after `logout --all`: nothing left, and the last act was a logout
    : "none" as const

  const files: Array<FileReport> = [
    ...(sources.qwenCodeSync ? [fileReport(sources.paths.qwenCreds, sources.qwen)] : []),
    fileReport(sources.paths.authProfiles, sources.openclaw, invalidProfile?.problem),
    fileReport(sources.paths.state, sources.state)
  ]
  return Effect.succeed({
    credentials: winner?.credentials,
    source: winner?.source,
    issuedLifetimeSeconds: state.issuedLifetimeSeconds,
    stale,
    absentReason,
    problems,
    files
  })
}

/** A target qwen-auth could write that does not hold `credentials`. */
export const isStale = (sources: Sources, credentials: Credentials): boolean => {
  const openclawWritable = sources.openclaw._tag !== "Bad"
  const fromOpenClaw = openclawCredentials(sources)
  if (openclawWritable && (fromOpenClaw === undefined || !sameCredentials(fromOpenClaw, credentials))) return true
  const qwenWritable = sources.qwenCodeSync && sources.qwen._tag !== "Bad" && credentials.refreshToken !== undefined
  const fromQwen = qwenCredentials(sources)
  return qwenWritable && (fromQwen === undefined || !sameCredentials(fromQwen, credentials))
}

/** The hash input of credentials for the state lists (the refresh token, else the access token). */
export const stateKey = (credentials: Credentials) => credentials.refreshToken ?? credentials.accessToken
