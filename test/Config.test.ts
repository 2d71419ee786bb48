/**
 * `resolveSettings` reads each variable straight from the active ConfigProvider (start-up,
 * docs/benchmarks.md); these pin what `Config.option(Config.String(name))` read before.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect } from "effect"
import { resolveSettings } from "../src/Config.ts"

const withEnv = (env: Record<string, string>) =>
  resolveSettings().pipe(Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnvRecord(env)))

describe("resolveSettings", () => {
  it.effect("reads the environment through the provider, flags over variables over defaults", () =>
    Effect.gen(function*() {
      const s = yield* withEnv({
        HOME: "/h",
        QWEN_OAUTH_BASE_URL: "https://example.test/",
        QWEN_AUTH_REFRESH_MARGIN: "60",
        // A variable that is also a prefix of others is still read (a record node with a value).
        QWEN_HOME: "/q",
        QWEN_HOME_EXTRA: "x",
        QWEN_AUTH_QWEN_CODE_SYNC: "0",
        QWEN_AUTH_LOG_LEVEL: "DEBUG"
      })
      assert.strictEqual(s.oauthBaseUrl, "https://example.test")
      assert.strictEqual(Duration.toMillis(s.refreshMargin), 60_000)
      assert.strictEqual(s.qwenHome, "/q")
      assert.strictEqual(s.openclawStateDir, "/h/.openclaw")
      assert.strictEqual(s.openclawAgentDir, "/h/.openclaw/agents/main/agent")
      assert.strictEqual(s.qwenCodeSync, false)
      assert.strictEqual(s.logLevel, "debug")
      const flagged = yield* resolveSettings({ qwenHome: "/flag" }).pipe(
        Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnvRecord({ HOME: "/h", QWEN_HOME: "/q" }))
      )
      assert.strictEqual(flagged.qwenHome, "/flag")
    }))

  it.effect("treats empty and blank variables as unset", () =>
    Effect.gen(function*() {
      const s = yield* withEnv({ HOME: "/h", QWEN_HOME: "", OPENCLAW_STATE_DIR: "  " })
      assert.strictEqual(s.qwenHome, "/h/.qwen")
      assert.strictEqual(s.openclawStateDir, "/h/.openclaw")
      assert.strictEqual(s.qwenCodeSync, true)
      assert.strictEqual(s.logLevel, "warn")
    }))
})
