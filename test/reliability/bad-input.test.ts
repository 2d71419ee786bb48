/**
 * Bad input (issue 6): random and mutated JSON to every file decoder, random bodies and statuses
 * to every protocol decoder. Never a defect, always a typed error; no secret from a body in an
 * error message; an unparsable file is left byte-identical by a write through the store.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Cause, Console, Effect, Exit, Layer, Redacted, Result } from "effect"
import fc from "fast-check"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { QwenAuthConfig } from "../../src/Config.ts"
import { Credentials } from "../../src/domain/Credentials.ts"
import { processDeviceAuthorizationResponse } from "../../src/oauth/DeviceAuthorization.ts"
import type { Answer } from "../../src/oauth/Transport.ts"
import { processRefreshResponse, processTokenPollResponse } from "../../src/oauth/TokenEndpoint.ts"
import { CredentialStore } from "../../src/store/CredentialStore.ts"
import { OpenClawLock } from "../../src/store/locks/OpenClawLock.ts"
import * as OpenClawProfiles from "../../src/store/OpenClawProfiles.ts"
import { parseJson5 } from "../../src/store/openclaw/ConfigFile.ts"
import * as QwenCodeFile from "../../src/store/QwenCodeFile.ts"
import * as StateFile from "../../src/store/StateFile.ts"
import { makeTempDir } from "../support/processes.ts"
import { reply, testHttpClient, testSettings } from "../support/testHttpClient.ts"
import { reportStatus } from "../../src/cli/commands/StatusReport.ts"
import { decideReuse } from "../../src/login/Reuse.ts"
import { fastCheckSeed, scale, seeded } from "./support/seed.ts"

const RUNS = scale(300, 5000)

/** A failure must be a typed error (a `Fail` with a `_tag`), never a defect or an interrupt. */
const typedOrSuccess = <A, E>(exit: Exit.Exit<A, E>, tags: ReadonlyArray<string>): string | undefined => {
  if (Exit.isSuccess(exit)) return undefined
  const found = Cause.findErrorOption(exit.cause)
  if (found._tag === "None") return `not a typed failure: ${Cause.pretty(exit.cause)}`
  const error = found.value as { readonly _tag?: string; readonly message?: string }
  if (error._tag === undefined || !tags.includes(error._tag)) return `unexpected error ${String(error._tag)}`
  // Its message must render (a getter that throws is a defect waiting for a user).
  if (typeof error.message !== "string" || error.message === "") return `error ${error._tag} has no message`
  return undefined
}

// -------------------------------------------------------------------------------------------------
// Inputs

const secret = fc.stringMatching(/^[A-Za-z0-9_-]{43}$/).map((s) => `S3CR3T${s}`)

/** Valid documents of each file, to mutate. */
const validQwen = fc.record({
  access_token: secret,
  token_type: fc.constant("Bearer"),
  refresh_token: secret,
  resource_url: fc.constant("portal.qwen.ai"),
  expiry_date: fc.integer({ min: 0, max: 2 ** 45 })
})
const validProfiles = fc.record({ access: secret, refresh: secret, expires: fc.integer({ min: 0, max: 2 ** 45 }) }).map((
  p
) => ({
  version: 1,
  profiles: { "qwen-portal:default": { type: "oauth", provider: "qwen-portal", ...p }, "other:x": { type: "api_key" } }
}))
const validState = fc.constant({ version: 1, refusedRefreshTokens: ["ab"], loggedOut: [], issuedLifetimeSeconds: 21600 })

/** A JSON value with one key deleted or replaced by anything, at any depth. */
const mutate = (doc: fc.Arbitrary<unknown>) =>
  fc.tuple(doc, fc.nat(), fc.jsonValue(), fc.boolean()).map(([value, pick, replacement, remove]) => {
    const paths: Array<Array<string>> = []
    const walk = (v: unknown, at: Array<string>) => {
      if (typeof v === "object" && v !== null && !Array.isArray(v)) {
        for (const k of Object.keys(v)) {
          paths.push([...at, k])
          walk((v as Record<string, unknown>)[k], [...at, k])
        }
      }
    }
    walk(value, [])
    const copy = structuredClone(value) as Record<string, unknown>
    const path = paths[pick % Math.max(1, paths.length)]
    if (path === undefined) return copy
    let parent: Record<string, unknown> = copy
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string, unknown>
    const last = path[path.length - 1]!
    if (remove) delete parent[last]
    else parent[last] = replacement
    return copy
  })

const fileText = (doc: fc.Arbitrary<unknown>) =>
  fc.oneof(
    fc.string(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    mutate(doc).map((v) => JSON.stringify(v)),
    // Truncated writes and stray bytes.
    fc.tuple(doc, fc.nat()).map(([v, n]) => {
      const t = JSON.stringify(v)
      return t.slice(0, n % (t.length + 1))
    }),
    fc.tuple(doc, fc.string(), fc.nat()).map(([v, junk, n]) => {
      const t = JSON.stringify(v)
      const at = n % (t.length + 1)
      return t.slice(0, at) + junk + t.slice(at)
    })
  )

const FILE_TAGS = ["MalformedFile"]

describe("file decoders never fail with a defect", () => {
  const rng = seeded("bad-input:files")
  const params = { numRuns: RUNS, seed: fastCheckSeed(rng) }
  const decoders = [
    ["oauth_creds.json", validQwen, QwenCodeFile.decode],
    ["auth-profiles.json", validProfiles, OpenClawProfiles.decode],
    ["qwen-auth.json", validState, StateFile.decode]
  ] as const

  for (const [name, valid, decode] of decoders) {
    it(`${name}: a value or a MalformedFile naming the file, never a secret`, () => {
      fc.assert(
        fc.property(fileText(valid), (text) => {
          const exit = Effect.runSync(Effect.exit(decode(`/x/${name}`, text) as Effect.Effect<unknown, { readonly _tag: string }>))
          const problem = typedOrSuccess(exit, FILE_TAGS)
          if (problem !== undefined) throw new Error(problem)
          if (Exit.isFailure(exit)) {
            const message = String((Cause.findErrorOption(exit.cause) as any).value.message)
            expect(message).toContain(`/x/${name}`)
            expect(message).not.toMatch(/S3CR3T/)
          }
        }),
        params
      )
    })
  }

  it("openclaw.json (JSON5): an object or a MalformedFile", () => {
    fc.assert(
      fc.property(fileText(validProfiles), (text) => {
        const r = parseJson5("/x/openclaw.json", text)
        if (Result.isFailure(r)) expect(r.failure._tag).toBe("MalformedFile")
        else expect(typeof r.success).toBe("object")
      }),
      params
    )
  })
})

// -------------------------------------------------------------------------------------------------
// Protocol decoders

const settings = testSettings()
// UntrustedEndpoint: a device answer's verification URI that may not be shown or opened.
const OAUTH_TAGS = ["AccessDenied", "ExpiredToken", "InvalidGrant", "InvalidClient", "RateLimited", "QuotaExceeded",
  "ServerError", "MalformedResponse", "UntrustedEndpoint"]

const tokenBody = fc.record({
  access_token: fc.oneof(secret, fc.jsonValue()),
  refresh_token: fc.oneof(secret, fc.jsonValue()),
  id_token: secret,
  device_code: secret,
  expires_in: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(null)),
  token_type: fc.oneof(fc.constant("bearer"), fc.jsonValue()),
  resource_url: fc.jsonValue(),
  error: fc.oneof(
    fc.constantFrom("authorization_pending", "slow_down", "invalid_grant", "access_denied", "expired_token",
      "invalid_client", "insufficient_quota", "temporarily_unavailable"),
    fc.jsonValue()
  ),
  user_code: fc.jsonValue(),
  verification_uri: fc.jsonValue(),
  interval: fc.jsonValue()
}, { requiredKeys: [] })

const answer: fc.Arbitrary<Answer> = fc.tuple(
  fc.constantFrom("token" as const, "refresh" as const, "device_authorization" as const),
  fc.oneof(fc.integer({ min: 100, max: 599 }), fc.constantFrom(200, 400, 401, 429, 500)),
  fc.oneof(
    tokenBody.map((b) => JSON.stringify(b)),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.string(),
    fc.constant("<html><body>Bad gateway</body></html>")
  ),
  fc.option(fc.oneof(fc.nat().map(String), fc.string(), fc.date().map((d) => d.toUTCString())), { nil: undefined })
).map(([endpoint, status, text, retryAfter]) => {
  let json: unknown
  try {
    json = text.trim() === "" ? undefined : JSON.parse(text)
  } catch {
    json = undefined
  }
  return { endpoint, status, headers: retryAfter === undefined ? {} : { "retry-after": retryAfter }, text, json }
})

const secretsOf = (a: Answer) => (a.text.match(/S3CR3T[A-Za-z0-9_-]{43}/g) ?? [])

describe("protocol decoders never fail with a defect", () => {
  const rng = seeded("bad-input:protocol")
  const params = { numRuns: RUNS, seed: fastCheckSeed(rng) }
  const processors = [
    ["token poll", (a: Answer) => processTokenPollResponse(settings, a)],
    ["refresh", (a: Answer) => processRefreshResponse(settings, a)],
    ["device authorization", (a: Answer) => processDeviceAuthorizationResponse(settings, a)]
  ] as const
  for (const [name, process] of processors) {
    it(`${name}: a result or a typed OAuth error without secrets`, () => {
      fc.assert(
        fc.property(answer, (a) => {
          const exit = Effect.runSync(Effect.exit(process(a) as Effect.Effect<unknown, unknown>))
          const problem = typedOrSuccess(exit, OAUTH_TAGS)
          if (problem !== undefined) throw new Error(problem)
          if (Exit.isFailure(exit)) {
            const error = (Cause.findErrorOption(exit.cause) as any).value
            const text = `${error.message} ${JSON.stringify(error)} ${String(error)}`
            for (const s of secretsOf(a)) expect(text).not.toContain(s)
          } else {
            // Success values keep secrets Redacted: printing them shows no token.
            const shown = `${JSON.stringify(exit.value)} ${String(exit.value)}`
            for (const s of secretsOf(a)) expect(shown).not.toContain(s)
          }
        }),
        params
      )
    })
  }
})

// -------------------------------------------------------------------------------------------------
// Unparsable files are never rewritten

describe("a store write leaves unparsable files byte-identical", () => {
  const dir = makeTempDir("qwen-auth-rel-bad-")
  afterAll(() => dir.cleanup())
  const rng = seeded("bad-input:store")

  it("save() refuses a broken auth-profiles.json and skips a broken oauth_creds.json", async () => {
    let n = 0
    await fc.assert(
      fc.asyncProperty(fileText(validProfiles), fileText(validQwen), async (profilesText, credsText) => {
        const home = join(dir.path, `h${n++}`)
        const qwen = join(home, ".qwen")
        const agent = join(home, "agent")
        mkdirSync(qwen, { recursive: true, mode: 0o700 })
        mkdirSync(agent, { recursive: true, mode: 0o700 })
        const profiles = join(agent, "auth-profiles.json")
        const creds = join(qwen, "oauth_creds.json")
        writeFileSync(profiles, profilesText, { mode: 0o600 })
        writeFileSync(creds, credsText, { mode: 0o600 })
        const profilesBad = Exit.isFailure(Effect.runSync(Effect.exit(OpenClawProfiles.decode(profiles, profilesText))))
        const credsBad = Exit.isFailure(Effect.runSync(Effect.exit(QwenCodeFile.decode(creds, credsText))))
        const layer = CredentialStore.layer.pipe(
          Layer.provide([
            QwenAuthConfig.layerFrom(testSettings({ qwenHome: qwen, openclawAgentDir: agent })),
            OpenClawLock.layerWith({ retries: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 10, randomize: false }, stale: 30_000 })
              .pipe(Layer.provide(NodeFileSystem.layer)),
            NodeFileSystem.layer
          ])
        )
        const credentials = new Credentials({
          accessToken: Redacted.make("new-access"),
          refreshToken: Redacted.make("new-refresh"),
          tokenType: "Bearer",
          expiresAt: 2_000_000_000_000
        })
        const exit = await Effect.runPromise(
          Effect.exit(CredentialStore.use((s) => s.save(credentials)).pipe(Effect.provide(layer)))
        )
        const problem = typedOrSuccess(exit, ["MalformedFile", "FileAccessError", "LockError"])
        if (problem !== undefined) throw new Error(problem)
        if (profilesBad) {
          expect(readFileSync(profiles, "utf8")).toBe(profilesText)
          expect(Exit.isFailure(exit)).toBe(true)
        }
        if (credsBad) expect(readFileSync(creds, "utf8")).toBe(credsText)
      }),
      { numRuns: scale(40, 400), seed: fastCheckSeed(rng) }
    )
  }, 120_000)
})

describe("fuzzed files pushed through status and login", () => {
  const dir = makeTempDir("qwen-auth-rel-bad-cmd-")
  afterAll(() => dir.cleanup())
  const rng = seeded("bad-input:commands")

  /** A Console that keeps stdout and stderr apart. */
  const capture = () => {
    const out: Array<string> = []
    const err: Array<string> = []
    const console = {
      ...globalThis.console,
      log: (...args: ReadonlyArray<unknown>) => void out.push(args.map(String).join(" ")),
      error: (...args: ReadonlyArray<unknown>) => void err.push(args.map(String).join(" "))
    } as unknown as Console.Console
    return { out, err, console }
  }

  it("status --json prints its object at every exit code, and login decides or fails typed; no secret shown", async () => {
    let n = 0
    await fc.assert(
      fc.asyncProperty(fileText(validProfiles), fileText(validQwen), fileText(validState), async (profilesText, credsText, stateText) => {
        const home = join(dir.path, `h${n++}`)
        const qwen = join(home, ".qwen")
        const agent = join(home, "agent")
        mkdirSync(qwen, { recursive: true, mode: 0o700 })
        mkdirSync(agent, { recursive: true, mode: 0o700 })
        writeFileSync(join(agent, "auth-profiles.json"), profilesText, { mode: 0o600 })
        writeFileSync(join(qwen, "oauth_creds.json"), credsText, { mode: 0o600 })
        writeFileSync(join(qwen, "qwen-auth.json"), stateText, { mode: 0o600 })
        const settings = testSettings({ qwenHome: qwen, openclawAgentDir: agent, openclawStateDir: join(home, "openclaw") })
        const layer = CredentialStore.layer.pipe(
          Layer.provide([
            QwenAuthConfig.layerFrom(settings),
            OpenClawLock.layerWith({ retries: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 10, randomize: false }, stale: 30_000 })
              .pipe(Layer.provide(NodeFileSystem.layer)),
            NodeFileSystem.layer
          ]),
          Layer.provideMerge(QwenAuthConfig.layerFrom(settings)),
          Layer.provideMerge(NodeFileSystem.layer)
        )
        // status --json
        const shown = capture()
        const status = await Effect.runPromise(
          Effect.exit(reportStatus(true).pipe(Effect.provide(layer), Effect.provideService(Console.Console, shown.console)))
        )
        // Exit 1 or 4 is a typed `Exit`; a defect (an internal error) is never acceptable.
        if (Exit.isFailure(status) && Cause.findErrorOption(status.cause)._tag === "None") {
          throw new Error(`status failed with a defect: ${Cause.pretty(status.cause)}`)
        }
        expect(shown.out.length, shown.err.join("\n")).toBe(1)
        const report = JSON.parse(shown.out[0]!)
        expect(Object.keys(report)).toEqual(expect.arrayContaining(["loggedIn", "state", "files", "problems"]))
        expect([...shown.out, ...shown.err].join("\n")).not.toMatch(/S3CR3T/)
        // login's first step: reuse, refresh once, or a new login; otherwise a typed error.
        const http = testHttpClient(() => reply.json(200, { access_token: "fresh", refresh_token: "fresh-r", token_type: "Bearer", expires_in: 21600 }))
        const reuse = await Effect.runPromise(
          Effect.exit(CredentialStore.use((store) => decideReuse(settings, store)).pipe(Effect.provide(layer), Effect.provide(http.layer)))
        )
        const problem = typedOrSuccess(reuse, ["MalformedFile", "FileAccessError", "LockError"])
        if (problem !== undefined) throw new Error(problem)
        if (Exit.isFailure(reuse)) expect(String((Cause.findErrorOption(reuse.cause) as any).value.message)).not.toMatch(/S3CR3T/)
      }),
      { numRuns: scale(40, 400), seed: fastCheckSeed(rng) }
    )
  }, 180_000)
})
