/**
 * The real `HttpClient`: undici through `@effect/platform-node`, with HTTPS_PROXY / HTTP_PROXY /
 * NO_PROXY honoured for non-loopback hosts and loopback never proxied (cli-contract.md
 * "Configuration"). Redirects are not followed: undici's dispatcher only follows them with a
 * redirect interceptor, which this layer does not add, so a form carrying a refresh token is
 * never re-sent to another host.
 *
 * @since 0.1.0
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Undici from "@effect/platform-node/Undici"
import { Config, Effect, Layer, Option } from "effect"
import type { HttpClient } from "effect/http"
import { isLoopbackHost } from "../oauth/Trust.ts"

/** The proxy variables, lower-case names first as curl does. */
export interface ProxyEnv {
  readonly httpsProxy?: string | undefined
  readonly httpProxy?: string | undefined
  readonly noProxy?: string | undefined
}

const DEFAULT_PORT: Record<string, string> = { "http:": "80", "https:": "443" }

const stripBrackets = (h: string) => h.replace(/^\[|\]$/g, "")

/** A NO_PROXY entry split into host and optional port (`[::1]:8080`, `host:443`, bare IPv6). */
const parseEntry = (entry: string): { readonly name: string; readonly port: string | undefined } => {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry)
  if (bracketed !== null) return { name: bracketed[1] ?? "", port: bracketed[2] }
  const hostPort = /^([^:]+):(\d+)$/.exec(entry)
  if (hostPort !== null) return { name: hostPort[1] ?? "", port: hostPort[2] }
  return { name: entry, port: undefined }
}

/** Does one NO_PROXY entry (`host`, `.suffix`, `*.suffix`, `host:port`, `*`) cover this host? */
const noProxyMatches = (entry: string, host: string, port: string): boolean => {
  if (entry === "*") return true
  const parsed = parseEntry(entry)
  if (parsed.port !== undefined && parsed.port !== port) return false
  const bare = parsed.name.replace(/^\*?\./, "").toLowerCase()
  if (bare === "") return false
  return host === bare || host.endsWith(`.${bare}`)
}

/**
 * Which proxy, if any, a request to `url` goes through. Pure, so it is unit-tested.
 * Loopback is always direct; `https:` uses HTTPS_PROXY (else HTTP_PROXY), `http:` uses HTTP_PROXY.
 *
 * @returns the proxy URL, or `undefined` for a direct connection.
 */
export const proxyFor = (url: string | URL, env: ProxyEnv): string | undefined => {
  let u: URL
  try {
    u = typeof url === "string" ? new URL(url) : url
  } catch {
    return undefined
  }
  const host = stripBrackets(u.hostname.toLowerCase())
  if (isLoopbackHost(host)) return undefined
  const port = u.port || DEFAULT_PORT[u.protocol] || ""
  const entries = (env.noProxy ?? "").split(/[\s,]+/).map((e) => e.trim()).filter((e) => e !== "")
  if (entries.some((e) => noProxyMatches(e, host, port))) return undefined
  const raw = u.protocol === "https:"
    ? env.httpsProxy || env.httpProxy
    : u.protocol === "http:"
    ? env.httpProxy
    : undefined
  if (raw === undefined || raw.trim() === "") return undefined
  const proxy = raw.trim()
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`
}

/** Reads the proxy variables through Effect's ConfigProvider (the environment by default). */
export const proxyEnv: Effect.Effect<ProxyEnv> = Effect.gen(function*() {
  const read = (name: string) => Config.option(Config.String(name)).pipe(Effect.map(Option.getOrUndefined))
  const first = (...values: Array<string | undefined>) => values.find((v) => v !== undefined && v.trim() !== "")
  return {
    httpsProxy: first(yield* read("https_proxy"), yield* read("HTTPS_PROXY")),
    httpProxy: first(yield* read("http_proxy"), yield* read("HTTP_PROXY")),
    noProxy: first(yield* read("no_proxy"), yield* read("NO_PROXY"))
  }
}).pipe(Effect.orDie)

/**
 * An undici Agent whose per-origin dispatcher is a pool (direct) or a ProxyAgent, as `proxyFor`
 * decides once per origin.
 */
export const agentOptions = (env: ProxyEnv): Undici.Agent.Options => ({
  factory: (origin, opts) => {
    const proxy = proxyFor(String(origin), env)
    return proxy === undefined ? new Undici.Pool(origin, opts) : new Undici.ProxyAgent({ ...opts, uri: proxy })
  }
})

/** The `HttpClient` for the given proxy variables. */
export const layerWith = (env: ProxyEnv): Layer.Layer<HttpClient.HttpClient> =>
  NodeHttpClient.layerUndiciOptions(agentOptions(env))

/**
 * The `HttpClient` for production, proxy variables from the environment.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<HttpClient.HttpClient> = Layer.unwrap(Effect.map(proxyEnv, layerWith))
