/** Shared fixtures of the OpenClaw config tests: files.md's documented entries and a user's config. */
import { QWEN_MODELS, qwenProvider } from "../../support/filesMd.ts"
import { Effect, FileSystem } from "effect"
import JSON5 from "json5"
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

/** The config: comments, trailing commas, unquoted keys, 2^64-ish integers, Infinity, NaN. */
export const HAND_WRITTEN = `// My OpenClaw config: hand-written, keep my notes!
{
  /* the gateway */
  gateway: {
    port: 18789, // default port
    bindId: 12345678901234567890,  // above 2^53: JSON.parse would round it
    ratio: Infinity,
    floor: -Infinity,
    unset: NaN,
    mask: 0xFF,
    half: .5,
  },
  'models': {
    providers: {
      openai: { baseUrl: 'https://api.openai.com/v1', models: [], }, // mine
    },
  },
  agents: {
    defaults: {
      model: { primary: "openai/gpt-5", fallbacks: ["anthropic/claude-sonnet",], },
    },
  },
}
`

/**
 * Whether `edited` is `original` with text only inserted: every character of the original still
 * there, in order (the check that an in-place edit kept the user's bytes).
 */
export const insertedOnly = (original: string, edited: string): boolean => {
  let j = 0
  for (const ch of edited) if (j < original.length && ch === original[j]) j++
  return j === original.length
}

/** A scoped temp folder with the two files' paths and a few readers. */
export const setup = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const dir = yield* fs.makeTempDirectoryScoped({ prefix: "qwen-auth-openclaw-" })
  const files = { openclawConfig: `${dir}/state/openclaw.json`, modelsJson: `${dir}/state/agents/main/agent/models.json` }
  const read = (p: string) => fs.readFileString(p)
  // JSON5: a user's JSON5 config stays JSON5 (edited in place).
  const json = (p: string) => Effect.map(fs.readFileString(p), (t) => JSON5.parse(t))
  const mode = (p: string) => Effect.map(fs.stat(p), (i) => i.mode & 0o777)
  const writeUser = (text: string, m = 0o640) =>
    Effect.gen(function*() {
      yield* fs.makeDirectory(`${dir}/state`, { recursive: true })
      yield* fs.writeFileString(files.openclawConfig, text)
      yield* fs.chmod(files.openclawConfig, m)
    })
  return { fs, dir, files, read, json, mode, writeUser }
})
