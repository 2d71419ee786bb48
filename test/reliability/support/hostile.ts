/**
 * A hostile OAuth server on 127.0.0.1 (issue 13) for driving the built CLI: each test scripts the
 * answers to the device-code and token endpoints, and the server records every form it received,
 * so the secrets a request carried (device code, PKCE verifier, refresh token) are known by value
 * to the output scanner. Plus the scanner itself: secrets by value (and percent-encoded) and the
 * bytes a terminal acts on (ESC, BEL, CSI as C1, DEL, the bidi overrides and isolates).
 */
import { createServer, type IncomingMessage, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import type { Home } from "./home.ts"
import { join } from "node:path"

export interface HostileRequest {
  /** 0-based position among all requests. */
  readonly n: number
  readonly path: string
  readonly form: Readonly<Record<string, string>>
  readonly headers: IncomingMessage["headers"]
  /** Milliseconds since the server started. */
  readonly atMs: number
}

export interface HostileReply {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>>
  /** A string is sent as is (`text/html` unless headers say otherwise); anything else as JSON. */
  readonly body?: unknown
}

export type HostileHandler = (request: HostileRequest, server: HostileServer) => HostileReply | undefined

export interface HostileServer {
  readonly url: string
  readonly port: number
  readonly seen: ReadonlyArray<HostileRequest>
  /** Requests to the token endpoint with the device grant. */
  readonly polls: () => ReadonlyArray<HostileRequest>
  /** Refresh grants received. */
  readonly refreshes: () => ReadonlyArray<HostileRequest>
  /** Every secret value a request carried (device codes, verifiers, refresh tokens). */
  readonly received: () => ReadonlyArray<string>
  stop(): Promise<void>
}

export const DEVICE_PATH = "/api/v1/oauth2/device/code"
export const TOKEN_PATH = "/api/v1/oauth2/token"
const SECRET_FIELDS = ["device_code", "code_verifier", "refresh_token"]

export const startHostile = (handler: HostileHandler): Promise<HostileServer> =>
  new Promise((resolve) => {
    const seen: Array<HostileRequest> = []
    const started = Date.now()
    let self: HostileServer
    const server: Server = createServer((req, res) => {
      let body = ""
      req.setEncoding("utf8")
      req.on("data", (d: string) => (body += d))
      req.on("end", () => {
        const request: HostileRequest = {
          n: seen.length,
          path: (req.url ?? "").split("?")[0] ?? "",
          form: Object.fromEntries(new URLSearchParams(body)),
          headers: req.headers,
          atMs: Date.now() - started
        }
        seen.push(request)
        const r = handler(request, self) ?? { status: 404, body: { error: "not_found" } }
        const text = typeof r.body === "string" ? r.body : r.body === undefined ? "" : JSON.stringify(r.body)
        res.writeHead(r.status, {
          "content-type": typeof r.body === "string" ? "text/html" : "application/json",
          ...r.headers
        })
        res.end(text)
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as AddressInfo).port
      self = {
        url: `http://127.0.0.1:${port}`,
        port,
        seen,
        polls: () => seen.filter((r) => r.path === TOKEN_PATH && r.form["grant_type"]?.includes("device_code")),
        refreshes: () => seen.filter((r) => r.path === TOKEN_PATH && r.form["grant_type"] === "refresh_token"),
        received: () => [...new Set(seen.flatMap((r) => SECRET_FIELDS.map((f) => r.form[f]).filter((v): v is string => !!v)))],
        stop: () =>
          new Promise((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
      }
      resolve(self)
    })
  })

// -------------------------------------------------------------------------------------------------
// Building hostile answers

/** Terminal escapes of every kind the issue saw: clear screen, title, OSC 8 link, CSI as C1, bidi. */
export const ESCAPES = "\u001b[2J\u001b[H\u001b]0;pwned\u0007\u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\" +
  "\u009b31m\u007f\u202eevil\u202c\u2066x\u2069\r\nqwen-auth: Logged in. Enter your password:"

/** `text` with every secret in it, raw and as the form body carried it. */
export const echoOf = (secrets: ReadonlyArray<string>, text = "echo"): string =>
  `${text}: ${secrets.join(" ")} ${secrets.map((s) => new URLSearchParams({ v: s }).toString()).join("&")} ${ESCAPES}`

/** A device answer; `verification_uri` on the server itself unless overridden. */
export const deviceAnswer = (server: HostileServer, deviceCode: string, extra: Record<string, unknown> = {}): HostileReply => ({
  status: 200,
  body: {
    device_code: deviceCode,
    user_code: "BCDF-GHJK",
    verification_uri: `${server.url}/authorize`,
    verification_uri_complete: `${server.url}/authorize?user_code=BCDF-GHJK`,
    expires_in: 120,
    interval: 1,
    ...extra
  }
})

export const tokenAnswer = (access: string, refresh: string, extra: Record<string, unknown> = {}): HostileReply => ({
  status: 200,
  body: { access_token: access, refresh_token: refresh, token_type: "Bearer", expires_in: 21600, ...extra }
})

// -------------------------------------------------------------------------------------------------
// Scanning output

/** What a terminal acts on: ESC, BEL, CSI (C1), DEL, NUL and the bidi embeddings, overrides and isolates. */
// eslint-disable-next-line no-control-regex
const TERMINAL_BYTES = /[\u0000\u0007\u001b\u007f\u0080-\u009f\u202a-\u202e\u2066-\u2069]/g

/** The terminal bytes in `text`, named (`U+001B` …). */
export const escapeBytesIn = (text: string): Array<string> =>
  [...new Set(text.match(TERMINAL_BYTES) ?? [])].map((c) => `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`)

/** The secrets found in `text` by value (raw, percent-encoded, or a 16-character piece), abbreviated. */
export const secretsIn = (text: string, secrets: ReadonlyArray<string>): Array<string> =>
  secrets.filter((s) => s.length >= 16).filter((s) =>
    text.includes(s) || text.includes(encodeURIComponent(s)) || text.includes(s.slice(0, 16)) || text.includes(s.slice(-16))
  ).map((s) => `${s.slice(0, 6)}…(${s.length})`)

export interface Output {
  readonly label: string
  readonly stdout: string
  readonly stderr: string
  /** The one value this output may hold on stdout: the access token `token` prints. */
  readonly allowedOnStdout?: string | undefined
}

/**
 * Every leak in `outputs`: a secret by value or a terminal byte. The one exception is exact: the
 * current access token, once, as the whole of `token`'s stdout (or its `accessToken` field).
 */
export const leaks = (outputs: ReadonlyArray<Output>, secrets: ReadonlyArray<string>): Array<string> =>
  outputs.flatMap((o) => {
    let stdout = o.stdout
    if (o.allowedOnStdout !== undefined) {
      const plain = `${o.allowedOnStdout}\n`
      const json = `"accessToken": ${JSON.stringify(o.allowedOnStdout)}`
      stdout = stdout === plain ? "" : stdout.replace(json, "\"accessToken\": \"\"")
    }
    return [
      ...secretsIn(stdout, secrets).map((s) => `${o.label} stdout: secret ${s}`),
      ...secretsIn(o.stderr, secrets).map((s) => `${o.label} stderr: secret ${s}`),
      ...escapeBytesIn(o.stdout).map((c) => `${o.label} stdout: ${c}`),
      ...escapeBytesIn(o.stderr).map((c) => `${o.label} stderr: ${c}`)
    ]
  })

/** A JSON file holding a control character as an escape (`JSON.stringify` writes C0 that way). */
const JSON_ESCAPED_CONTROL = /\\u00[01][0-9a-f]|\\u007f|\\u009[0-9a-f]|\\u202[a-e]|\\u206[6-9]/i

/** Every regular file under `dir` whose text holds a terminal byte (raw or JSON-escaped) or one of `needles`. */
export const filesHolding = (dir: string, needles: ReadonlyArray<string> = []): Array<string> => {
  const found: Array<string> = []
  const walk = (d: string) => {
    if (!existsSync(d)) return
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      const s = lstatSync(p)
      if (s.isDirectory()) walk(p)
      else if (s.isFile()) {
        const text = readFileSync(p, "utf8")
        const bytes = escapeBytesIn(text)
        if (JSON_ESCAPED_CONTROL.test(text)) bytes.push("a JSON-escaped control character")
        const hits = needles.filter((n) => text.includes(n))
        if (bytes.length > 0 || hits.length > 0) found.push(`${p}: ${[...bytes, ...hits].join(", ")}`)
      }
    }
  }
  walk(dir)
  return found
}

// -------------------------------------------------------------------------------------------------
// A stored login

/** A stored login in every copy qwen-auth keeps (Qwen Code's file, its own, OpenClaw's profile). */
export const seedTokens = (home: Home, access: string, refresh: string, expiresAt: number, extra: Record<string, unknown> = {}) => {
  const text = JSON.stringify({ access_token: access, token_type: "Bearer", refresh_token: refresh, expiry_date: expiresAt, ...extra })
  const profiles = JSON.stringify({
    version: 1,
    profiles: { "qwen-portal:default": { type: "oauth", provider: "qwen-portal", access, refresh, expires: expiresAt } }
  })
  mkdirSync(home.agent, { recursive: true, mode: 0o700 })
  for (const [path, contents] of [[home.creds, text], [home.own, text], [home.profiles, profiles]] as const) {
    writeFileSync(path, contents, { mode: 0o600 })
    chmodSync(path, 0o600)
  }
}
