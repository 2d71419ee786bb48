/**
 * Shared helpers for the store tests: a temp folder per test, settings pointing into it, and
 * byte snapshots of files (a failed operation must leave files exactly as they were).
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Duration, Effect, FileSystem, Layer, PlatformError, Redacted } from "effect"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"
import { type Settings, QwenAuthConfig } from "../../src/Config.ts"
import { Credentials } from "../../src/domain/Credentials.ts"
import { OpenClawLock } from "../../src/store/locks/OpenClawLock.ts"
import { CredentialStore } from "../../src/store/CredentialStore.ts"

/** Settings whose every path lies under `root`. */
export const settingsFor = (root: string, overrides: Partial<Settings> = {}): Settings => ({
  oauthBaseUrl: "http://127.0.0.1:9",
  clientId: "test-client",
  scope: "openid",
  refreshMargin: Duration.seconds(300),
  qwenHome: `${root}/qwen`,
  openclawStateDir: `${root}/openclaw`,
  openclawConfigPath: `${root}/openclaw/openclaw.json`,
  openclawAgentDir: `${root}/openclaw/agents/main/agent`,
  qwenCodeSync: true,
  logLevel: "warn",
  noBrowser: true,
  requestTimeout: Duration.millis(1_000),
  refreshTimeout: Duration.millis(1_000),
  backoffBase: Duration.millis(10),
  backoffCap: Duration.millis(100),
  jitter: 0,
  fileCheckInterval: Duration.millis(100),
  allowedResourceHosts: [],
  userAgent: "qwen-auth/test",
  ...overrides
})

/** OpenClaw's lock with short retries, so a held lock fails fast in tests. */
export const fastOpenClawLock = OpenClawLock.layerWith({
  retries: { retries: 3, factor: 2, minTimeout: 20, maxTimeout: 100, randomize: false },
  stale: 30_000
})

/** The store over `settings` with real files and a fast OpenClaw lock. */
export const storeLayer = (settings: Settings, fs: Layer.Layer<FileSystem.FileSystem> = NodeServices.layer) =>
  CredentialStore.layer.pipe(
    Layer.provide(fastOpenClawLock),
    Layer.provide(QwenAuthConfig.layerFrom(settings)),
    Layer.provide(fs)
  )

/** A fresh temp folder (removed with the test's scope). */
export const tempRoot = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  return yield* fs.makeTempDirectoryScoped({ prefix: "qwen-auth-store-" }).pipe(Effect.flatMap((p) => fs.realPath(p)))
}).pipe(Effect.provide(NodeServices.layer))

export const creds = (n: string, expiresAt: number, extra: { refresh?: string | null; resourceUrl?: string } = {}) =>
  new Credentials({
    accessToken: Redacted.make(`access-${n}`),
    ...(extra.refresh === null ? {} : { refreshToken: Redacted.make(extra.refresh ?? `refresh-${n}`) }),
    tokenType: "Bearer",
    expiresAt,
    ...(extra.resourceUrl !== undefined ? { resourceUrl: extra.resourceUrl } : {})
  })

export const writeText = (path: string, text: string, mode = 0o600) => {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  writeFileSync(path, text, { mode })
}

export const writeJson = (path: string, value: unknown, mode = 0o600) => writeText(path, JSON.stringify(value, null, 2), mode)

export const readJson = (path: string): any => JSON.parse(readFileSync(path, "utf8"))

/** The bytes of a file (or null when absent), to compare before and after. */
export const bytesOf = (path: string): string | null => existsSync(path) ? readFileSync(path).toString("base64") : null

export const qwenCredsJson = (n: string, expiry: number, extra: Record<string, unknown> = {}) => ({
  access_token: `access-${n}`,
  token_type: "Bearer",
  refresh_token: `refresh-${n}`,
  resource_url: "portal.qwen.ai",
  expiry_date: expiry,
  ...extra
})

export const profileJson = (n: string, expires: number, extra: Record<string, unknown> = {}) => ({
  type: "oauth",
  provider: "qwen-portal",
  access: `access-${n}`,
  refresh: `refresh-${n}`,
  expires,
  ...extra
})

/** A platform error as the Node file system reports it. */
export const permissionDenied = (method: string, path: string) =>
  PlatformError.systemError({ _tag: "PermissionDenied", module: "FileSystem", method, pathOrDescriptor: path })

/** Wraps the real file system with faults (style.md: faults come from wrapping a service). */
export const faultyFs = (patch: (real: FileSystem.FileSystem) => Partial<FileSystem.FileSystem>) =>
  Layer.effect(
    FileSystem.FileSystem,
    Effect.gen(function*() {
      const real = yield* FileSystem.FileSystem
      return FileSystem.FileSystem.of({ ...real, ...patch(real) })
    })
  ).pipe(Layer.provide(NodeServices.layer))
