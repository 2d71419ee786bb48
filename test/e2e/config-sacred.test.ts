/**
 * Issue 13, "the user's config is sacred", end to end: the built CLI against the emulator, in
 * temp homes. A hand-written JSON5 `openclaw.json` comes out of `login --set-default` with its
 * comments and numbers; backups rotate across repeated logins with outside edits between; a
 * config using `$include` is never written (the login is saved, the entries are handed back);
 * a user's own `api_key` profile survives a refresh byte for byte.
 */
import { describe, expect, it } from "vitest"
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import JSON5 from "json5"
import { mergeLogin } from "../../src/store/openclaw/Login.ts"
import { qwenProvider } from "../support/filesMd.ts"
import { HAND_WRITTEN, insertedOnly } from "../store/openclaw/fixtures.ts"
import { cli, emulator, explain, type Home, mode, readJson, realTokens, tempHome, treeSnapshot, writeQwenCreds, writeSecret } from "./home.ts"

const LONG = 120_000
const approve = ["--auto-approve-after", "1", "--interval", "1"]
const login = (home: Home, emu: { readonly url: string }, args: ReadonlyArray<string> = []) =>
  cli(home, ["login", "--no-browser", ...args], emu)

/** The config folder's files (not the agents' folder, where the credentials go): bytes, modes, mtimes. */
const configFiles = (home: Home) => {
  const all = treeSnapshot(home.openclaw)
  return Object.fromEntries(Object.entries(all).filter(([p]) => !p.startsWith(join(home.openclaw, "agents"))))
}

describe("the user's config is sacred", () => {
  it("login --set-default edits a hand-written JSON5 config in place: comments, 2^64, Infinity, NaN intact", async () => {
    const emu = await emulator(approve)
    const home = tempHome()
    mkdirSync(home.openclaw, { recursive: true, mode: 0o700 })
    writeFileSync(home.config, HAND_WRITTEN, { mode: 0o644 })

    const r = await login(home, emu, ["--set-default", "--json"])
    expect(r.code, explain(r)).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ defaultModel: "qwen-portal/coder-model", pendingConfig: [] })
    const text = readFileSync(home.config, "utf8")
    // Every byte of the user's is still there, in order; the only value replaced is the default.
    expect(insertedOnly(HAND_WRITTEN.replace(`primary: "openai/gpt-5"`, `primary: 'qwen-portal/coder-model'`), text), text).toBe(true)
    for (const kept of ["// My OpenClaw config: hand-written, keep my notes!", "/* the gateway */", "// default port",
      "bindId: 12345678901234567890,  // above 2^53", "ratio: Infinity,", "floor: -Infinity,", "unset: NaN,", "mask: 0xFF,",
      "half: .5,", `openai: { baseUrl: 'https://api.openai.com/v1', models: [], }, // mine`]) {
      expect(text).toContain(kept)
    }
    const config = JSON5.parse(text)
    expect(config.models.providers["qwen-portal"]).toEqual(qwenProvider(`${emu.url}/v1`))
    expect(config.agents.defaults.model).toEqual({ primary: "qwen-portal/coder-model", fallbacks: ["anthropic/claude-sonnet"] })
    expect(config.plugins.entries["qwen-portal-auth"]).toEqual({ enabled: true })
    expect(Number.isNaN(config.gateway.unset)).toBe(true)
    // Its mode is kept, and the original is backed up with it.
    expect(mode(home.config)).toBe("644")
    expect(readFileSync(`${home.config}.qwen-auth.bak`, "utf8")).toBe(HAND_WRITTEN)
    // models.json (qwen-auth's to create here) is plain JSON.
    expect(readJson(home.models).providers["qwen-portal"]).toEqual(qwenProvider(`${emu.url}/v1`))
  }, LONG)

  it("backups across repeated logins with outside edits: the first kept forever, the five newest timestamped, modes kept", async () => {
    const emu = await emulator(approve)
    const home = tempHome()
    mkdirSync(home.openclaw, { recursive: true, mode: 0o700 })
    const original = `// the original, with its comments\n{\n  agents: { defaults: { model: "openai/gpt-5" } },\n}\n`
    writeFileSync(home.config, original, { mode: 0o640 })
    chmodSync(home.config, 0o640)
    const first = await login(home, emu, ["--set-default"])
    expect(first.code, explain(first)).toBe(0)
    expect(first.stderr).toContain(`Backed up the previous OpenClaw config to ${home.config}.qwen-auth.bak`)

    const edits: Array<{ text: string; mode: string }> = []
    for (let i = 1; i <= 6; i++) {
      // Between two qwen-auth writes the user picks another default (and another mode).
      const edited = readFileSync(home.config, "utf8").replace(/primary: "[^"]+"/, `primary: "user/model-${i}"`)
      writeFileSync(home.config, edited)
      chmodSync(home.config, i % 2 === 0 ? 0o600 : 0o644)
      edits.push({ text: edited, mode: i % 2 === 0 ? "600" : "644" })
      const r = await login(home, emu, ["--set-default"])
      expect(r.code, explain(r)).toBe(0)
      expect(r.stderr).toContain("Already logged in")
      expect(r.stderr).toMatch(/Backed up the previous OpenClaw config to .*openclaw\.json\.qwen-auth\.\d{8}T\d{6}\.bak/)
    }
    expect(readFileSync(`${home.config}.qwen-auth.bak`, "utf8")).toBe(original)
    expect(mode(`${home.config}.qwen-auth.bak`)).toBe("640")
    const timestamped = readdirSync(home.openclaw).filter((n) => /^openclaw\.json\.qwen-auth\.\d{8}T\d{6}\.bak$/.test(n)).sort()
    expect(timestamped).toHaveLength(5)
    const kept = timestamped.map((n) => ({ text: readFileSync(join(home.openclaw, n), "utf8"), mode: mode(join(home.openclaw, n)) }))
    expect(kept).toEqual(edits.slice(1))
    // Named by UTC time, today.
    const today = new Date().toISOString().slice(0, 10).replace(/-/g, "")
    for (const n of timestamped) expect(n.slice("openclaw.json.qwen-auth.".length, -".bak".length).slice(0, 8)).toBe(today)
    // A run with nothing to change writes and backs up nothing.
    const quiet = await login(home, emu, ["--set-default"])
    expect(quiet.code, explain(quiet)).toBe(0)
    expect(quiet.stderr).not.toContain("Backed up")
    expect((await emu.stats()).deviceAuthorizations).toBe(1)
  }, LONG)

  it("$include with entries missing: credentials saved, every config file untouched, the entries and their files handed back", async () => {
    const emu = await emulator(approve)
    const home = tempHome()
    mkdirSync(home.openclaw, { recursive: true, mode: 0o700 })
    writeFileSync(home.config, `// split config\n{\n  $include: "./base.json5",\n  models: { $include: "./models.json5" },\n}\n`)
    writeFileSync(join(home.openclaw, "base.json5"), `{ agents: { defaults: { model: "openai/gpt-5" } } }\n`)
    writeFileSync(join(home.openclaw, "models.json5"), `{ providers: { openai: { models: [] } } }\n`)
    const before = configFiles(home)

    const r = await login(home, emu, ["--json"])
    expect(r.code, explain(r)).toBe(0)
    expect(configFiles(home)).toEqual(before)
    expect(existsSync(home.models)).toBe(false)
    // The login itself is saved.
    for (const file of [home.creds, home.own, home.profiles, home.state]) expect(existsSync(file)).toBe(true)
    const out = JSON.parse(r.stdout)
    expect(out.loggedIn).toBe(true)
    expect(out.wrote).not.toContain(home.config)
    expect(out.defaultModel).toBe("openai/gpt-5")
    const base = join(home.openclaw, "base.json5")
    const models = join(home.openclaw, "models.json5")
    expect(out.pendingConfig).toEqual([
      {
        path: "agents.defaults.models",
        value: { "qwen-portal/coder-model": { alias: "qwen" }, "qwen-portal/vision-model": {} },
        file: base
      },
      { path: "models.providers.qwen-portal", value: qwenProvider(`${emu.url}/v1`), file: models },
      { path: "plugins", value: { entries: { "qwen-portal-auth": { enabled: true } } }, file: home.config },
      { path: "auth", value: { profiles: { "qwen-portal:default": { provider: "qwen-portal", mode: "oauth" } } }, file: home.config }
    ])
    expect(r.stderr).toContain(`Warning: ${home.config} uses $include (at $include), so qwen-auth changed none of OpenClaw's config files.`)
    expect(r.stderr).toContain(`  in ${models}, at providers.qwen-portal:\n    {\n      "baseUrl": "${emu.url}/v1",`)
    expect(r.stderr).toContain(`  in ${base}, at agents.defaults.models:\n`)
  }, LONG)

  it("$include already holding every entry: the login goes ahead, config files untouched, nothing pending", async () => {
    const emu = await emulator(approve)
    const home = tempHome()
    mkdirSync(home.openclaw, { recursive: true, mode: 0o700 })
    // The user added the entries by hand, in an included file.
    const entries = mergeLogin({}, { baseUrl: `${emu.url}/v1`, setDefault: false }).config
    writeFileSync(home.config, `// split config\n{ $include: "./qwen.json5", gateway: { port: 18789 } }\n`)
    writeFileSync(join(home.openclaw, "qwen.json5"), `// added by hand\n${JSON.stringify(entries, null, 2)}\n`)
    const before = configFiles(home)

    const r = await login(home, emu, ["--json"])
    expect(r.code, explain(r)).toBe(0)
    expect(r.stderr).not.toContain("Warning")
    expect(configFiles(home)).toEqual(before)
    const out = JSON.parse(r.stdout)
    expect(out.pendingConfig).toEqual([])
    expect(out.wrote).toEqual(expect.arrayContaining([home.creds, home.profiles, home.models]))
    expect(out.wrote).not.toContain(home.config)
    expect(readJson(home.models).providers["qwen-portal"]).toEqual(qwenProvider(`${emu.url}/v1`))
  }, LONG)

  it("a user's own api_key profile survives a refresh byte for byte; the other copies are refreshed; stderr says why, once", async () => {
    const emu = await emulator()
    const home = tempHome()
    const tokens = await realTokens(emu)
    // Due: 100 s left, inside the default 300 s margin.
    writeQwenCreds(home, tokens, Date.now() + 100_000)
    const store = `{
  "version": 1,
  "profiles": {
    "qwen-portal:default": { "type": "api_key", "provider": "qwen-portal", "key": "sk-my-own-dashscope-key" }
  }
}
`
    writeSecret(home.profiles, store)

    const r = await cli(home, ["token"], emu)
    expect(r.code, explain(r)).toBe(0)
    const printed = r.stdout.trimEnd()
    expect(printed).not.toBe(tokens.access_token)
    expect(readJson(home.creds).access_token).toBe(printed)
    expect(readJson(home.own).access_token).toBe(printed)
    expect(readFileSync(home.profiles, "utf8")).toBe(store)
    const note = `qwen-auth left ${home.profiles} as it is: its qwen-portal:default profile is your own "api_key" profile, ` +
      "not a Qwen OAuth login; OpenClaw keeps using it, and qwen-auth keeps the Qwen login in its other copies"
    expect(r.stderr.split(note).length - 1, r.stderr).toBe(1)
    expect(r.stderr).not.toContain("sk-my-own-dashscope-key")
    expect((await emu.stats()).refreshGrants).toBe(1)
  }, LONG)
})
