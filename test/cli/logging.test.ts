import { afterAll, describe, expect, it } from "vitest"
import { makeTempDir, runCli, scrubbedEnv } from "../support/processes.ts"

const home = makeTempDir()
afterAll(home.cleanup)

describe("log lines", () => {
  it("go to stderr, so --json output on stdout stays one parsable object", async () => {
    const r = await runCli(["status", "--json"], {
      env: scrubbedEnv(home.path, { QWEN_AUTH_REFRESH_MARGIN: "soon" }),
      timeoutMs: 60_000
    })
    expect(r.code).toBe(4)
    expect(JSON.parse(r.stdout)).toMatchObject({ loggedIn: false, state: "logged-out" })
    expect(r.stderr).toContain('Ignoring QWEN_AUTH_REFRESH_MARGIN="soon"')
  })
})
