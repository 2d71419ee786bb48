import { describe, expect, it } from "vitest"
import { defaultConfig, resolveConfig, startMode } from "../../src/emulator/EmulatorConfig.ts"
import { parseFlags, USAGE } from "../../src/emulator/flags.ts"

const options = (argv: Array<string>) => {
  const parsed = parseFlags(argv)
  if (parsed._tag !== "Options") throw new Error(`expected options, got ${JSON.stringify(parsed)}`)
  return resolveConfig(parsed.options)
}
const invalid = (argv: Array<string>) => {
  const parsed = parseFlags(argv)
  if (parsed._tag !== "Invalid") throw new Error(`expected invalid, got ${JSON.stringify(parsed)}`)
  return parsed.message
}

describe("parseFlags", () => {
  it("no flags: emulator.md defaults", () => {
    expect(options([])).toEqual(defaultConfig)
    expect(defaultConfig).toMatchObject({
      port: 0,
      clientId: "f0304373b74a44d2b584a3fb70ca9e56",
      scope: "openid profile email model.completion",
      slowDownPolls: 0,
      deviceCodeTtl: 600,
      interval: 5,
      noInterval: false,
      accessTtl: 21600,
      noRotate: false,
      quota: 2000,
      resourceUrl: undefined,
      faultRate: 0,
      seed: undefined
    })
  })

  it("every flag", () => {
    expect(options([
      "--port", "8123", "--client-id", "cid", "--scope", "openid email", "--auto-approve-after", "3",
      "--slow-down-polls", "2", "--device-code-ttl", "30", "--interval", "1", "--no-interval",
      "--access-ttl", "60", "--no-rotate", "--quota", "5", "--resource-url", "none", "--quirk", "pending-200",
      "--fault-rate", "0.25", "--faults", "500,delay,drop,html,lost-response", "--seed", "abc", "--refresh-delay", "1500",
      "--login-access-ttl", "2"
    ])).toEqual({
      port: 8123,
      clientId: "cid",
      scope: "openid email",
      autoApproveAfter: 3,
      deny: undefined,
      slowDownPolls: 2,
      deviceCodeTtl: 30,
      interval: 1,
      noInterval: true,
      accessTtl: 60,
      noRotate: true,
      quota: 5,
      resourceUrl: "none",
      quirk: ["pending-200"],
      faultRate: 0.25,
      faults: ["500", "delay", "drop", "html", "lost-response"],
      seed: "abc",
      refreshDelay: 1500,
      loginAccessTtl: 2,
      discontinued: false,
      moved: false,
      rejectClient: false
    })
  })

  it("mode flags: off by default, one at a time", () => {
    expect(defaultConfig).toMatchObject({ discontinued: false, moved: false, rejectClient: false })
    expect(options(["--discontinued"])).toMatchObject({ discontinued: true, moved: false, rejectClient: false })
    expect(options(["--moved"])).toMatchObject({ discontinued: false, moved: true, rejectClient: false })
    expect(options(["--reject-client", "--port", "0"])).toMatchObject({ discontinued: false, moved: false, rejectClient: true, port: 0 })
    expect(startMode(options([]))).toBe("normal")
    expect(startMode(options(["--moved"]))).toBe("moved")
    expect(startMode(options(["--reject-client"]))).toBe("reject-client")
    expect(startMode(options(["--discontinued", "--discontinued"]))).toBe("discontinued")
    expect(invalid(["--moved", "--reject-client"])).toBe("--moved and --reject-client exclude each other")
    expect(invalid(["--discontinued=yes"])).toBe("--discontinued takes no value")
    expect(startMode(resolveConfig({ moved: true, discontinued: true }))).toBeUndefined()
  })

  it("--deny takes an optional count", () => {
    expect(options(["--deny"]).deny).toBe(1)
    expect(options(["--deny", "--interval", "1"])).toMatchObject({ deny: 1, interval: 1 })
    expect(options(["--deny", "3"]).deny).toBe(3)
    expect(options(["--deny=2"]).deny).toBe(2)
    expect(invalid(["--deny=0"])).toMatch(/--deny/)
  })

  it("--flag=value works", () => {
    expect(options(["--port=0", "--interval=0.5"])).toMatchObject({ port: 0, interval: 0.5 })
  })

  it("rejects bad values and unknown flags with a message naming the flag", () => {
    expect(invalid(["--port", "x"])).toMatch(/--port/)
    expect(invalid(["--port", "70000"])).toMatch(/--port/)
    expect(invalid(["--interval", "-1"])).toMatch(/--interval/)
    expect(invalid(["--quota", "1.5"])).toMatch(/--quota/)
    expect(invalid(["--auto-approve-after", "0"])).toMatch(/--auto-approve-after/)
    expect(invalid(["--device-code-ttl", "0"])).toMatch(/--device-code-ttl/)
    expect(invalid(["--fault-rate", "2"])).toMatch(/--fault-rate/)
    expect(invalid(["--faults", "500,boom"])).toMatch(/boom/)
    expect(invalid(["--quirk", "weird"])).toMatch(/weird/)
    expect(invalid(["--seed"])).toMatch(/--seed/)
    expect(invalid(["--frobnicate"])).toMatch(/--frobnicate/)
  })

  it("--help", () => {
    expect(parseFlags(["--help"])._tag).toBe("Help")
  })

  it("the usage lists the mode flags and the run-time switch", () => {
    for (const flag of ["--discontinued", "--moved", "--reject-client"]) expect(USAGE).toMatch(new RegExp(`^  ${flag} `, "m"))
    expect(USAGE).toContain("POST /__emulator/mode?set=normal|discontinued|moved|reject-client")
  })
})
