/**
 * What ../shared/docs/files.md says a login writes, written out literally (never derived from
 * src/), so the tests compare the program against the spec and not against itself.
 */

/** The two models of provider `qwen-portal`, exactly as files.md lists them. */
export const QWEN_MODELS = [
  {
    id: "coder-model",
    name: "Qwen Coder",
    reasoning: false,
    input: ["text"],
    cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    contextWindow: 128000,
    maxTokens: 8192
  },
  {
    id: "vision-model",
    name: "Qwen Vision",
    reasoning: false,
    input: ["text", "image"],
    cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    contextWindow: 128000,
    maxTokens: 8192
  }
]

/** `models.providers["qwen-portal"]` as files.md shows it, for a given base URL. */
export const qwenProvider = (baseUrl: string) => ({
  baseUrl,
  apiKey: "qwen-oauth",
  api: "openai-completions",
  models: QWEN_MODELS
})
