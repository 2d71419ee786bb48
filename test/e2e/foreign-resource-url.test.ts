/**
 * A refresh answer whose `resource_url` names a foreign host, through every front end: the CLI
 * (`qwen-auth token`), the Layer (`TokenManager.refresh`) and the OpenClaw plugin
 * (`refreshOAuth`). The server has already rotated the refresh token, so the answer's tokens
 * must be kept; only the untrusted host is dropped (Qwen Code would send the token there).
 */
import { Effect, Redacted } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import * as QwenAuth from "../../src/QwenAuth.ts"
import { TokenManager } from "../../src/token/TokenManager.ts"
import { copyBundle, credentialFrom, importEntry, recordingApi } from "../plugin/support.ts"
import { makeTempDir } from "../support/processes.ts"
import { afterThisTest, cli, emulator, explain, type Home, readJson, realTokens, tempHome, writeProfiles, writeQwenCreds } from "./home.ts"

const FOREIGN = "evil.example.com"
const LONG = 120_000

/** An emulator whose device logins are normal and whose refresh answers name `FOREIGN`. */
const hostileEmulator = () => emulator(["--refresh-resource-url", FOREIGN])

/** Tokens of a device login, with the emulator's own origin as their `resource_url`. */
const loginTokens = async (emu: Awaited<ReturnType<typeof hostileEmulator>>) => ({ ...(await realTokens(emu)), resource_url: emu.url })

/** A home whose copies (Qwen Code's file, OpenClaw's profile) hold `tokens`, due for refresh. */
const dueHome = (tokens: Awaited<ReturnType<typeof loginTokens>>) => {
  const home = tempHome()
  const expiry = Date.now() + 100_000 // inside the 300 s margin, outside the last 30 s
  writeQwenCreds(home, tokens, expiry)
  writeProfiles(home, tokens, expiry)
  return home
}

const filesOf = (home: Home) => [home.creds, home.profiles, home.state].filter(existsSync)

/** What every test asserts of the files after the refresh. */
const expectRotatedAndClean = (home: Home, old: { readonly refresh_token: string }, previousResource: string) => {
  for (const path of filesOf(home)) expect(readFileSync(path, "utf8"), path).not.toContain(FOREIGN)
  const creds = readJson(home.creds)
  expect(creds.refresh_token).not.toBe(old.refresh_token)
  expect(creds.resource_url).toBe(previousResource)
  return creds
}

describe("a refresh answer naming a foreign resource_url", () => {
  it("CLI: token keeps the rotated tokens, drops the host with one warning, and the next run needs no POST", async () => {
    const emu = await hostileEmulator()
    const tokens = await loginTokens(emu)
    const home = dueHome(tokens)

    const r = await cli(home, ["token"], emu)
    expect(r.code, explain(r)).toBe(0)
    const printed = r.stdout.trimEnd()
    expect(printed).not.toBe(tokens.access_token)
    expect(r.stderr.split(FOREIGN).length - 1, r.stderr).toBe(1)

    const creds = expectRotatedAndClean(home, tokens, emu.url)
    expect(creds.access_token).toBe(printed)
    const profile = readJson(home.profiles).profiles["qwen-portal:default"]
    expect(profile.access).toBe(printed)
    expect(profile.refresh).toBe(creds.refresh_token)
    expect((await emu.stats()).refreshGrants).toBe(1)

    const status = await cli(home, ["status", "--json"], emu)
    expect(status.code, explain(status)).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({ loggedIn: true, state: "fresh", baseUrl: `${emu.url}/v1` })

    const again = await cli(home, ["token", "--json"], emu)
    expect(again.code, explain(again)).toBe(0)
    expect(JSON.parse(again.stdout)).toEqual({
      accessToken: printed,
      expiresAt: new Date(creds.expiry_date).toISOString(),
      baseUrl: `${emu.url}/v1`
    })
    expect(again.stderr).toBe("")
    expect((await emu.stats()).refreshRequests).toBe(1)
  }, LONG)

  it("Layer: TokenManager.refresh hands out the rotated token for the previous API host", async () => {
    const emu = await hostileEmulator()
    const tokens = await loginTokens(emu)
    const home = dueHome(tokens)
    const layer = QwenAuth.layer({
      oauthBaseUrl: emu.url,
      qwenHome: home.qwen,
      openclawStateDir: home.openclaw,
      openclawConfigPath: home.config,
      openclawAgentDir: home.agent,
      qwenCodeSync: true
    })
    const token = await Effect.runPromise(
      TokenManager.use((tm) => Effect.flatMap(tm.refresh(), (t) => Effect.map(tm.state, (state) => ({ t, state })))).pipe(
        Effect.provide(layer)
      )
    )
    expect(token.t.baseUrl).toBe(`${emu.url}/v1`)
    expect(token.state).toMatchObject({ _tag: "Fresh", baseUrl: `${emu.url}/v1` })
    const creds = expectRotatedAndClean(home, tokens, emu.url)
    expect(creds.access_token).toBe(Redacted.value(token.t.accessToken))
    expect(readJson(home.profiles).profiles["qwen-portal:default"].access).toBe(creds.access_token)

    // A second Layer (another process) finds the rotated token and makes no request.
    const second = await Effect.runPromise(TokenManager.use((tm) => tm.get).pipe(Effect.provide(layer)))
    expect(Redacted.value(second.accessToken)).toBe(creds.access_token)
    expect((await emu.stats()).refreshRequests).toBe(1)
  }, LONG)

  it("plugin: refreshOAuth returns the rotated tokens and Qwen Code's file keeps the previous host", async () => {
    const emu = await hostileEmulator()
    const tokens = await loginTokens(emu)
    const home = tempHome()
    writeQwenCreds(home, tokens, Date.now() - 1000)
    const bundle = makeTempDir("qwen-plugin-foreign-")
    afterThisTest(bundle.cleanup)
    const entry = await importEntry(copyBundle(bundle.path))
    const plugin = entry.makePlugin({
      oauthBaseUrl: emu.url,
      qwenHome: home.qwen,
      openclawStateDir: home.openclaw,
      openclawAgentDir: home.agent,
      openclawConfigPath: home.config
    })
    const recorded = recordingApi({ withServices: true })
    plugin.register(recorded.api)
    const provider = recorded.providers[0]!
    try {
      const next = await provider.refreshOAuth(credentialFrom(tokens, Date.now() - 1000))
      expect(next.refresh).not.toBe(tokens.refresh_token)
      const creds = expectRotatedAndClean(home, tokens, emu.url)
      expect(creds.access_token).toBe(next.access)
      expect(creds.refresh_token).toBe(next.refresh)
      // OpenClaw's own store is OpenClaw's: the plugin never writes it.
      expect(existsSync(join(home.agent, "auth-profiles.json"))).toBe(false)

      // The CLI now uses that chain without a POST.
      const r = await cli(home, ["token"], emu)
      expect(r.code, explain(r)).toBe(0)
      expect(r.stdout.trimEnd()).toBe(next.access)
      expect((await emu.stats()).refreshRequests).toBe(1)
    } finally {
      await recorded.services[0]?.stop?.()
    }
  }, LONG)
})
