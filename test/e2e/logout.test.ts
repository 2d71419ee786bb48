/**
 * `qwen-auth logout [--all] [--json]` end to end (issue 3): says exactly what it removed, keeps
 * other OpenClaw profiles, records the logout so Qwen Code's file is not re-imported, and
 * `--all` deletes that file. After `logout`, `status` exits 4.
 */
import { describe, expect, it } from "vitest"
import { existsSync, readFileSync } from "node:fs"
import {
  cli,
  emulator,
  explain,
  type Home,
  readJson,
  realTokens,
  sha256,
  tempHome,
  type Tokens,
  writeProfiles,
  writeQwenCreds
} from "./home.ts"

const LONG = 120_000
const HOUR = 3_600_000
const OTHER = { "anthropic:work": { type: "api_key", provider: "anthropic", key: "sk-other" } }

/** A home logged in through both files, as `qwen-auth login` leaves it, plus another provider's profile. */
const loggedInHome = (tokens: Tokens): Home => {
  const home = tempHome()
  const expires = Date.now() + HOUR
  writeQwenCreds(home, tokens, expires)
  writeProfiles(home, tokens, expires, OTHER)
  return home
}

describe("qwen-auth logout", () => {
  it("removes our profile only, keeps Qwen Code's file, and status then exits 4", async () => {
    const emu = await emulator()
    const tokens = await realTokens(emu)
    const home = loggedInHome(tokens)
    const credsBefore = readFileSync(home.creds, "utf8")
    expect((await cli(home, ["status"], emu)).code).toBe(0)

    const r = await cli(home, ["logout"], emu)
    expect(r.code, explain(r)).toBe(0)
    expect(r.stdout).toBe("")
    expect(r.stderr).toContain(`${home.profiles} (profile qwen-portal:default)`)
    expect(r.stderr).not.toContain(`  ${home.creds}`)
    expect(r.stderr).toContain(`Kept Qwen Code's login ${home.creds}`)
    expect(r.stderr).not.toContain(tokens.access_token)

    expect(readJson(home.profiles).profiles).toEqual(OTHER)
    expect(readFileSync(home.creds, "utf8")).toBe(credsBefore)
    expect(readJson(home.state).loggedOut).toContain(sha256(tokens.refresh_token))

    const s = await cli(home, ["status", "--json"], emu)
    expect(s.code, explain(s)).toBe(4)
    expect(JSON.parse(s.stdout)).toMatchObject({ loggedIn: false, state: "logged-out", source: null })
    expect(existsSync(home.creds)).toBe(true)

    const human = await cli(home, ["status"], emu)
    expect(human.code).toBe(4)

    // The logged-out credentials are not served either, and nothing is refreshed.
    const t = await cli(home, ["token"], emu)
    expect(t.code, explain(t)).toBe(4)
    expect(t.stdout).toBe("")
    expect((await emu.stats()).refreshRequests).toBe(0)
  }, LONG)

  it("--all also deletes Qwen Code's file; --json lists exactly what was removed", async () => {
    const emu = await emulator()
    const tokens = await realTokens(emu)
    const home = loggedInHome(tokens)

    const r = await cli(home, ["logout", "--all", "--json"], emu)
    expect(r.code, explain(r)).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out).toEqual({
      loggedOut: true,
      wasLoggedIn: true,
      removed: [`${home.profiles} (profile qwen-portal:default)`, home.creds]
    })
    expect(existsSync(home.creds)).toBe(false)
    expect(readJson(home.profiles).profiles).toEqual(OTHER)
    expect((await cli(home, ["status"], emu)).code).toBe(4)

    // Nothing left: a second logout says so and removes nothing.
    const again = await cli(home, ["logout", "--all", "--json"], emu)
    expect(again.code, explain(again)).toBe(0)
    expect(JSON.parse(again.stdout)).toEqual({ loggedOut: true, wasLoggedIn: false, removed: [] })
    const human = await cli(home, ["logout"], emu)
    expect(human.code).toBe(0)
    expect(human.stderr).toMatch(/nothing to remove/i)
  }, LONG)

  it("on an empty home says so and creates nothing (no OpenClaw or Qwen folders)", async () => {
    const home = tempHome()
    const r = await cli(home, ["logout", "--all"])
    expect(r.code, explain(r)).toBe(0)
    expect(r.stderr).toContain("Not logged in; nothing to remove.")
    expect(existsSync(home.openclaw)).toBe(false)
    expect(existsSync(home.qwen)).toBe(false)
  }, LONG)

  it("with only the OpenClaw profile, removes it and mentions no Qwen Code file", async () => {
    const home = tempHome()
    writeProfiles(home, { access_token: "a", refresh_token: "r" }, Date.now() + HOUR, OTHER)
    const r = await cli(home, ["logout"])
    expect(r.code, explain(r)).toBe(0)
    expect(r.stderr).toContain(`${home.profiles} (profile qwen-portal:default)`)
    expect(r.stderr).not.toContain("Qwen Code")
    expect(readJson(home.profiles).profiles).toEqual(OTHER)
    expect(existsSync(home.creds)).toBe(false)
    expect((await cli(home, ["status"])).code).toBe(4)
  }, LONG)

  it("a new Qwen Code login after logout is picked up again", async () => {
    const emu = await emulator()
    const home = loggedInHome(await realTokens(emu))
    const out = await cli(home, ["logout"], emu)
    expect(out.code, explain(out)).toBe(0)

    const fresh = await realTokens(emu)
    writeQwenCreds(home, fresh, Date.now() + HOUR)
    const s = await cli(home, ["status", "--json"], emu)
    expect(s.code, explain(s)).toBe(0)
    expect(JSON.parse(s.stdout)).toMatchObject({ loggedIn: true, source: "qwen-code" })
    const t = await cli(home, ["token"], emu)
    expect(t.code, explain(t)).toBe(0)
    expect(t.stdout).toBe(`${fresh.access_token}\n`)
  }, LONG)
})
