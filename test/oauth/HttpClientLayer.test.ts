import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { HttpClient } from "effect/http"
import { createServer, type Server } from "node:http"
import { connect, type AddressInfo } from "node:net"
import { layerWith, proxyFor } from "../../src/internal/HttpClientLayer.ts"
import { refresh } from "../../src/oauth/TokenEndpoint.ts"
import { testSettings } from "../support/testHttpClient.ts"

describe("proxyFor", () => {
  const env = { httpsProxy: "http://proxy.corp:3128", httpProxy: "http://plain.corp:8080" }

  it("https goes through HTTPS_PROXY, http through HTTP_PROXY", () => {
    assert.strictEqual(proxyFor("https://chat.qwen.ai/api", env), "http://proxy.corp:3128")
    assert.strictEqual(proxyFor("http://example.com/", env), "http://plain.corp:8080")
  })

  it("https falls back to HTTP_PROXY; no variables means direct", () => {
    assert.strictEqual(proxyFor("https://chat.qwen.ai", { httpProxy: "http://plain.corp:8080" }), "http://plain.corp:8080")
    assert.isUndefined(proxyFor("https://chat.qwen.ai", {}))
    assert.isUndefined(proxyFor("https://chat.qwen.ai", { httpsProxy: "  " }))
  })

  it("loopback is never proxied, whatever NO_PROXY says", () => {
    for (const url of ["http://127.0.0.1:8080/", "http://127.3.2.1/", "http://localhost:9/", "http://[::1]:9/", "https://api.localhost/"]) {
      assert.isUndefined(proxyFor(url, env), url)
    }
  })

  it("NO_PROXY: exact hosts, domain suffixes, ports and *", () => {
    const np = (noProxy: string, url: string) => proxyFor(url, { ...env, noProxy })
    assert.isUndefined(np("qwen.ai", "https://chat.qwen.ai"))
    assert.isUndefined(np(".qwen.ai", "https://chat.qwen.ai"))
    assert.isUndefined(np("*.qwen.ai", "https://qwen.ai"))
    assert.isUndefined(np("other.com, chat.qwen.ai", "https://chat.qwen.ai"))
    assert.isUndefined(np("*", "https://chat.qwen.ai"))
    assert.strictEqual(np("wen.ai", "https://chat.qwen.ai"), "http://proxy.corp:3128")
    assert.isUndefined(np("chat.qwen.ai:443", "https://chat.qwen.ai"))
    assert.strictEqual(np("chat.qwen.ai:8443", "https://chat.qwen.ai"), "http://proxy.corp:3128")
    assert.isUndefined(np("CHAT.QWEN.AI", "https://chat.qwen.ai"))
  })

  it("a proxy given without a scheme is http", () => {
    assert.strictEqual(proxyFor("https://chat.qwen.ai", { httpsProxy: "proxy.corp:3128" }), "http://proxy.corp:3128")
  })
})

/** A loopback server; `handle` answers requests, CONNECTs are tunnelled to it and recorded. */
const withServer = <A, E, R>(
  use: (server: { readonly port: number; readonly connects: Array<string>; readonly paths: Array<string> }) => Effect.Effect<A, E, R>
) =>
  Effect.acquireUseRelease(
    Effect.promise(() =>
      new Promise<{ server: Server; port: number; connects: Array<string>; paths: Array<string> }>((resolve) => {
        const connects: Array<string> = []
        const paths: Array<string> = []
        const server = createServer((req, res) => {
          paths.push(req.url ?? "")
          req.resume()
          if (req.url?.endsWith("/redirect/api/v1/oauth2/token")) {
            res.writeHead(307, { location: `http://127.0.0.1:${port}/api/v1/oauth2/token` })
            res.end()
            return
          }
          res.writeHead(200, { "content-type": "application/json" })
          res.end(JSON.stringify({ access_token: "AT", expires_in: 60, token_type: "bearer" }))
        })
        // Acts as an HTTP proxy too: CONNECT host:port is tunnelled to this same server.
        server.on("connect", (req, socket) => {
          connects.push(req.url ?? "")
          const upstream = connect(port, "127.0.0.1", () => {
            socket.write("HTTP/1.1 200 Connection Established\r\n\r\n")
            upstream.pipe(socket)
            socket.pipe(upstream)
          })
          upstream.on("error", () => socket.destroy())
          socket.on("error", () => upstream.destroy())
        })
        let port = 0
        server.listen(0, "127.0.0.1", () => {
          port = (server.address() as AddressInfo).port
          resolve({ server, port, connects, paths })
        })
      })
    ),
    (s) => use(s),
    (s) => Effect.promise(() => new Promise<void>((r) => s.server.close(() => r())))
  )

describe("HttpClientLayer (loopback sockets)", () => {
  it.live("loopback is reached directly even with a (dead) proxy configured", () =>
    withServer((s) =>
      Effect.gen(function*() {
        const settings = testSettings({ oauthBaseUrl: `http://127.0.0.1:${s.port}` })
        const answer = yield* refresh(settings, Redacted.make("RT"))
        assert.strictEqual(answer._tag, "Tokens")
        if (answer._tag === "Tokens") assert.strictEqual(Redacted.value(answer.tokens.accessToken), "AT")
        assert.deepStrictEqual(s.connects, [])
      }).pipe(Effect.provide(layerWith({ httpProxy: "http://127.0.0.1:1", httpsProxy: "http://127.0.0.1:1" })))
    ))

  it.live("a non-loopback host goes through the proxy", () =>
    withServer((s) =>
      Effect.gen(function*() {
        const client = yield* HttpClient.HttpClient
        const res = yield* client.get("http://qwen-auth-test.invalid/hello")
        assert.strictEqual(res.status, 200)
        // http targets: undici sends the absolute-form request to the proxy.
        assert.deepStrictEqual(s.paths, ["http://qwen-auth-test.invalid/hello"])
      }).pipe(Effect.provide(layerWith({ httpProxy: `http://127.0.0.1:${s.port}` })))
    ))

  it.live("an https host is tunnelled through HTTPS_PROXY with CONNECT", () =>
    withServer((s) =>
      Effect.gen(function*() {
        const client = yield* HttpClient.HttpClient
        // The fake proxy tunnels to a plain-http server, so TLS fails after the CONNECT.
        yield* client.get("https://qwen-auth-test.invalid/hello").pipe(Effect.ignore)
        assert.deepStrictEqual(s.connects, ["qwen-auth-test.invalid:443"])
      }).pipe(Effect.provide(layerWith({ httpsProxy: `http://127.0.0.1:${s.port}`, httpProxy: "http://127.0.0.1:1" })))
    ))

  it.live("redirects are not followed: the refresh form is sent once, to the configured host", () =>
    withServer((s) =>
      Effect.gen(function*() {
        const settings = testSettings({ oauthBaseUrl: `http://127.0.0.1:${s.port}/redirect` })
        const error = yield* refresh(settings, Redacted.make("RT-secret")).pipe(Effect.flip)
        assert.deepInclude(error, { _tag: "MalformedResponse", status: 307 })
        assert.deepStrictEqual(s.paths, ["/redirect/api/v1/oauth2/token"])
      }).pipe(Effect.provide(layerWith({})))
    ))

  it.live("connection refused through the real client is an unambiguous NetworkError", () =>
    Effect.gen(function*() {
      const error = yield* refresh(testSettings({ oauthBaseUrl: "http://127.0.0.1:1" }), Redacted.make("RT")).pipe(Effect.flip)
      assert.deepInclude(error, { _tag: "NetworkError", endpoint: "refresh", ambiguous: false })
      assert.include(error.message, "connection refused (ECONNREFUSED)")
    }).pipe(Effect.provide(layerWith({}))))
})
