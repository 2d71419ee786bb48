import { describe, expect, it } from "vitest"
import { parseStatusArgs, parseTokenArgs } from "../../src/cli/StatusArgs.ts"

describe("the status fast path's argument reader", () => {
  it("takes plain status invocations with shared flags before or after the command", () => {
    expect(parseStatusArgs(["status"])).toEqual({ json: false, verbose: false, strings: {}, refreshMargin: undefined, qwenCodeSync: undefined })
    expect(parseStatusArgs(["--qwen-home", "/q", "status", "--json", "--refresh-margin=60", "--no-qwen-code-sync", "--verbose"]))
      .toEqual({ json: true, verbose: true, strings: { qwenHome: "/q" }, refreshMargin: 60, qwenCodeSync: false })
    expect(parseStatusArgs(["status", "--openclaw-config=/c.json", "--scope", "openid"])?.strings)
      .toEqual({ openclawConfig: "/c.json", scope: "openid" })
  })

  it("leaves everything else to effect/cli, which owns the grammar and its messages", () => {
    for (
      const args of [
        [],
        ["token"],
        ["--json", "status"], // --json belongs to the command
        ["status", "--help"],
        ["status", "-h"],
        ["status", "--bogus"],
        ["status", "extra"],
        ["status", "status"],
        ["status", "--json", "--json"],
        ["status", "--qwen-home"], // value missing
        ["status", "--qwen-home", "--json"], // a flag where the value should be
        ["status", "--qwen-home="],
        ["status", "--refresh-margin", "soon"],
        ["status", "--refresh-margin", "-5"],
        ["status", "--qwen-code-sync", "--no-qwen-code-sync"],
        ["--scope", "status"] // "status" is the flag's value here
      ]
    ) {
      expect(parseStatusArgs(args), JSON.stringify(args)).toBeUndefined()
    }
  })

  it("reads a plain token invocation the same way, and nothing that names another command", () => {
    expect(parseTokenArgs(["token"])).toEqual({ json: false, verbose: false, strings: {}, refreshMargin: undefined, qwenCodeSync: undefined })
    expect(parseTokenArgs(["--qwen-home=/q", "token", "--json"]))
      .toEqual({ json: true, verbose: false, strings: { qwenHome: "/q" }, refreshMargin: undefined, qwenCodeSync: undefined })
    for (const args of [["status"], ["token", "status"], ["token", "--help"], ["--json", "token"], ["--scope", "token"]]) {
      expect(parseTokenArgs(args), JSON.stringify(args)).toBeUndefined()
    }
    expect(parseStatusArgs(["token"])).toBeUndefined()
  })
})
