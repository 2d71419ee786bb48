/**
 * The built OpenClaw entry, loaded as OpenClaw loads it (import the file, call `register` with a
 * recording api), driven against the emulator process with a temp Qwen home.
 */
import { QWEN_MODELS } from "../support/filesMd.ts"
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest"
import { tokenHash } from "../../src/domain/Credentials.ts"
import * as ConfigMerge from "../../src/store/openclaw/Ids.ts"
import { type EmulatorProcess, login, refreshToken, startEmulatorProcess } from "../support/emulator.ts"
import { makeTempDir, repoRoot } from "../support/processes.ts"
import {
  copyBundle,
  credentialFrom,
  fakeAuthContext,
  importEntry,
  modeOf,
  qwenCodeJson,
  readJson,
  recordingApi,
  tempRoot
} from "./support.ts"

const LOGIN_COMMAND = "openclaw models auth login --provider qwen-portal"
const HOUR = 3_600_000

let emu: EmulatorProcess
let bundleDir: ReturnType<typeof makeTempDir>
let entryFile: string
let root: ReturnType<typeof tempRoot>

beforeAll(async () => {
  bundleDir = makeTempDir("qwen-plugin-bundle-")
  entryFile = copyBundle(bundleDir.path)
  emu = await startEmulatorProcess(["--auto-approve-after", "1", "--interval", "1"])
})

afterAll(async () => {
  await emu?.stop()
  bundleDir?.cleanup()
})

beforeEach(async () => {
  await emu.reset()
  root = tempRoot()
  return () => root.cleanup()
})

/** The provider a fresh import registers, with settings pointing into the temp root. */
const loadProvider = async (overrides: Record<string, unknown> = {}) => {
  const entry = await importEntry(entryFile)
  const plugin = entry.makePlugin({
    oauthBaseUrl: emu.url,
    qwenHome: root.qwenHome,
    openclawStateDir: root.stateDir,
    openclawAgentDir: root.agentDir,
    openclawConfigPath: join(root.stateDir, "openclaw.json"),
    ...overrides
  })
  const recorded = recordingApi({ withServices: true })
  plugin.register(recorded.api)
  const provider = recorded.providers[0]!
  return { entry, plugin, provider, stop: () => recorded.services[0]?.stop?.() }
}

const qwenCreds = () => join(root.qwenHome, "oauth_creds.json")
const stateFile = () => join(root.qwenHome, "qwen-auth.json")

const writeQwenCode = (json: object) => {
  mkdirSync(root.qwenHome, { recursive: true, mode: 0o700 })
  writeFileSync(qwenCreds(), JSON.stringify(json, null, 2), { mode: 0o600 })
}

describe("register", () => {
  it("registers the qwen-portal provider exactly as the contract lists it, and a service that disposes", async () => {
    const entry = await importEntry(entryFile)
    expect(entry.default.id).toBe("qwen-portal-auth")
    expect(typeof entry.default.name).toBe("string")
    expect(typeof entry.default.description).toBe("string")
    const { api, providers, services } = recordingApi({ withServices: true })
    entry.default.register(api)
    expect(providers).toHaveLength(1)
    const p = providers[0]!
    expect(Object.keys(p).sort()).toEqual(
      ["id", "label", "docsPath", "aliases", "envVars", "auth", "wizard", "catalog", "refreshOAuth"].sort()
    )
    expect(p.id).toBe("qwen-portal")
    expect(p.label).toBe("Qwen")
    expect(p.docsPath).toBe("/providers/qwen")
    expect(p.aliases).toEqual(["qwen"])
    expect(p.envVars).toEqual(["QWEN_OAUTH_TOKEN", "QWEN_PORTAL_API_KEY"])
    expect(p.auth).toHaveLength(1)
    const { run, ...method } = p.auth[0]!
    expect(method).toEqual({ id: "device", label: "Qwen OAuth", hint: "Device code login", kind: "device_code" })
    expect(typeof run).toBe("function")
    expect(p.wizard).toEqual({
      setup: { choiceId: "qwen-portal", choiceLabel: "Qwen OAuth", choiceHint: "Device code login", methodId: "device" }
    })
    expect(typeof p.catalog.run).toBe("function")
    expect(typeof p.refreshOAuth).toBe("function")
    expect(services.map((s) => s.id)).toEqual(["qwen-portal-auth-runtime"])
    // Stopping a service whose runtime was never created is a no-op.
    await expect(Promise.resolve(services[0]!.stop?.())).resolves.toBeUndefined()
  })

  it("uses the same ids as the rest of qwen-auth and as the manifest", async () => {
    const entry = await importEntry(entryFile)
    expect(entry.PLUGIN_ID).toBe(ConfigMerge.PLUGIN_ID)
    expect(entry.PROVIDER_ID).toBe(ConfigMerge.PROVIDER_ID)
    const manifest = readJson(join(repoRoot, "openclaw.plugin.json"))
    expect(manifest.id).toBe(entry.default.id)
    expect(manifest.providers).toEqual([entry.PROVIDER_ID])
    const pkg = readJson(join(repoRoot, "package.json"))
    expect(pkg.openclaw.extensions).toEqual(["./dist/openclaw-plugin.js"])
    expect(pkg.files).toEqual(expect.arrayContaining(["dist", "openclaw.plugin.json"]))
  })

  it("starts no timer, opens no handle and adds no process listener", async () => {
    const entry = await importEntry(entryFile)
    const resources = process.getActiveResourcesInfo().slice().sort()
    const listeners = process.listenerCount("beforeExit") + process.listenerCount("exit")
    const spies = [
      vi.spyOn(globalThis, "setTimeout"),
      vi.spyOn(globalThis, "setInterval"),
      vi.spyOn(globalThis, "setImmediate")
    ]
    try {
      entry.default.register(recordingApi({ withServices: true }).api)
      entry.makePlugin().register(recordingApi({ withServices: false }).api)
      for (const spy of spies) expect(spy).not.toHaveBeenCalled()
    } finally {
      for (const spy of spies) spy.mockRestore()
    }
    expect(process.getActiveResourcesInfo().slice().sort()).toEqual(resources)
    expect(process.listenerCount("beforeExit") + process.listenerCount("exit")).toBe(listeners)
  })
})

describe("auth.run", () => {
  it("logs in through the prompter and returns OpenClaw's ProviderAuthResult; writes the Qwen Code file, never auth-profiles.json", async () => {
    const { provider, stop } = await loadProvider()
    const fake = fakeAuthContext({ openUrlThrows: true })
    const before = Date.now()
    const result = await provider.auth[0]!.run(fake.ctx)
    const after = Date.now()

    const file = readJson(qwenCreds())
    expect(Object.keys(file).sort()).toEqual(["access_token", "expiry_date", "refresh_token", "resource_url", "token_type"])
    expect(file.token_type).toBe("Bearer")
    expect(file.resource_url).toBe(emu.url)
    expect(file.expiry_date).toBeGreaterThanOrEqual(before + 21_600_000)
    expect(file.expiry_date).toBeLessThanOrEqual(after + 21_600_000)
    expect(modeOf(qwenCreds())).toBe(0o600)
    expect(modeOf(root.qwenHome)).toBe(0o700)

    expect(result).toStrictEqual({
      profiles: [{
        profileId: "qwen-portal:default",
        credential: {
          type: "oauth",
          provider: "qwen-portal",
          access: file.access_token,
          refresh: file.refresh_token,
          expires: file.expiry_date
        }
      }],
      configPatch: {
        models: { providers: { "qwen-portal": { baseUrl: `${emu.url}/v1`, models: [] } } },
        agents: {
          defaults: { models: { "qwen-portal/coder-model": { alias: "qwen" }, "qwen-portal/vision-model": {} } }
        }
      },
      defaultModel: "qwen-portal/coder-model",
      notes: [
        "Qwen OAuth tokens auto-refresh. Re-run login if refresh fails or access is revoked.",
        "Base URL defaults to https://portal.qwen.ai/v1. Override models.providers.qwen-portal.baseUrl if needed."
      ]
    })

    // The token works at the API the result points OpenClaw to.
    const api = await fetch(`${emu.url}/v1/models`, { headers: { authorization: `Bearer ${file.access_token}` } })
    expect(api.status).toBe(200)

    // What the user saw: the URL and code in a note, the complete URL opened, progress while polling.
    expect(fake.notes).toHaveLength(1)
    expect(fake.notes[0]!.title).toBe("Qwen OAuth")
    expect(fake.notes[0]!.message).toContain(`${emu.url}/authorize`)
    const code = /enter the code (\S+)/.exec(fake.notes[0]!.message)?.[1]
    expect(code).toBeDefined()
    expect(fake.opened).toEqual([`${emu.url}/authorize?user_code=${encodeURIComponent(code!)}&client=qwen-code`])
    expect(fake.progress[0]).toEqual({ kind: "start", message: "Starting Qwen OAuth…" })
    expect(fake.progress.some((p) => p.kind === "update" && p.message?.includes(code!))).toBe(true)
    expect(fake.progress.at(-1)).toEqual({ kind: "stop", message: "Qwen OAuth complete" })

    // The state file records what the CLI's login records.
    const state = readJson(stateFile())
    expect(state.lastWrittenBaseUrl).toBe(`${emu.url}/v1`)
    expect(state.issuedLifetimeSeconds).toBe(21_600)
    expect(modeOf(stateFile())).toBe(0o600)

    // OpenClaw saves the profile itself.
    expect(existsSync(join(root.agentDir, "auth-profiles.json"))).toBe(false)
    expect(existsSync(root.stateDir)).toBe(false)
    expect(existsSync(join(root.qwenHome, "oauth_creds.lock"))).toBe(false)

    const stats = await emu.stats()
    expect(stats.deviceAuthorizations).toBe(1)
    expect(stats.deviceGrants).toBe(1)
    await stop()
  })

  it("offers a usable stored qwen-auth login through prompter.confirm: yes reuses it with no device grant, no runs a new one", async () => {
    const stored = await login(emu)
    const expiry = Date.now() + 5 * HOUR
    writeQwenCode(qwenCodeJson({ ...stored, resource_url: emu.url }, expiry))
    const { provider, stop } = await loadProvider()
    const grantsBefore = (await emu.stats()).deviceGrants
    const asked: Array<string> = []
    const answer = (yes: boolean) => {
      const fake = fakeAuthContext()
      return {
        ...fake,
        ctx: {
          ...fake.ctx,
          prompter: { ...fake.ctx.prompter, confirm: async (p: { message: string }) => (asked.push(p.message), yes) }
        }
      }
    }
    const reused = await provider.auth[0]!.run(answer(true).ctx)
    expect(asked).toHaveLength(1)
    expect(reused.profiles[0]!.credential).toMatchObject({ access: stored.access_token, refresh: stored.refresh_token, expires: expiry })
    expect((await emu.stats()).deviceGrants).toBe(grantsBefore)

    const fresh = await provider.auth[0]!.run(answer(false).ctx)
    expect(asked).toHaveLength(2)
    expect(fresh.profiles[0]!.credential.access).not.toBe(stored.access_token)
    expect((await emu.stats()).deviceGrants).toBe(grantsBefore + 1)
    await stop()
  })

  it("a refresh by a peer (the daemon) while OpenClaw asks to reuse the login is what gets reused: the spent chain is not written back", async () => {
    const stored = await login(emu)
    writeQwenCode(qwenCodeJson({ ...stored, resource_url: emu.url }, Date.now() + 5 * HOUR))
    const { provider, stop } = await loadProvider()
    const fake = fakeAuthContext()
    let peer: { access_token: string; refresh_token: string } | undefined
    const ctx = {
      ...fake.ctx,
      prompter: {
        ...fake.ctx.prompter,
        // While the question is open, another process refreshes and stores the rotated chain.
        confirm: async () => {
          const r = await refreshToken(emu.url, stored.refresh_token)
          peer = r.json as { access_token: string; refresh_token: string }
          writeQwenCode(qwenCodeJson({ ...peer, resource_url: emu.url }, Date.now() + 6 * HOUR))
          return true
        }
      }
    }
    const reused = await provider.auth[0]!.run(ctx)
    expect(peer).toBeDefined()
    expect(reused.profiles[0]!.credential).toMatchObject({ access: peer!.access_token, refresh: peer!.refresh_token })
    expect(readJson(qwenCreds()).refresh_token).toBe(peer!.refresh_token)
    expect(readJson(join(root.qwenHome, "qwen-auth-credentials.json")).refresh_token).toBe(peer!.refresh_token)
    expect((await emu.stats()).refreshRejected).toBe(0)
    await stop()
  })

  it("keeps unknown fields of an existing Qwen Code file", async () => {
    writeQwenCode({ ...qwenCodeJson({ access_token: "old-a", refresh_token: "old-r" }, Date.now() - HOUR), extra: 42 })
    const { provider, stop } = await loadProvider()
    const result = await provider.auth[0]!.run(fakeAuthContext().ctx)
    const file = readJson(qwenCreds())
    expect(file.extra).toBe(42)
    expect(file.access_token).toBe(result.profiles[0]!.credential.access)
    await stop()
  })

  it("still returns the login when Qwen Code's file is broken, leaves that file alone and says so", async () => {
    mkdirSync(root.qwenHome, { recursive: true, mode: 0o700 })
    writeFileSync(qwenCreds(), "{ not json", { mode: 0o600 })
    const { provider, stop } = await loadProvider()
    const fake = fakeAuthContext()
    const result = await provider.auth[0]!.run(fake.ctx)
    expect(result.profiles[0]!.credential.refresh).toEqual(expect.any(String))
    expect(readFileSync(qwenCreds(), "utf8")).toBe("{ not json")
    expect(fake.notes).toHaveLength(2)
    expect(fake.notes[1]!.message).toContain("Qwen Code's credentials were not updated")
    expect(fake.notes[1]!.message).toContain(qwenCreds())
    await stop()
  })

  it("fails with a message naming OpenClaw's login command when the user refuses, and writes nothing", async () => {
    const denying = await startEmulatorProcess(["--deny", "--interval", "1"])
    try {
      const { provider, stop } = await loadProvider({ oauthBaseUrl: denying.url })
      const fake = fakeAuthContext()
      const error = await provider.auth[0]!.run(fake.ctx).then(() => undefined, (e: unknown) => e)
      expect(error).toBeInstanceOf(Error)
      expect((error as Error).message).toContain("denied")
      expect((error as Error).message).toContain(LOGIN_COMMAND)
      expect((error as Error).message).not.toContain("qwen-auth login")
      expect(fake.progress.at(-1)).toEqual({ kind: "stop", message: "Qwen OAuth failed" })
      expect(existsSync(qwenCreds())).toBe(false)
      await stop()
    } finally {
      await denying.stop()
    }
  })
})

describe("refreshOAuth", () => {
  it("refreshes, rotates, writes the new tokens to the Qwen Code file and returns them", async () => {
    const tokens = await login(emu)
    const { provider, stop } = await loadProvider()
    const cred = credentialFrom(tokens, Date.now() - 1000, { email: "user@example.com" })
    const before = Date.now()
    const next = await provider.refreshOAuth(cred)

    expect(Object.keys(next).sort()).toEqual(["access", "email", "expires", "provider", "refresh", "type"])
    expect(next.type).toBe("oauth")
    expect(next.provider).toBe("qwen-portal")
    expect(next.email).toBe("user@example.com")
    expect(next.access).not.toBe(tokens.access_token)
    expect(next.refresh).not.toBe(tokens.refresh_token)
    expect(next.expires).toBeGreaterThanOrEqual(before + 21_600_000)

    const file = readJson(qwenCreds())
    expect(file.access_token).toBe(next.access)
    expect(file.refresh_token).toBe(next.refresh)
    expect(file.expiry_date).toBe(next.expires)
    expect(file.token_type).toBe("Bearer")
    expect(file.resource_url).toBe(emu.url)
    expect(modeOf(qwenCreds())).toBe(0o600)
    expect(modeOf(root.qwenHome)).toBe(0o700)
    expect(existsSync(join(root.qwenHome, "oauth_creds.lock"))).toBe(false)
    expect(existsSync(join(root.agentDir, "auth-profiles.json"))).toBe(false)

    const stats = await emu.stats()
    expect(stats.refreshRequests).toBe(1)
    expect(stats.refreshGrants).toBe(1)
    // Rotation: the old refresh token is dead, the returned one is live.
    expect((await refreshToken(emu.url, tokens.refresh_token)).status).toBe(400)
    expect((await refreshToken(emu.url, next.refresh!)).status).toBe(200)
    await stop()
  })

  it("adopts a newer valid token already in oauth_creds.json without any POST", async () => {
    const old = await login(emu)
    const newer = await login(emu)
    const expiry = Date.now() + 5 * HOUR
    writeQwenCode(qwenCodeJson({ ...newer, resource_url: emu.url }, expiry))
    const bytes = readFileSync(qwenCreds(), "utf8")
    const { provider, stop } = await loadProvider()
    const next = await provider.refreshOAuth(credentialFrom(old, Date.now() - 1000))
    expect(next).toStrictEqual({
      type: "oauth",
      provider: "qwen-portal",
      access: newer.access_token,
      refresh: newer.refresh_token,
      expires: expiry
    })
    const stats = await emu.stats()
    expect(stats.refreshRequests).toBe(0)
    expect(readFileSync(qwenCreds(), "utf8")).toBe(bytes)
    await stop()
  })

  it("adopts a newer chain from qwen-auth's own copy without any POST, even with Qwen Code sync off", async () => {
    const old = await login(emu)
    const newer = await login(emu)
    const expiry = Date.now() + 5 * HOUR
    mkdirSync(root.qwenHome, { recursive: true, mode: 0o700 })
    const own = join(root.qwenHome, "qwen-auth-credentials.json")
    writeFileSync(own, JSON.stringify(qwenCodeJson({ ...newer, resource_url: emu.url }, expiry)), { mode: 0o600 })
    const { provider, stop } = await loadProvider({ qwenCodeSync: false })
    const next = await provider.refreshOAuth(credentialFrom(old, Date.now() - 1000))
    expect(next).toMatchObject({ access: newer.access_token, refresh: newer.refresh_token, expires: expiry })
    expect((await emu.stats()).refreshRequests).toBe(0)
    expect(existsSync(qwenCreds())).toBe(false)
    await stop()
  })

  it("waits for Qwen Code's lock and re-reads the file under it", async () => {
    const old = await login(emu)
    writeQwenCode(qwenCodeJson(old, Date.now() - 1000))
    const lock = join(root.qwenHome, "oauth_creds.lock")
    writeFileSync(lock, "a-peer-uuid", { flag: "wx" })
    const { provider, stop } = await loadProvider()
    const pending = provider.refreshOAuth(credentialFrom(old, Date.now() - 1000))
    // The peer finishes its own refresh while we wait, then releases its lock.
    await new Promise((r) => setTimeout(r, 700))
    const peer = await refreshToken(emu.url, old.refresh_token)
    expect(peer.status).toBe(200)
    const peerExpiry = Date.now() + 6 * HOUR
    writeQwenCode(qwenCodeJson(peer.json, peerExpiry))
    rmSync(lock)
    const next = await pending
    expect(next.access).toBe(peer.json.access_token)
    expect(next.refresh).toBe(peer.json.refresh_token)
    expect(next.expires).toBe(peerExpiry)
    const stats = await emu.stats()
    expect(stats.refreshRequests).toBe(1) // the peer's only
    await stop()
  })

  it("fails with a message naming OpenClaw's login command when the refresh token is dead; keeps the files", async () => {
    const tokens = await login(emu)
    writeQwenCode(qwenCodeJson(tokens, Date.now() - 1000))
    await emu.revoke()
    const bytes = readFileSync(qwenCreds(), "utf8")
    const { provider, stop } = await loadProvider()
    const error = await provider.refreshOAuth(credentialFrom(tokens, Date.now() - 1000)).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toContain("invalid_grant")
    expect((error as Error).message).toContain(`\`${LOGIN_COMMAND}\``)
    expect((error as Error).message).not.toContain(tokens.refresh_token)
    expect(readFileSync(qwenCreds(), "utf8")).toBe(bytes)
    // Recorded by hash, so qwen-auth's CLI also reports "needs login".
    expect(readJson(stateFile()).refusedRefreshTokens).toEqual([tokenHash(tokens.refresh_token)])
    const stats = await emu.stats()
    expect(stats.refreshRejected).toBe(1)
    await stop()
  })

  it("still returns the rotated tokens when the Qwen Code file is broken, and leaves that file alone", async () => {
    const tokens = await login(emu)
    mkdirSync(root.qwenHome, { recursive: true, mode: 0o700 })
    writeFileSync(qwenCreds(), "{ not json", { mode: 0o600 })
    const { provider, stop } = await loadProvider()
    const next = await provider.refreshOAuth(credentialFrom(tokens, Date.now() - 1000))
    expect(next.refresh).not.toBe(tokens.refresh_token)
    expect((await refreshToken(emu.url, next.refresh!)).status).toBe(200)
    expect(readFileSync(qwenCreds(), "utf8")).toBe("{ not json")
    await stop()
  })

  it("says there is nothing to refresh with when neither OpenClaw nor Qwen Code has a refresh token", async () => {
    const { provider, stop } = await loadProvider()
    const { refresh: _r, ...cred } = credentialFrom({ access_token: "a", refresh_token: "r" }, Date.now() - 1000)
    const error = await provider.refreshOAuth(cred).then(() => undefined, (e: unknown) => e)
    expect((error as Error).message).toContain("no refresh token")
    expect((error as Error).message).toContain(LOGIN_COMMAND)
    expect((await emu.stats()).refreshRequests).toBe(0)
    await stop()
  })
})

describe("catalog.run", () => {
  const models = QWEN_MODELS
  const ctx = (config: unknown, envKey?: string) => ({
    config,
    agentDir: root.agentDir,
    resolveProviderApiKey: (id: string) => ({ apiKey: id === "qwen-portal" ? envKey : undefined })
  })

  it("is null without an env key, an explicit apiKey or a stored profile", async () => {
    const { provider, stop } = await loadProvider()
    expect(await provider.catalog.run(ctx({}))).toBeNull()
    expect(await provider.catalog.run(ctx({ models: { providers: { "qwen-portal": { baseUrl: "x.example" } } } })))
      .toBeNull()
    // A profile of another provider does not count.
    mkdirSync(root.agentDir, { recursive: true })
    writeFileSync(
      join(root.agentDir, "auth-profiles.json"),
      JSON.stringify({ version: 1, profiles: { "openai:default": { type: "api_key", provider: "openai", key: "k" } } })
    )
    expect(await provider.catalog.run(ctx({}))).toBeNull()
    await stop()
  })

  it("uses the env key first, with the default base URL", async () => {
    const { provider, stop } = await loadProvider()
    expect(await provider.catalog.run(ctx({ models: { providers: { "qwen-portal": { apiKey: "explicit" } } } }, "env-key")))
      .toStrictEqual({
        provider: { baseUrl: "https://portal.qwen.ai/v1", api: "openai-completions", apiKey: "env-key", models }
      })
    await stop()
  })

  it("uses an explicit apiKey and normalizes an explicit baseUrl", async () => {
    const { provider, stop } = await loadProvider()
    const config = { models: { providers: { "qwen-portal": { apiKey: "explicit", baseUrl: "localhost:8080/" } } } }
    expect(await provider.catalog.run(ctx(config))).toStrictEqual({
      provider: { baseUrl: "https://localhost:8080/v1", api: "openai-completions", apiKey: "explicit", models }
    })
    await stop()
  })

  it("uses the qwen-oauth marker when a qwen-portal profile is stored", async () => {
    mkdirSync(root.agentDir, { recursive: true })
    writeFileSync(
      join(root.agentDir, "auth-profiles.json"),
      JSON.stringify({
        version: 1,
        profiles: { "qwen-portal:default": { type: "oauth", provider: "qwen-portal", access: "a", refresh: "r", expires: 1 } }
      })
    )
    const { provider, stop } = await loadProvider()
    const config = { models: { providers: { "qwen-portal": { baseUrl: "https://portal.qwen.ai/v1" } } } }
    expect(await provider.catalog.run(ctx(config))).toStrictEqual({
      provider: { baseUrl: "https://portal.qwen.ai/v1", api: "openai-completions", apiKey: "qwen-oauth", models }
    })
    await stop()
  })

  it("counts a Qwen Code login as a stored profile (OpenClaw imports it)", async () => {
    writeQwenCode(qwenCodeJson({ access_token: "a", refresh_token: "r" }, Date.now() + HOUR))
    const { provider, stop } = await loadProvider()
    expect((await provider.catalog.run(ctx({})))?.provider.apiKey).toBe("qwen-oauth")
    await stop()
  })
})
