/**
 * How doctor names a connection it could not make: the host, and the proxy it went through (or
 * that it went direct), never a proxy's credentials.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { proxyEnv, proxyFor } from "../internal/HttpClientLayer.ts"

const originOf = (url: string): string => {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}`
  } catch {
    return "(an invalid proxy URL)"
  }
}

/** "host chat.qwen.ai, through proxy http://proxy:3128" / "host 127.0.0.1:9, direct (no proxy)". */
export const route = (url: string): Effect.Effect<string> =>
  Effect.map(proxyEnv, (env) => {
    let host = url
    try {
      host = new URL(url).host
    } catch {
      // named as given
    }
    const proxy = proxyFor(url, env)
    return `host ${host}, ${proxy === undefined ? "direct (no proxy)" : `through proxy ${originOf(proxy)}`}`
  })
