/**
 * Command-line flags of `npm run emulator` → `EmulatorOptions` (emulator.md "Flags").
 *
 * Hand-parsed rather than through `effect/cli` because `--deny [N]` takes an optional value.
 * Pure: returns the options or a message for the user.
 *
 * @since 0.1.0
 */
import { FAULT_KINDS, type FaultKind, type EmulatorOptions, QUIRKS, type Quirk } from "./EmulatorConfig.ts"

/** @since 0.1.0 @category models */
export type ParsedFlags =
  | { readonly _tag: "Options"; readonly options: EmulatorOptions }
  | { readonly _tag: "Help" }
  | { readonly _tag: "Invalid"; readonly message: string }

/** @since 0.1.0 @category constants */
export const USAGE = `usage: npm run -s emulator -- [flags]
  --port N                  listen port on 127.0.0.1 (0 = any free port; default 0)
  --client-id ID            accepted client id (default: Qwen Code's)
  --scope "WORDS"           granted scope (default: "openid profile email model.completion")
  --auto-approve-after N    approve at the N-th accepted poll (off)
  --deny [N]                deny at the N-th accepted poll (N = 1 when omitted)
  --slow-down-polls N       answer the first N polls of each device code with 429 slow_down (0)
  --device-code-ttl S       device code lifetime in seconds (600)
  --interval S              required poll interval in seconds (5)
  --no-interval             omit "interval" from device responses
  --access-ttl S            access token lifetime in seconds (21600)
  --login-access-ttl S      access token lifetime of logins (device grants) only (default: --access-ttl)
  --no-rotate               keep refresh tokens valid after use
  --quota N                 API calls per UTC day (2000)
  --resource-url V|none     resource_url in token responses (default: own origin)
  --refresh-resource-url V|none  resource_url in refresh answers only (default: as --resource-url)
  --refresh-delay MS        hold each refresh_token grant MS milliseconds before processing it (0)
  --quirk pending-200       answer pending polls with HTTP 200 {"status":"pending"}
  --discontinued            the API answers every token 401 (device flow and refresh still work)
  --moved                   both OAuth endpoints answer 404 with an HTML page
  --reject-client           every OAuth endpoint answers 401 {"error":"invalid_client"}
                            (at most one mode flag; switch at run time with
                            POST /__emulator/mode?set=normal|discontinued|moved|reject-client)
  --fault-rate F            share (0..1) of OAuth and API requests that get a fault (0)
  --faults LIST             comma list of 500,delay,drop,html,lost-response (default none)
  --seed S                  fault PRNG seed (random, printed on stderr)`

const NUMBER_FLAGS = {
  "--port": "port",
  "--auto-approve-after": "autoApproveAfter",
  "--slow-down-polls": "slowDownPolls",
  "--device-code-ttl": "deviceCodeTtl",
  "--interval": "interval",
  "--access-ttl": "accessTtl",
  "--login-access-ttl": "loginAccessTtl",
  "--quota": "quota",
  "--fault-rate": "faultRate",
  "--refresh-delay": "refreshDelay"
} as const

const INTEGER_FLAGS = new Set(["--port", "--auto-approve-after", "--slow-down-polls", "--quota", "--refresh-delay"])
const POSITIVE_FLAGS = new Set(["--auto-approve-after", "--device-code-ttl", "--access-ttl", "--login-access-ttl"])

/** The mode flags (mutually exclusive) → their config field. */
const MODE_FLAGS = {
  "--discontinued": "discontinued",
  "--moved": "moved",
  "--reject-client": "rejectClient"
} as const

const isCount = (s: string | undefined): s is string => s !== undefined && /^\d+$/.test(s)

/**
 * Parses the arguments after `--`. Accepts `--flag value` and `--flag=value`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseFlags = (argv: ReadonlyArray<string>): ParsedFlags => {
  const options: Record<string, unknown> = {}
  const quirks: Array<Quirk> = []
  let modeFlag: string | undefined
  const invalid = (message: string): ParsedFlags => ({ _tag: "Invalid", message })
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1
    const name = eq > 0 ? arg.slice(0, eq) : arg
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined
    const value = (): string | undefined => {
      if (inline !== undefined) return inline
      const next = argv[i + 1]
      if (next === undefined) return undefined
      i++
      return next
    }
    if (name === "--help" || name === "-h") return { _tag: "Help" }
    if (name in MODE_FLAGS) {
      if (inline !== undefined) return invalid(`${name} takes no value`)
      if (modeFlag !== undefined && modeFlag !== name) return invalid(`${modeFlag} and ${name} exclude each other`)
      modeFlag = name
      options[MODE_FLAGS[name as keyof typeof MODE_FLAGS]] = true
      continue
    }
    if (name in NUMBER_FLAGS) {
      const raw = value()
      const n = raw === undefined || raw.trim() === "" ? Number.NaN : Number(raw)
      if (!Number.isFinite(n) || n < 0) return invalid(`${name} needs a non-negative number, got ${raw ?? "nothing"}`)
      if (INTEGER_FLAGS.has(name) && !Number.isInteger(n)) return invalid(`${name} needs an integer, got ${raw}`)
      if (POSITIVE_FLAGS.has(name) && n <= 0) return invalid(`${name} must be greater than 0`)
      if (name === "--port" && n > 65535) return invalid(`--port must be at most 65535`)
      if (name === "--fault-rate" && n > 1) return invalid(`--fault-rate must be between 0 and 1`)
      options[NUMBER_FLAGS[name as keyof typeof NUMBER_FLAGS]] = n
      continue
    }
    switch (name) {
      case "--client-id":
      case "--scope":
      case "--resource-url":
      case "--refresh-resource-url":
      case "--seed": {
        const raw = value()
        if (raw === undefined || raw.trim() === "") return invalid(`${name} needs a value`)
        const key = name === "--client-id" ? "clientId" : name === "--scope" ? "scope" :
          name === "--resource-url" ? "resourceUrl" : name === "--refresh-resource-url" ? "refreshResourceUrl" : "seed"
        options[key] = raw.trim()
        break
      }
      case "--deny": {
        if (inline !== undefined) {
          if (!isCount(inline) || Number(inline) < 1) return invalid(`--deny needs a positive integer, got ${inline}`)
          options.deny = Number(inline)
        } else if (isCount(argv[i + 1])) {
          const n = Number(argv[++i])
          if (n < 1) return invalid(`--deny needs a positive integer, got ${n}`)
          options.deny = n
        } else {
          options.deny = 1
        }
        break
      }
      case "--no-interval":
        options.noInterval = true
        break
      case "--no-rotate":
        options.noRotate = true
        break
      case "--quirk": {
        const raw = value() ?? ""
        for (const q of raw.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
          if (!(QUIRKS as ReadonlyArray<string>).includes(q)) {
            return invalid(`unknown quirk ${q}; known: ${QUIRKS.join(", ")}`)
          }
          quirks.push(q as Quirk)
        }
        if (raw.trim() === "") return invalid(`--quirk needs a value`)
        break
      }
      case "--faults": {
        const raw = value() ?? ""
        const kinds: Array<FaultKind> = []
        for (const k of raw.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
          if (!(FAULT_KINDS as ReadonlyArray<string>).includes(k)) {
            return invalid(`unknown fault ${k}; known: ${FAULT_KINDS.join(", ")}`)
          }
          kinds.push(k as FaultKind)
        }
        if (kinds.length === 0) return invalid(`--faults needs a list such as 500,drop`)
        options.faults = kinds
        break
      }
      default:
        return invalid(`unknown flag ${arg}`)
    }
  }
  if (quirks.length > 0) options.quirk = quirks
  return { _tag: "Options", options: options as EmulatorOptions }
}
