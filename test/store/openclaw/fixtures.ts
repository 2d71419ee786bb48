/** Shared fixtures of the OpenClaw config tests: files.md's documented entries and a user's config. */
import { QWEN_MODELS, qwenProvider } from "../../support/filesMd.ts"
import { Effect, FileSystem } from "effect"
import type { JsonObject } from "../../../src/store/openclaw/Json.ts"

export const OURS = "https://portal.qwen.ai/v1"

export const provider = qwenProvider

/** files.md's "what a login adds", verbatim (with --set-default). */
export const documented = {
  plugins: { entries: { "qwen-portal-auth": { enabled: true } } },
  models: {
    providers: {
      "qwen-portal": {
        baseUrl: OURS,
        apiKey: "qwen-oauth",
        api: "openai-completions",
        models: QWEN_MODELS
      }
    }
  },
  agents: {
    defaults: {
      models: { "qwen-portal/coder-model": { alias: "qwen" }, "qwen-portal/vision-model": {} },
      model: { primary: "qwen-portal/coder-model" }
    }
  },
  auth: { profiles: { "qwen-portal:default": { provider: "qwen-portal", mode: "oauth" } } }
}

export const userConfig: JsonObject = {
  gateway: { port: 18789 },
  models: {
    mode: "merge",
    providers: { openai: { baseUrl: "https://api.openai.com/v1", models: [{ id: "gpt-5", input: ["text", "image"] }] } }
  },
  agents: {
    defaults: {
      workspace: "~/work",
      model: { primary: "openai/gpt-5", fallbacks: ["anthropic/claude-sonnet"] },
      models: { "openai/gpt-5": { alias: "gpt" } }
    },
    list: [{ id: "main" }]
  },
  auth: { profiles: { "openai:default": { provider: "openai", mode: "api_key" } } }
}

/** files.md's "what a login adds" with --set-default, in its order, as our writer renders it. */
export const documentedText = `${
  JSON.stringify(
    {
      plugins: { entries: { "qwen-portal-auth": { enabled: true } } },
      models: { providers: { "qwen-portal": provider(OURS) } },
      agents: {
        defaults: {
          models: { "qwen-portal/coder-model": { alias: "qwen" }, "qwen-portal/vision-model": {} },
          model: { primary: "qwen-portal/coder-model" }
        }
      },
      auth: { profiles: { "qwen-portal:default": { provider: "qwen-portal", mode: "oauth" } } }
    },
    null,
    2
  )
}\n`

export const userJson5 = `// my OpenClaw config
{
  gateway: { port: 18789, },            // trailing commas are fine in JSON5
  models: {
    providers: {
      openai: { baseUrl: 'https://api.openai.com/v1', models: [{ id: 'gpt-5', input: ['text', 'image'] },], },
    },
  },
  agents: {
    defaults: {
      model: { primary: 'openai/gpt-5', fallbacks: ['anthropic/claude-sonnet'] },
      models: { 'openai/gpt-5': { alias: 'gpt' } },
    },
  },
}
`

/** A scoped temp folder with the two files' paths and a few readers. */
export const setup = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const dir = yield* fs.makeTempDirectoryScoped({ prefix: "qwen-auth-openclaw-" })
  const files = { openclawConfig: `${dir}/state/openclaw.json`, modelsJson: `${dir}/state/agents/main/agent/models.json` }
  const read = (p: string) => fs.readFileString(p)
  const json = (p: string) => Effect.map(fs.readFileString(p), (t) => JSON.parse(t))
  const mode = (p: string) => Effect.map(fs.stat(p), (i) => i.mode & 0o777)
  const writeUser = (text: string, m = 0o640) =>
    Effect.gen(function*() {
      yield* fs.makeDirectory(`${dir}/state`, { recursive: true })
      yield* fs.writeFileString(files.openclawConfig, text)
      yield* fs.chmod(files.openclawConfig, m)
    })
  return { fs, dir, files, read, json, mode, writeUser }
})
