/**
 * The emulator's configuration (emulator.md "Flags"). Field names are the flags' names in
 * camelCase, so `--auto-approve-after 2` is `{ autoApproveAfter: 2 }`.
 *
 * @since 0.1.0
 */
import { DEFAULT_CLIENT_ID, DEFAULT_SCOPE } from "../Config.ts"

/** @since 0.1.0 @category models */
export type FaultKind = "500" | "delay" | "drop" | "html" | "lost-response"

/** @since 0.1.0 @category constants */
export const FAULT_KINDS: ReadonlyArray<FaultKind> = ["500", "delay", "drop", "html", "lost-response"]

/** @since 0.1.0 @category models */
export type Quirk = "pending-200"

/** @since 0.1.0 @category constants */
export const QUIRKS: ReadonlyArray<Quirk> = ["pending-200"]

/**
 * The server's state as a whole (emulator.md `--discontinued`, `--moved`, `--reject-client`):
 * `discontinued` refuses every API call, `moved` and `reject-client` every OAuth request.
 * Switchable at run time with `POST /__emulator/mode?set=…`.
 *
 * @since 0.1.0
 * @category models
 */
export type EmulatorMode = "normal" | "discontinued" | "moved" | "reject-client"

/** @since 0.1.0 @category constants */
export const MODES: ReadonlyArray<EmulatorMode> = ["normal", "discontinued", "moved", "reject-client"]

/** @since 0.1.0 @category guards */
export const isMode = (s: string): s is EmulatorMode => (MODES as ReadonlyArray<string>).includes(s)

/**
 * Every setting, resolved. Durations are in seconds, as on the command line.
 *
 * @since 0.1.0
 * @category models
 */
export interface EmulatorConfig {
  /** 0 = any free port. The emulator always binds 127.0.0.1. */
  readonly port: number
  readonly clientId: string
  /** The scope it grants; a request may ask for any subset of these words. */
  readonly scope: string
  /** Approve when the N-th accepted poll is answered; `undefined` = never by itself. */
  readonly autoApproveAfter: number | undefined
  /** Deny at the N-th accepted poll (`--deny` alone = 1); `undefined` = off. */
  readonly deny: number | undefined
  readonly slowDownPolls: number
  readonly deviceCodeTtl: number
  readonly interval: number
  /** Omit `interval` from device responses (the required interval is still `interval`). */
  readonly noInterval: boolean
  readonly accessTtl: number
  /** Access token lifetime of device grants (logins) only; `undefined` = `accessTtl`. */
  readonly loginAccessTtl: number | undefined
  readonly noRotate: boolean
  readonly quota: number
  /** `undefined` = the emulator's own origin; `"none"` omits the field. */
  readonly resourceUrl: string | undefined
  /** `resource_url` in refresh answers only (a server that moves or turns hostile after login); `undefined` = as `resourceUrl`. */
  readonly refreshResourceUrl: string | undefined
  /**
   * Milliseconds the token endpoint holds every `refresh_token` grant before processing it (a slow
   * server); 0 = answer at once. A client that gives up meanwhile leaves the refresh token unspent.
   */
  readonly refreshDelay: number
  readonly quirk: ReadonlyArray<Quirk>
  /** Start in mode `discontinued` (at most one of the three mode flags). */
  readonly discontinued: boolean
  /** Start in mode `moved`. */
  readonly moved: boolean
  /** Start in mode `reject-client`. */
  readonly rejectClient: boolean
  readonly faultRate: number
  /** Kinds to draw from; empty with a positive rate means all kinds. */
  readonly faults: ReadonlyArray<FaultKind>
  /** PRNG seed for faults; `undefined` = a random one (reported by `Emulator.seed`). */
  readonly seed: string | undefined
}

/** @since 0.1.0 @category constants */
export const defaultConfig: EmulatorConfig = {
  port: 0,
  clientId: DEFAULT_CLIENT_ID,
  scope: DEFAULT_SCOPE,
  autoApproveAfter: undefined,
  deny: undefined,
  slowDownPolls: 0,
  deviceCodeTtl: 600,
  interval: 5,
  noInterval: false,
  accessTtl: 21_600,
  loginAccessTtl: undefined,
  noRotate: false,
  quota: 2000,
  resourceUrl: undefined,
  refreshResourceUrl: undefined,
  refreshDelay: 0,
  quirk: [],
  discontinued: false,
  moved: false,
  rejectClient: false,
  faultRate: 0,
  faults: [],
  seed: undefined
}

/**
 * Input for the in-process emulator: any subset of the fields (optional ones may be `undefined`).
 *
 * @since 0.1.0
 * @category models
 */
export type EmulatorOptions = { readonly [K in keyof EmulatorConfig]?: EmulatorConfig[K] | undefined }

/** @since 0.1.0 @category constructors */
export const resolveConfig = (options: EmulatorOptions = {}): EmulatorConfig => {
  const out: Record<string, unknown> = { ...defaultConfig }
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) out[key] = value
  }
  return out as unknown as EmulatorConfig
}

/** The fault kinds actually drawn from: `--faults` (default none, as emulator.md says) at a rate above 0. */
export const activeFaults = (config: EmulatorConfig): ReadonlyArray<FaultKind> =>
  config.faultRate <= 0 ? [] : config.faults

/**
 * The mode the emulator starts in (and `reset` returns to); `undefined` when more than one mode
 * flag is set, which the flag parser refuses and `make` treats as a programming error.
 */
export const startMode = (config: EmulatorConfig): EmulatorMode | undefined => {
  const set: Array<EmulatorMode> = []
  if (config.discontinued) set.push("discontinued")
  if (config.moved) set.push("moved")
  if (config.rejectClient) set.push("reject-client")
  return set.length === 0 ? "normal" : set.length === 1 ? set[0] : undefined
}
