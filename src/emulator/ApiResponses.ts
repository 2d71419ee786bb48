/**
 * Minimal OpenAI-compatible answers for the emulated Qwen portal API (`/v1`).
 *
 * @since 0.1.0
 */
import { HttpServerResponse } from "effect/http"

/** The models Qwen's portal offers to OAuth users. */
export const MODEL_IDS: ReadonlyArray<string> = ["coder-model", "vision-model"]

/** `GET /v1/models` body. */
export const models = (now: number) => ({
  object: "list",
  data: MODEL_IDS.map((id) => ({ id, object: "model", created: Math.floor(now / 1000), owned_by: "qwen" }))
})

const badRequest = (message: string) =>
  HttpServerResponse.jsonUnsafe(
    { error: { code: "invalid_request", type: "invalid_request_error", message } },
    { status: 400 }
  )

/** A message's text: a string, or the `text` parts of an array of content parts joined. */
const textOf = (content: unknown): string | undefined => {
  if (typeof content === "string") return content
  if (!Array.isArray(content)) return undefined
  const texts = content.flatMap((part) =>
    part !== null && typeof part === "object" && (part as { type?: unknown }).type === "text" &&
      typeof (part as { text?: unknown }).text === "string"
      ? [(part as { text: string }).text]
      : []
  )
  return texts.length === 0 ? undefined : texts.join("")
}

const lastUserText = (messages: ReadonlyArray<unknown>): string => {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown } | null
    if (m === null || typeof m !== "object" || m.role !== "user") continue
    const text = textOf(m.content)
    if (text !== undefined) return text
  }
  return ""
}

/**
 * `POST /v1/chat/completions`: a fixed assistant reply that quotes the last user message (so a
 * test can tell its request arrived; content given as an array of parts, as Qwen Code sends it,
 * is quoted by its text parts). `stream: true` gets the same reply as server-sent events.
 */
export const chatCompletion = (body: string, now: number): HttpServerResponse.HttpServerResponse => {
  let request: { model?: unknown; messages?: unknown; stream?: unknown }
  try {
    request = JSON.parse(body)
  } catch {
    return badRequest("The request body is not valid JSON.")
  }
  if (request === null || typeof request !== "object" || !Array.isArray(request.messages)) {
    return badRequest("messages must be an array.")
  }
  const model = typeof request.model === "string" ? request.model : MODEL_IDS[0]!
  const content = `qwen-emulator reply to: ${lastUserText(request.messages).slice(0, 200)}`
  const id = `chatcmpl-emu-${now.toString(36)}`
  const created = Math.floor(now / 1000)
  if (request.stream === true) {
    const chunk = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
    return HttpServerResponse.text(
      chunk({ role: "assistant", content }, null) + chunk({}, "stop") + "data: [DONE]\n\n",
      { contentType: "text/event-stream", headers: { "cache-control": "no-cache" } }
    )
  }
  return HttpServerResponse.jsonUnsafe({
    id,
    object: "chat.completion",
    created,
    model,
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }
  })
}
