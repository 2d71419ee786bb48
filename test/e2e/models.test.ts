/**
 * `qwen-auth models list [--json]` and `qwen-auth models set <ref>` end to end on a JSON5
 * OpenClaw config (files.md): columns, the alias `qwen`, unknown refs refused with the known list,
 * everything else in the config kept.
 */
import { describe, expect, it } from "vitest"
import { existsSync, readFileSync } from "node:fs"
import { cli, explain, type Home, readJson5, tempHome, writeSecret } from "./home.ts"

const LONG = 60_000

const CONFIG = `{
  // the user's own comment
  models: { providers: {
    "qwen-portal": { baseUrl: "https://portal.qwen.ai/v1", apiKey: "qwen-oauth", api: "openai-completions", models: [
      { id: "coder-model", name: "Qwen Coder", input: ["text"] },
      { id: "vision-model", name: "Qwen Vision", input: ["text", "image"] },
    ] },
    anthropic: { models: [{ id: "claude", input: ["text", "image"] }] },
  } },
  agents: { defaults: {
    models: { "qwen-portal/coder-model": { alias: "qwen" }, "qwen-portal/vision-model": {}, "anthropic/claude": { alias: "opus" } },
    model: { primary: "anthropic/claude", fallbacks: ["anthropic/claude"] },
  } },
  gateway: { port: 18789 },
}
`

const homeWithConfig = (): Home => {
  const home = tempHome()
  writeSecret(home.config, CONFIG)
  return home
}

describe("qwen-auth models", () => {
  it("list prints ref, alias, input and default columns; --json the same as one object", async () => {
    const home = homeWithConfig()
    const r = await cli(home, ["models", "list"])
    expect(r.code, explain(r)).toBe(0)
    const lines = r.stdout.trimEnd().split("\n").map((l) => l.split(/\s+/))
    expect(lines).toEqual([
      ["REF", "ALIAS", "INPUT", "DEFAULT"],
      ["qwen-portal/coder-model", "qwen", "text", "no"],
      ["qwen-portal/vision-model", "-", "text/image", "no"],
      ["anthropic/claude", "opus", "text/image", "yes"]
    ])

    const j = await cli(home, ["models", "list", "--json"])
    expect(j.code, explain(j)).toBe(0)
    expect(JSON.parse(j.stdout)).toEqual({
      models: [
        { ref: "qwen-portal/coder-model", alias: "qwen", input: ["text"], default: false },
        { ref: "qwen-portal/vision-model", alias: null, input: ["text", "image"], default: false },
        { ref: "anthropic/claude", alias: "opus", input: ["text", "image"], default: true }
      ]
    })
    // list only reads.
    expect(readFileSync(home.config, "utf8")).toBe(CONFIG)
  }, LONG)

  it("set accepts the alias qwen and a provider/model ref, stores the canonical ref, keeps the rest", async () => {
    const home = homeWithConfig()
    const r = await cli(home, ["models", "set", "qwen"])
    expect(r.code, explain(r)).toBe(0)
    expect(r.stdout).toBe("")
    expect(r.stderr).toContain("qwen-portal/coder-model")
    // Edited in place: only the primary's value changed, the comment and layout are the user's.
    expect(readFileSync(home.config, "utf8")).toBe(CONFIG.replace(`primary: "anthropic/claude"`, `primary: "qwen-portal/coder-model"`))
    const config = readJson5(home.config)
    expect(config.agents.defaults.model).toEqual({ primary: "qwen-portal/coder-model", fallbacks: ["anthropic/claude"] })
    expect(config.gateway).toEqual({ port: 18789 })
    expect(config.models.providers.anthropic).toEqual({ models: [{ id: "claude", input: ["text", "image"] }] })
    expect(config.agents.defaults.models["anthropic/claude"]).toEqual({ alias: "opus" })
    // The commented original is kept next to it before the first rewrite.
    expect(readFileSync(`${home.config}.qwen-auth.bak`, "utf8")).toBe(CONFIG)

    const v = await cli(home, ["models", "set", "qwen-portal/vision-model"])
    expect(v.code, explain(v)).toBe(0)
    expect(readJson5(home.config).agents.defaults.model.primary).toBe("qwen-portal/vision-model")
    const list = JSON.parse((await cli(home, ["models", "list", "--json"])).stdout)
    expect(list.models.filter((m: any) => m.default).map((m: any) => m.ref)).toEqual(["qwen-portal/vision-model"])
  }, LONG)

  it("refuses an unknown ref with the known list, exit 2, and writes nothing", async () => {
    const home = homeWithConfig()
    const r = await cli(home, ["models", "set", "gpt-5"])
    expect(r.code, explain(r)).toBe(2)
    expect(r.stdout).toBe("")
    for (const ref of ["qwen-portal/coder-model", "qwen-portal/vision-model", "anthropic/claude"]) {
      expect(r.stderr).toContain(ref)
    }
    expect(r.stderr).toContain("gpt-5")
    expect(readFileSync(home.config, "utf8")).toBe(CONFIG)
    expect(existsSync(`${home.config}.qwen-auth.bak`)).toBe(false)
  }, LONG)

  it("without any config: list says so, set refuses", async () => {
    const home = tempHome()
    const l = await cli(home, ["models", "list"])
    expect(l.code, explain(l)).toBe(0)
    expect(l.stdout).toBe("")
    expect(l.stderr).toContain("qwen-auth login")
    const lj = await cli(home, ["models", "list", "--json"])
    expect(JSON.parse(lj.stdout)).toEqual({ models: [] })
    const s = await cli(home, ["models", "set", "qwen"])
    expect(s.code, explain(s)).toBe(2)
    expect(existsSync(home.config)).toBe(false)
  }, LONG)
})
