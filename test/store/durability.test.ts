/**
 * Durability across copies (issue 13): a rotated refresh token goes to every writable copy, and
 * the failure of one (a full disk, a read-only folder: injected through the FileSystem service)
 * never loses the chain. Drives the real refresh transaction (`Refresh.run`) over real files.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Logger, PlatformError, Redacted } from "effect"
import { basename } from "node:path"
import { pathsOf, type Settings } from "../../src/Config.ts"
import { CredentialStore } from "../../src/store/CredentialStore.ts"
import * as Refresh from "../../src/token/Refresh.ts"
import { reply, testHttpClient } from "../support/testHttpClient.ts"
import { creds, faultyFs, readJson, settingsFor, storeLayer, tempRoot } from "./helpers.ts"

const tokensJson = (n: string) => ({
  access_token: `access-${n}`,
  refresh_token: `refresh-${n}`,
  token_type: "Bearer",
  expires_in: 21_600,
  resource_url: "portal.qwen.ai"
})

const systemError = (code: string, method: string, path: string) =>
  PlatformError.systemError({
    _tag: code === "EACCES" ? "PermissionDenied" : "Unknown",
    module: "FileSystem",
    method,
    pathOrDescriptor: path,
    cause: Object.assign(new Error(code), { code })
  })

/** Fails the temp-file write of `target` with `code` for its first `times` writes. */
const failWritesOf = (target: string, code: string, times: number) => {
  let failed = 0
  return faultyFs((real) => ({
    open: (path, options) =>
      basename(path).startsWith(`.${basename(target)}.qwen-auth-`) && failed++ < times
        ? Effect.fail(systemError(code, "open", path))
        : real.open(path, options)
  }))
}

const captureWarnings = () => {
  const lines: Array<string> = []
  const logger = Logger.make(({ message }) => lines.push(String(Array.isArray(message) ? message.join(" ") : message)))
  return { lines, layer: Logger.layer([logger]) }
}

const refreshTokenOf = (path: string): string | undefined => {
  try {
    const json = readJson(path)
    return json.refresh_token ?? json.profiles?.["qwen-portal:default"]?.refresh
  } catch {
    return undefined
  }
}

const run = (settings: Settings, fs: ReturnType<typeof faultyFs>, answer: string) =>
  Effect.gen(function*() {
    const store = yield* CredentialStore
    const http = testHttpClient(() => reply.json(200, tokensJson(answer)))
    return yield* Refresh.run(store, settings, { known: undefined, failedToken: undefined }).pipe(Effect.provide(http.layer))
  }).pipe(Effect.provide(storeLayer(settings, fs)))

describe("a copy that cannot be written", () => {
  for (const code of ["ENOSPC", "EROFS", "EACCES"]) {
    it.live(`${code} on OpenClaw's file after the server rotated: the chain is kept in the other copies, said once, and healed later`, () =>
      Effect.gen(function*() {
        const root = yield* tempRoot
        const settings = settingsFor(root)
        const paths = pathsOf(settings)
        yield* CredentialStore.use((s) => s.save(creds("old", Date.now() + 60_000))).pipe(Effect.provide(storeLayer(settings)))
        const warnings = captureWarnings()
        const outcome = yield* run(settings, failWritesOf(paths.authProfiles, code, 1), "new").pipe(
          Effect.provide(warnings.layer)
        )
        assert.strictEqual(outcome._tag, "Refreshed")
        assert.strictEqual(refreshTokenOf(paths.qwenCreds), "refresh-new")
        assert.strictEqual(refreshTokenOf(paths.ownCreds), "refresh-new")
        assert.strictEqual(refreshTokenOf(paths.authProfiles), "refresh-old")
        const said = warnings.lines.filter((l) => l.includes(paths.authProfiles))
        assert.strictEqual(said.length, 1, warnings.lines.join("\n"))
        assert.match(said[0]!, code === "ENOSPC" ? /no space left/ : code === "EROFS" ? /read-only/ : /permission denied/)
        assert.include(said[0]!, paths.qwenCreds)
        // Space freed: the next run starts from the saved chain (no login) and heals OpenClaw's copy.
        const snapshot = yield* CredentialStore.use((s) => s.load).pipe(Effect.provide(storeLayer(settings)))
        assert.strictEqual(Redacted.value(snapshot.credentials!.refreshToken!), "refresh-new")
        assert.deepInclude(snapshot.behind, { path: paths.authProfiles, why: "spent" })
        yield* CredentialStore.use((s) =>
          s.update((current) => Effect.succeed({ next: current.stale ? current.credentials : undefined, result: undefined }))
        ).pipe(Effect.provide(storeLayer(settings)))
        assert.strictEqual(refreshTokenOf(paths.authProfiles), "refresh-new")
      }))
  }

  it.live("qwen-auth's own folder is full: OpenClaw's copy (another disk) still gets the chain", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const settings = settingsFor(root)
      const paths = pathsOf(settings)
      yield* CredentialStore.use((s) => s.save(creds("old", Date.now() + 60_000))).pipe(Effect.provide(storeLayer(settings)))
      // Every write under ~/.qwen fails: qwen-auth's copy, Qwen Code's file and the state file.
      const full = faultyFs((real) => ({
        open: (path, options) =>
          path.startsWith(`${settings.qwenHome}/.`) ? Effect.fail(systemError("ENOSPC", "open", path)) : real.open(path, options)
      }))
      const warnings = captureWarnings()
      const outcome = yield* run(settings, full, "new").pipe(Effect.provide(warnings.layer))
      assert.strictEqual(outcome._tag, "Refreshed")
      assert.strictEqual(refreshTokenOf(paths.authProfiles), "refresh-new")
      assert.strictEqual(refreshTokenOf(paths.qwenCreds), "refresh-old")
      assert.isAtLeast(warnings.lines.filter((l) => l.includes("no space left")).length, 2)
      // The next run finds the live chain in OpenClaw's copy (the later expiry), not the spent one.
      const snapshot = yield* CredentialStore.use((s) => s.load).pipe(Effect.provide(storeLayer(settings)))
      assert.strictEqual(snapshot.source, "openclaw")
    }))

  it.live("no copy can be written: the refresh fails naming the first file (the chain cannot be kept)", () =>
    Effect.gen(function*() {
      const root = yield* tempRoot
      const settings = settingsFor(root)
      yield* CredentialStore.use((s) => s.save(creds("old", Date.now() + 60_000))).pipe(Effect.provide(storeLayer(settings)))
      const full = faultyFs((real) => ({
        open: (path, options) =>
          basename(path).includes(".qwen-auth-") ? Effect.fail(systemError("ENOSPC", "open", path)) : real.open(path, options)
      }))
      const error = yield* Effect.flip(run(settings, full, "new"))
      assert.strictEqual(error._tag, "FileAccessError")
      assert.include(error.message, "no space left")
    }))
})
