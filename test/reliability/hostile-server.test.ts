/**
 * A hostile or broken OAuth server (issue 6), through the real HTTP client (undici): oversized
 * bodies are read no further than a cap, endless answers end at the timeout, wrong content types
 * are typed errors, redirects are not followed with the refresh token, and a `resource_url`
 * pointing elsewhere (or carrying userinfo, or escapes) never reaches the stored files through the
 * refresh that writes them (driven through the built CLI, then the files are read).
 */
import { Duration, Effect, Exit, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { readFileSync } from "node:fs"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as HttpClientLayer from "../../src/internal/HttpClientLayer.ts"
import { MAX_BODY_BYTES } from "../../src/oauth/Transport.ts"
import * as TokenEndpoint from "../../src/oauth/TokenEndpoint.ts"
import { scrubbedEnv } from "../support/processes.ts"
import { testSettings } from "../support/testHttpClient.ts"
import { escapeBytesIn, filesHolding, seedTokens, startHostile, tokenAnswer, TOKEN_PATH } from "./support/hostile.ts"
import { makeHome, runCli } from "./support/home.ts"

const REFRESH = "R3FRESH-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

interface Seen {
  path: string
  body: string
}

const listen = (handler: (req: IncomingMessage, res: ServerResponse, body: string) => void) =>
  new Promise<{ server: Server; url: string; seen: Array<Seen>; written: () => number }>((resolve) => {
    const seen: Array<Seen> = []
    let written = 0
    const server = createServer((req, res) => {
      let body = ""
      req.on("data", (d) => (body += d))
      req.on("end", () => {
        seen.push({ path: req.url ?? "", body })
        const write = res.write.bind(res)
        res.write = ((chunk: any, ...rest: Array<any>) => {
          written += typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length
          return write(chunk, ...rest)
        }) as typeof res.write
        handler(req, res, body)
      })
    })
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, written: () => written }))
  })

const refreshAt = (url: string, timeoutMs = 2_000) =>
  Effect.runPromise(
    Effect.exit(TokenEndpoint.refresh(testSettings({ oauthBaseUrl: url, refreshTimeout: Duration.millis(timeoutMs) }), Redacted.make(REFRESH))).pipe(
      Effect.provide(HttpClientLayer.layer)
    )
  )

const tagOf = (exit: Exit.Exit<unknown, { readonly _tag: string }>) =>
  Exit.isSuccess(exit) ? "Success" : exit.cause.reasons.map((r) => (r._tag === "Fail" ? r.error._tag : r._tag)).join(",")

const servers: Array<Server> = []
afterAll(() => servers.forEach((s) => {
  s.closeAllConnections()
  s.close()
}))

describe("a hostile OAuth server", () => {
  let other: Awaited<ReturnType<typeof listen>>
  beforeAll(async () => {
    other = await listen((_req, res) => res.end(JSON.stringify({ access_token: "x", expires_in: 60 })))
    servers.push(other.server)
  })

  it("an endless 200 body is read no further than the cap and is a typed, transient error", async () => {
    const s = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" })
      const chunk = Buffer.alloc(64 * 1024, 0x61)
      res.write("{\"access_token\":\"x\",\"expires_in\":60,\"pad\":\"")
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) { /* until the buffer is full */ }
        if (!res.destroyed) res.once("drain", pump)
      }
      pump()
    })
    servers.push(s.server)
    const exit = await refreshAt(s.url, 10_000)
    expect(tagOf(exit)).toBe("MalformedResponse")
    // The client hung up soon after the cap (socket buffers allow some slack).
    await new Promise((r) => setTimeout(r, 200))
    expect(s.written()).toBeLessThan(MAX_BODY_BYTES + 16 * 1024 * 1024)
  })

  it("an oversized but finite token body is refused, not decoded", async () => {
    const s = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" })
      res.end(JSON.stringify({ access_token: "x", expires_in: 60, pad: "a".repeat(MAX_BODY_BYTES * 2) }))
    })
    servers.push(s.server)
    expect(tagOf(await refreshAt(s.url))).toBe("MalformedResponse")
  })

  it("an answer that never ends times out as a NetworkError", async () => {
    const s = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" })
      res.write("{")
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(" ")), 100)
    })
    servers.push(s.server)
    expect(tagOf(await refreshAt(s.url, 1_000))).toBe("NetworkError")
  })

  it("wrong content types are typed errors; a JSON token under text/html still decodes", async () => {
    const html = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" })
      res.end("<html><body>Login to the captive portal</body></html>")
    })
    const mislabelled = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" })
      res.end(JSON.stringify({ access_token: "x", expires_in: 60 }))
    })
    const binary = await listen((_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream" })
      res.end(Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80]))
    })
    servers.push(html.server, mislabelled.server, binary.server)
    expect(tagOf(await refreshAt(html.url))).toBe("MalformedResponse")
    expect(tagOf(await refreshAt(mislabelled.url))).toBe("Success")
    expect(tagOf(await refreshAt(binary.url))).toBe("MalformedResponse")
  })

  it("redirects are not followed: the refresh token never reaches the other host", async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      const s = await listen((_req, res) => {
        res.writeHead(status, { location: `${other.url}/api/v1/oauth2/token` })
        res.end()
      })
      servers.push(s.server)
      const exit = await refreshAt(s.url)
      expect(tagOf(exit), String(status)).not.toBe("Success")
      expect(s.seen).toHaveLength(1)
    }
    expect(other.seen).toEqual([])
  })

  it("a refresh answer whose resource_url points elsewhere is saved without it: the stored files keep the trusted host", async () => {
    const variants: ReadonlyArray<[string, (url: string) => string, (stored: string | undefined, url: string) => void]> = [
      ["a foreign host", () => "https://evil.example/v1", (stored) => expect(stored).toBe("portal.qwen.ai")],
      ["a bare foreign host", () => "evil.example/v1", (stored) => expect(stored).toBe("portal.qwen.ai")],
      ["plain http to Qwen", () => "http://portal.qwen.ai", (stored) => expect(stored).toBe("portal.qwen.ai")],
      ["a look-alike host", () => "https://qwen.ai.evil.example", (stored) => expect(stored).toBe("portal.qwen.ai")],
      ["userinfo before Qwen's host", () => "https://user:pw@portal.qwen.ai", (stored) => expect(stored).toBe("portal.qwen.ai")],
      ["Qwen's host as userinfo", () => "https://portal.qwen.ai@evil.example/v1", (stored) => expect(stored).toBe("portal.qwen.ai")],
      // Trusted (the OAuth server's own host), but with escapes in the path: kept, percent-encoded.
      ["escapes in a trusted path", (url) => `${url}/v1\u001b]0;pwned\u0007\u202e`, (stored, url) => expect(stored).toBe(`${url}/v1%1B]0;pwned%07%E2%80%AE`)]
    ]
    for (const [what, resourceUrl, expectStored] of variants) {
      const home = makeHome("qwen-auth-rel-resource-")
      try {
        const oldAccess = randomBytes(32).toString("base64url")
        const oldRefresh = randomBytes(32).toString("base64url")
        const newAccess = randomBytes(32).toString("base64url")
        const newRefresh = randomBytes(32).toString("base64url")
        seedTokens(home, oldAccess, oldRefresh, Date.now() + 120_000, { resource_url: "portal.qwen.ai" })
        const server = await startHostile((req, s) =>
          req.path === TOKEN_PATH ? tokenAnswer(newAccess, newRefresh, { resource_url: resourceUrl(s.url) }) : undefined
        )
        try {
          const env = scrubbedEnv(home.path, { QWEN_OAUTH_BASE_URL: server.url, QWEN_AUTH_LOG_LEVEL: "debug" })
          // The refresh that writes: `token` inside the refresh margin.
          const r = await runCli(["token", "--verbose"], env)
          expect(r.code, `${what}: ${r.stderr}`).toBe(0)
          expect(r.stdout, what).toBe(`${newAccess}\n`)
          expect(server.refreshes(), what).toHaveLength(1)
          const creds = JSON.parse(readFileSync(home.creds, "utf8"))
          const own = JSON.parse(readFileSync(home.own, "utf8"))
          const profile = JSON.parse(readFileSync(home.profiles, "utf8")).profiles["qwen-portal:default"]
          // The rotation itself is saved everywhere...
          expect([creds.refresh_token, own.refresh_token, profile.refresh], what).toEqual([newRefresh, newRefresh, newRefresh])
          expect([creds.access_token, own.access_token, profile.access], what).toEqual([newAccess, newAccess, newAccess])
          // ...and the resource_url only when trusted (the previous one kept otherwise).
          expectStored(creds.resource_url, server.url)
          expectStored(own.resource_url, server.url)
          expect(filesHolding(home.path, ["evil.example", "pw@", "http://portal.qwen.ai"]), what).toEqual([])
          // What the next run would use as the API base URL.
          const status = await runCli(["status", "--json"], env)
          const baseUrl = JSON.parse(status.stdout).baseUrl as string
          expect(baseUrl, what).not.toMatch(/evil|pw@|^http:\/\/portal/)
          expect(escapeBytesIn(r.stderr + status.stdout + status.stderr), what).toEqual([])
        } finally {
          await server.stop()
        }
      } finally {
        home.cleanup()
      }
    }
  }, 120_000)
})
