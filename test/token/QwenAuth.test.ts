/**
 * The embeddable Layer over the real store (temp folders) with a scripted HTTP client: wiring,
 * not timing, so it runs on the live clock.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { HttpClientRequest } from "effect/http"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import * as QwenAuth from "../../src/QwenAuth.ts"
import { QwenHttpClient } from "../../src/token/QwenHttpClient.ts"
import { TokenManager } from "../../src/token/TokenManager.ts"
import { makeTempDir } from "../support/processes.ts"
import { reply, testHttpClient } from "../support/testHttpClient.ts"
import { TOKEN_URL, tokens } from "./support/harness.ts"

const withHome = <A, E, R>(f: (root: string) => Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(Effect.sync(() => makeTempDir()), (dir) => f(dir.path), (dir) => Effect.sync(dir.cleanup))

const optionsFor = (root: string): QwenAuth.QwenAuthOptions => ({
  oauthBaseUrl: "http://127.0.0.1:9",
  qwenHome: `${root}/qwen`,
  openclawStateDir: `${root}/openclaw`,
  openclawConfigPath: `${root}/openclaw/openclaw.json`,
  openclawAgentDir: `${root}/openclaw/agents/main/agent`
})

const writeQwenCreds = (root: string, access: string, refresh: string, expiry: number) => {
  mkdirSync(`${root}/qwen`, { recursive: true, mode: 0o700 })
  writeFileSync(
    `${root}/qwen/oauth_creds.json`,
    JSON.stringify({ access_token: access, token_type: "Bearer", refresh_token: refresh, resource_url: "portal.qwen.ai", expiry_date: expiry }),
    { mode: 0o600 }
  )
}

describe("QwenAuth.layer", () => {
  it.live("serves the stored token and calls the API with it", () =>
    withHome((root) =>
      Effect.gen(function*() {
        writeQwenCreds(root, "file-access", "file-refresh", Date.now() + 3_600_000)
        const http = testHttpClient(() => reply.json(200, { choices: [] }))
        const program = Effect.gen(function*() {
          const token = yield* TokenManager.use((tm) => tm.get)
          assert.strictEqual(Redacted.value(token.accessToken), "file-access")
          assert.strictEqual(token.baseUrl, "https://portal.qwen.ai/v1")
          const client = yield* QwenHttpClient
          const response = yield* client.execute(HttpClientRequest.post("/chat/completions"))
          assert.strictEqual(response.status, 200)
        })
        yield* program.pipe(Effect.provide(QwenAuth.layerWithHttpClient(optionsFor(root), http.layer)))
        assert.strictEqual(http.requests[0]!.url, "https://portal.qwen.ai/v1/chat/completions")
        assert.strictEqual(http.requests[0]!.headers.authorization, "Bearer file-access")
      })
    ))

  it.live("refreshes an expired token and persists the rotated refresh token to the files", () =>
    withHome((root) =>
      Effect.gen(function*() {
        writeQwenCreds(root, "old-access", "old-refresh", Date.now() - 1000)
        const http = testHttpClient((r) => (r.url === TOKEN_URL ? tokens("new-access", "new-refresh") : reply.json(500, {})))
        const token = yield* TokenManager.use((tm) => tm.get).pipe(
          Effect.provide(QwenAuth.layerWithHttpClient(optionsFor(root), http.layer))
        )
        assert.strictEqual(Redacted.value(token.accessToken), "new-access")
        assert.strictEqual(http.requests.filter((r) => r.url === TOKEN_URL).length, 1)
        assert.strictEqual(http.requests[0]!.form.refresh_token, "old-refresh")
        const onDisk = JSON.parse(readFileSync(`${root}/qwen/oauth_creds.json`, "utf8"))
        assert.strictEqual(onDisk.access_token, "new-access")
        assert.strictEqual(onDisk.refresh_token, "new-refresh")
      })
    ))
})
