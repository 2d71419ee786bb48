/**
 * The refresh transaction validates a 200 answer before anything is written (issue 10): a
 * rotated refresh token is never thrown away, even when the rest of the answer is unusable; an
 * answer with no usable token writes nothing. Driven through the built CLI against a small
 * scripted OAuth server on 127.0.0.1.
 */
import { readFileSync } from "node:fs"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { afterEach, describe, expect, it } from "vitest"
import { cli, explain, readJson, tempHome, writeQwenCreds } from "./home.ts"

const LONG = 60_000

/** A token endpoint answering each refresh token from `answers` (anything else: invalid_grant). */
const scriptedServer = async (answers: Record<string, object>) => {
  const seen: Array<string> = []
  const server: Server = createServer((req, res) => {
    let body = ""
    req.on("data", (d) => (body += d))
    req.on("end", () => {
      const refresh = new URLSearchParams(body).get("refresh_token") ?? ""
      seen.push(refresh)
      const answer = answers[refresh]
      res.writeHead(answer === undefined ? 400 : 200, { "content-type": "application/json" })
      res.end(JSON.stringify(answer ?? { error: "invalid_grant" }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  servers.push(server)
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

const servers: Array<Server> = []
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    s.close()
  }
})

const OLD = { access_token: "access-old-0123456789", refresh_token: "refresh-old-0123456789" }

describe("what a refresh answer may write", () => {
  it("keeps a rotated refresh token from an answer with an unusable access token, marked expired; the next run uses it", async () => {
    const server = await scriptedServer({
      [OLD.refresh_token]: { refresh_token: "refresh-new-0123456789", expires_in: 21600 },
      "refresh-new-0123456789": {
        access_token: "access-good-0123456789",
        refresh_token: "refresh-next-0123456789",
        expires_in: 21600
      }
    })
    const home = tempHome()
    writeQwenCreds(home, OLD, Date.now() + 100_000)

    const first = await cli(home, ["token"], server)
    expect(first.code, explain(first)).toBe(1)
    expect(first.stderr).toContain("access_token")
    expect(first.stdout).toBe("")
    for (const secret of ["refresh-new-0123456789", OLD.access_token]) expect(first.stderr).not.toContain(secret)
    const kept = readJson(home.creds)
    expect(kept.refresh_token).toBe("refresh-new-0123456789")
    expect(kept.expiry_date).toBeLessThanOrEqual(Date.now())

    const second = await cli(home, ["token"], server)
    expect(second.code, explain(second)).toBe(0)
    expect(second.stdout).toBe("access-good-0123456789\n")
    expect(server.seen).toEqual([OLD.refresh_token, "refresh-new-0123456789"])
    expect(readJson(home.creds).refresh_token).toBe("refresh-next-0123456789")
  }, LONG)

  it("writes nothing when the answer carries no usable token at all", async () => {
    const server = await scriptedServer({ [OLD.refresh_token]: { expires_in: 21600, token_type: "Bearer" } })
    const home = tempHome()
    writeQwenCreds(home, OLD, Date.now() + 100_000)
    const before = readFileSync(home.creds, "utf8")

    const r = await cli(home, ["token"], server)
    expect(r.code, explain(r)).toBe(1)
    expect(r.stdout).toBe("")
    expect(r.stderr).toContain("access_token")
    expect(readFileSync(home.creds, "utf8")).toBe(before)
  }, LONG)
})
