/**
 * Reconciling every credential copy into one `Snapshot` (pure): the valid credentials with the
 * later expiry win; a broken copy is listed under `problems` while another can still win.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import type { Paths } from "../Config.ts"
import { type Credentials, type CredentialSource, sameAccessToken } from "../domain/Credentials.ts"
import type { FileAccessError, MalformedFile } from "../domain/Errors.ts"
import { CREDENTIAL_FILE_MODE, type FileRead, formatMode } from "./AtomicWrite.ts"
import type { Read } from "./CredentialFile.ts"
import * as OpenClawProfiles from "./OpenClawProfiles.ts"
import type * as QwenCodeFile from "./QwenCodeFile.ts"
import type { BehindCopy, FileReport, Snapshot } from "./Snapshot.ts"
import * as StateFile from "./StateFile.ts"

/**
 * OpenClaw's copy as read: from `auth-profiles.json` (with the file), from OpenClaw 2026.9.6's
 * SQLite store (read-only; `problem` says why it holds nothing usable), or the credential the
 * host handed over (host mode: OpenClaw itself owns its store; `file` and `raw` are absent).
 */
export interface OpenClawCopy {
  readonly profile: OpenClawProfiles.ProfileState
  readonly raw: OpenClawProfiles.AuthProfilesFile["raw"] | undefined
  readonly file: FileRead | undefined
  readonly problem?: string | undefined
  /** The SQLite database the copy was read from. */
  readonly path?: string | undefined
}

/**
 * Where OpenClaw keeps its copy: `auth-profiles.json` (2026.3.24; qwen-auth writes it), a SQLite
 * database (2026.9.6; OpenClaw only, `path` names it), or in the host's hands (the plugin).
 */
export type OpenClawStore =
  | { readonly _tag: "Json" }
  | { readonly _tag: "Sqlite"; readonly databases: ReadonlyArray<string>; readonly legacyJson: boolean }
  | { readonly _tag: "Host" }

/** Every copy the store looks at. */
export interface Sources {
  readonly paths: Paths
  readonly qwenCodeSync: boolean
  readonly openclawStore: OpenClawStore
  readonly qwen: Read<QwenCodeFile.QwenCodeFile>
  /** qwen-auth's own copy (`qwen-auth-credentials.json`, Qwen Code's format). */
  readonly own: Read<QwenCodeFile.QwenCodeFile>
  readonly openclaw: Read<OpenClawCopy>
  readonly state: Read<StateFile.StateFile>
}

/** The state to judge credentials by (a broken state file counts as empty; it is reported). */
export const stateOf = (sources: Sources): StateFile.State => StateFile.stateOf(sources.state)

/**
 * A copy's credentials, completed with what only the state file keeps: the issued lifetime, and
 * for OpenClaw's copy (which has no such field) the `resource_url`.
 */
const completed = (sources: Sources, credentials: Credentials, withResource: boolean): Credentials => {
  const state = stateOf(sources)
  const lifetimeMs = credentials.lifetimeMs ??
    (state.issuedLifetimeSeconds !== undefined ? state.issuedLifetimeSeconds * 1000 : undefined)
  const resourceUrl = credentials.resourceUrl ?? (withResource ? state.resourceUrl : undefined)
  return lifetimeMs === credentials.lifetimeMs && resourceUrl === credentials.resourceUrl
    ? credentials
    : credentials.with({
      ...(lifetimeMs !== undefined ? { lifetimeMs } : {}),
      ...(resourceUrl !== undefined ? { resourceUrl } : {})
    })
}

/** OpenClaw's copy. */
export const openclawCredentials = (sources: Sources): Credentials | undefined =>
  sources.openclaw._tag === "Ok" && sources.openclaw.value.profile._tag === "Present"
    ? completed(sources, sources.openclaw.value.profile.credentials, true)
    : undefined

/** Qwen Code's copy. */
export const qwenCredentials = (sources: Sources): Credentials | undefined =>
  sources.qwen._tag === "Ok" ? completed(sources, sources.qwen.value.credentials, false) : undefined

/** qwen-auth's own copy. */
export const ownCredentials = (sources: Sources): Credentials | undefined =>
  sources.own._tag === "Ok" ? completed(sources, sources.own.value.credentials, false) : undefined

/** Readable or writable by anyone but the owner. */
const isLoose = (mode: number) => (mode & ~CREDENTIAL_FILE_MODE & 0o777) !== 0

const fileReport = (path: string, read: Read<{ readonly file: FileRead | undefined }>, extra?: string): FileReport => {
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
      const mode = read.value.file?.mode ?? CREDENTIAL_FILE_MODE
      const loose = isLoose(mode)
      const problem = loose
        ? `mode ${formatMode(mode)} is looser than ${formatMode(CREDENTIAL_FILE_MODE)} (qwen-auth tightens it when it next writes)`
        : extra ?? null
      return { path, exists: true, mode: formatMode(mode), ok: problem === null, problem }
    }
  }
}

/**
 * Reconciles the sources. Fails only when no copy holds any credentials and at least one could
 * not be read (the error names the file).
 */
export const reconcile = (sources: Sources): Effect.Effect<Snapshot, MalformedFile | FileAccessError> => {
  const state = stateOf(sources)
  const problems: Array<string> = []
  const errors: Array<MalformedFile | FileAccessError> = []
  const unreadable: Array<MalformedFile | FileAccessError> = []
  for (const read of [sources.openclaw, sources.qwen, sources.own, sources.state]) {
    if (read._tag === "Bad") {
      problems.push(read.error.message)
      unreadable.push(read.error)
      if (read !== sources.state) errors.push(read.error)
    }
  }
  const invalidProfile = sources.openclaw._tag === "Ok" && sources.openclaw.value.profile._tag === "Invalid"
    ? sources.openclaw.value.profile.problem
    : undefined
  if (invalidProfile !== undefined) {
    problems.push(invalidProfile.message)
    errors.push(invalidProfile)
  }

  const candidates: Array<{ source: CredentialSource; credentials: Credentials }> = []
  const fromOpenClaw = openclawCredentials(sources)
  const fromQwen = qwenCredentials(sources)
  if (fromOpenClaw !== undefined) candidates.push({ source: "openclaw", credentials: fromOpenClaw })
  if (fromQwen !== undefined) candidates.push({ source: "qwen-code", credentials: fromQwen })
  const fromOwn = ownCredentials(sources)
  if (fromOwn !== undefined) candidates.push({ source: "qwen-auth", credentials: fromOwn })
  if (candidates.length === 0 && errors.length > 0) {
    return Effect.fail(errors.find((e) => e._tag === "MalformedFile") ?? errors[0]!)
  }

  const blocked = candidates.map((c) => StateFile.blockedReason(state, c.credentials))
  const valid = candidates.filter((c, i) => blocked[i] === undefined && Number.isFinite(c.credentials.expiresAt))
  // Later expiry wins; on a tie OpenClaw's copy (listed first) stays.
  const winner = valid.reduce<(typeof valid)[number] | undefined>(
    (best, c) => best === undefined || c.credentials.expiresAt > best.credentials.expiresAt ? c : best,
    undefined
  )
  // OpenClaw's copy has no resource_url: take it from a copy holding the same access token.
  const resourceUrl = winner?.credentials.resourceUrl ??
    valid.find((c) =>
      winner !== undefined && c.credentials.resourceUrl !== undefined && sameAccessToken(c.credentials, winner.credentials)
    )?.credentials.resourceUrl
  const credentials = resourceUrl === undefined || winner?.credentials.resourceUrl !== undefined
    ? winner?.credentials
    : winner?.credentials.with({ resourceUrl })
  const behind = credentials === undefined ? [] : behindCopies(sources, credentials)
  const absentReason = winner !== undefined
    ? undefined
    : blocked.includes("logged-out")
    ? "logged-out" as const
    : blocked.includes("refused") || blocked.includes("spent")
    ? "refused" as const
    : candidates.length === 0 && state.loggedOut.length > 0
    ? "logged-out" as const // e.g. after `logout --all`: nothing left, and the last act was a logout
    : "none" as const

  const files: Array<FileReport> = [
    ...(sources.qwenCodeSync ? [fileReport(sources.paths.qwenCreds, sources.qwen)] : []),
    ...openclawReports(sources, invalidProfile?.problem),
    fileReport(sources.paths.ownCreds, sources.own),
    fileReport(sources.paths.state, sources.state)
  ]
  return Effect.succeed({
    credentials,
    source: winner?.source,
    stale: behind.length > 0,
    behind,
    absentReason,
    problems,
    unreadable,
    files
  })
}

/** What `status` lists for OpenClaw's store. */
const openclawReports = (sources: Sources, invalid: string | undefined): ReadonlyArray<FileReport> => {
  const store = sources.openclawStore
  switch (store._tag) {
    case "Host":
      return []
    case "Json":
      return [fileReport(sources.paths.authProfiles, sources.openclaw, invalid)]
    case "Sqlite": {
      const copy = sources.openclaw._tag === "Ok" ? sources.openclaw.value : undefined
      const problem = copy?.problem ?? null
      return [
        { path: copy?.path ?? store.databases[0] ?? "", exists: true, mode: null, ok: problem === null, problem },
        ...(store.legacyJson
          ? [{
            path: sources.paths.authProfiles,
            exists: true,
            mode: null,
            ok: false,
            problem: "a legacy auth store next to OpenClaw's SQLite store: OpenClaw refuses to run until `openclaw doctor --fix` imports it"
          }]
          : [])
      ]
    }
  }
}

/**
 * The copies qwen-auth writes that do not hold `credentials`. Qwen Code's file, when missing, is
 * recreated only if qwen-auth wrote the version that vanished or never saw another login there
 * (a user who removed their own Qwen Code login is respected); OpenClaw 2026.9.6's SQLite store is OpenClaw's to write (the plugin
 * hands it the chain), and a user's own non-oauth profile is theirs.
 */
export const behindCopies = (sources: Sources, credentials: Credentials): ReadonlyArray<BehindCopy> => {
  const state = stateOf(sources)
  const behind: Array<BehindCopy> = []
  const check = (path: string, writable: boolean, copy: Credentials | undefined, mayCreate: boolean) => {
    if (!writable) return
    if (copy === undefined) {
      if (mayCreate) behind.push({ path, why: "missing" })
    } else if (!copy.sameTokens(credentials)) {
      const spent = copy.refreshToken !== undefined && StateFile.blockedReason(state, copy) !== undefined
      behind.push({ path, why: spent ? "spent" : "other-login" })
    }
  }
  check(
    sources.paths.authProfiles,
    sources.openclaw._tag !== "Bad" && sources.openclawStore._tag !== "Sqlite" &&
      OpenClawProfiles.notOurs(sources.openclaw, sources.paths.authProfiles) === undefined,
    openclawCredentials(sources),
    true
  )
  check(
    sources.paths.qwenCreds,
    sources.qwenCodeSync && sources.qwen._tag !== "Bad" && credentials.refreshable,
    qwenCredentials(sources),
    StateFile.mayRecreateQwenCode(state)
  )
  check(sources.paths.ownCreds, sources.own._tag !== "Bad" && credentials.refreshable, ownCredentials(sources), true)
  // `status` promises that a loose mode is tightened when qwen-auth next writes: make that a write.
  const reads: ReadonlyArray<[string, Read<{ readonly file: FileRead | undefined }>]> = [
    [sources.paths.qwenCreds, sources.qwenCodeSync ? sources.qwen : { _tag: "Missing" }],
    [sources.paths.ownCreds, sources.own],
    [sources.paths.authProfiles, sources.openclawStore._tag === "Json" ? sources.openclaw : { _tag: "Missing" }],
    [sources.paths.state, sources.state]
  ]
  for (const [path, read] of reads) {
    const mode = read._tag === "Ok" ? read.value.file?.mode : undefined
    if (mode !== undefined && isLoose(mode) && !behind.some((b) => b.path === path)) behind.push({ path, why: "loose-mode" })
  }
  return behind
}
