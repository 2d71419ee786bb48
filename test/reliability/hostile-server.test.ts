/**
 * A hostile or broken OAuth server (issue 6), through the real HTTP client (undici): oversized
 * bodies are read no further than a cap, endless answers end at the timeout, wrong content types
 * are typed errors, redirects are not followed with the refresh token, and a `resource_url`
 * pointing elsewhere never receives a bearer token.
 */
import { Duration, Effect, Exit, Redacted } from "effect"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as HttpClientLayer from "../../src/internal/HttpClientLayer.ts"
import { MAX_BODY_BYTES } from "../../src/oauth/Transport.ts"
import { checkResourceUrl } from "../../src/oauth/Trust.ts"
import * as TokenEndpoint from "../../src/oauth/TokenEndpoint.ts"
import { testSettings } from "../support/testHttpClient.ts"

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

  it("a resource_url pointing elsewhere is refused before any token goes there", async () => {
    const settings = testSettings({ oauthBaseUrl: "http://127.0.0.1:9" })
    for (const value of ["https://evil.example", "evil.example/v1", "http://portal.qwen.ai", "https://qwen.ai.evil.example"]) {
      const exit = await Effect.runPromise(Effect.exit(checkResourceUrl(settings, value)))
      expect(tagOf(exit), value).toBe("UntrustedEndpoint")
    }
    for (const value of ["portal.qwen.ai", "https://dashscope.qwen.ai/", "http://127.0.0.1:9"]) {
      const exit = await Effect.runPromise(Effect.exit(checkResourceUrl(settings, value)))
      expect(tagOf(exit), value).toBe("Success")
    }
  })
})
