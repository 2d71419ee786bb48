/**
 * The library as an embedder uses it (`QwenAuth.layerWithHttpClient`: real credential files with
 * their locks, the real undici client), pointed at a benchmark home and an OAuth server.
 */
import { join } from "node:path"
import * as HttpClientLayer from "../../src/internal/HttpClientLayer.ts"
import { layerWithHttpClient } from "../../src/QwenAuth.ts"
import { TokenManager } from "../../src/token/TokenManager.ts"

export const pathsUnder = (home: string) => ({
  qwenHome: join(home, ".qwen"),
  openclawStateDir: join(home, ".openclaw"),
  openclawConfigPath: join(home, ".openclaw", "openclaw.json"),
  openclawAgentDir: join(home, ".openclaw", "agents", "main", "agent")
})

export const qwenAuthLayer = (home: string, oauthBaseUrl: string) =>
  layerWithHttpClient({ oauthBaseUrl, ...pathsUnder(home) }, HttpClientLayer.layer)

/** `TokenManager.get` as an Effect needing the layer. */
export const getToken = TokenManager.use((tm) => tm.get)
