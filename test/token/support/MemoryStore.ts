/**
 * An in-memory `CredentialStore` with the full contract: one lock (a semaphore) around `update`,
 * a refused-token list, logout, and a fingerprint that changes on every write. Counters and an
 * event log let tests check what the actor did under the lock; `peerWrite` simulates another
 * process (Qwen Code, OpenClaw, a new login) writing credentials.
 */
import { Clock, Effect, Layer, Redacted, Semaphore } from "effect"
import { Credentials, tokenHash } from "../../../src/domain/Credentials.ts"
import { LockError } from "../../../src/domain/Errors.ts"
import { CredentialStore, type Snapshot } from "../../../src/store/CredentialStore.ts"

export interface StoreEvent {
  readonly atMs: number
  readonly kind: "lock" | "unlock" | "write" | "peer-write" | "mark-refused" | "logout"
  /** Access token of the credentials written (tests only; fake tokens). */
  readonly access?: string | undefined
  readonly refresh?: string | undefined
}

export interface MemoryStore {
  readonly layer: Layer.Layer<CredentialStore>
  readonly service: CredentialStore["Service"]
  readonly counts: { load: number; update: number; save: number; markRefused: number; fingerprint: number; logout: number }
  readonly events: Array<StoreEvent>
  /** The credentials currently stored. */
  readonly stored: () => Credentials | undefined
  readonly lockHeld: () => boolean
  /** Another process writes credentials (changes the fingerprint). */
  readonly peerWrite: (credentials: Credentials, issuedLifetimeSeconds?: number) => Effect.Effect<void>
  /** Runs before each write under the lock (e.g. wait on a Deferred); default: nothing. */
  writeHook: Effect.Effect<void>
  /** The next this many `update`s fail as if the lock could not be taken in time. */
  lockTimeouts: number
}

export interface MemoryStoreInit {
  readonly credentials?: Credentials
  readonly issuedLifetimeSeconds?: number
}

const plain = (r: Redacted.Redacted<string> | undefined) => (r === undefined ? undefined : Redacted.value(r))

export const makeMemoryStore = (init: MemoryStoreInit = {}): Effect.Effect<MemoryStore> =>
  Effect.gen(function*() {
    let stored = init.credentials
    let lifetime = init.issuedLifetimeSeconds
    let loggedOut = false
    let version = 0
    let held = false
    const refused = new Set<string>()
    const lock = yield* Semaphore.make(1)
    const events: Array<StoreEvent> = []
    const counts = { load: 0, update: 0, save: 0, markRefused: 0, fingerprint: 0, logout: 0 }

    const log = (kind: StoreEvent["kind"], c?: Credentials) =>
      Effect.map(Clock.currentTimeMillis, (atMs) => {
        events.push(c === undefined ? { atMs, kind } : { atMs, kind, access: plain(c.accessToken), refresh: plain(c.refreshToken) })
      })

    const snapshot = (): Snapshot => {
      const isRefused = stored?.refreshToken !== undefined && refused.has(tokenHash(stored.refreshToken))
      // Like the real store: the issued lifetime (from the state file) completes the credentials.
      const credentials = isRefused || stored === undefined
        ? undefined
        : stored.lifetimeMs === undefined && lifetime !== undefined
        ? stored.with({ lifetimeMs: lifetime * 1000 })
        : stored
      return {
        credentials,
        source: credentials === undefined ? undefined : "openclaw",
        stale: false,
      behind: [],
        absentReason: credentials !== undefined ? undefined : isRefused ? "refused" : loggedOut ? "logged-out" : "none",
        problems: [],
        unreadable: [],
        files: []
      }
    }

    const write = (c: Credentials) =>
      Effect.gen(function*() {
        yield* self.writeHook
        stored = c
        if (c.lifetimeMs !== undefined) lifetime = c.lifetimeMs / 1000
        loggedOut = false
        version++
        yield* log("write", c)
      })

    const withLock = <A, E, R>(body: Effect.Effect<A, E, R>) =>
      lock.withPermits(1)(
        Effect.acquireUseRelease(
          Effect.map(log("lock"), () => {
            held = true
          }),
          () => body,
          () =>
            Effect.map(log("unlock"), () => {
              held = false
            })
        )
      )

    const service = CredentialStore.of({
      load: Effect.sync(() => {
        counts.load++
        return snapshot()
      }),
      save: (credentials) =>
        withLock(Effect.gen(function*() {
          counts.save++
          yield* write(credentials)
          return ["memory"]
        })),
      update: (f) =>
        withLock(Effect.gen(function*() {
          counts.update++
          if (self.lockTimeouts > 0) {
            self.lockTimeouts--
            return yield* new LockError({ path: "memory.lock", reason: "timeout", detail: "held by a peer" })
          }
          const decision = yield* f(snapshot())
          if (decision.next !== undefined) yield* write(decision.next)
          if (decision.refused !== undefined) {
            refused.add(tokenHash(decision.refused))
            version++
            yield* log("mark-refused")
          }
          return decision.result
        })),
      markRefused: (refreshToken) =>
        withLock(Effect.gen(function*() {
          counts.markRefused++
          if (refreshToken !== undefined) refused.add(tokenHash(refreshToken))
          version++
          yield* log("mark-refused")
        })),
      logout: () =>
        withLock(Effect.gen(function*() {
          counts.logout++
          const wasLoggedIn = stored !== undefined
          stored = undefined
          loggedOut = true
          version++
          yield* log("logout")
          return { removed: wasLoggedIn ? ["memory"] : [], wasLoggedIn }
        })),
      fingerprint: Effect.sync(() => {
        counts.fingerprint++
        return `v${version}`
      })
    })

    const self: MemoryStore = {
      layer: Layer.succeed(CredentialStore, service),
      service,
      counts,
      events,
      stored: () => stored,
      lockHeld: () => held,
      peerWrite: (credentials, issued) =>
        Effect.gen(function*() {
          stored = credentials
          if (issued !== undefined) lifetime = issued
          loggedOut = false
          version++
          yield* log("peer-write", credentials)
        }),
      writeHook: Effect.void,
      lockTimeouts: 0
    }
    return self
  })

/** Fake credentials for tests. */
export const creds = (access: string, refresh: string | undefined, expiresAt: number, resourceUrl = "portal.qwen.ai") =>
  new Credentials({
    accessToken: Redacted.make(access),
    ...(refresh !== undefined ? { refreshToken: Redacted.make(refresh) } : {}),
    tokenType: "Bearer",
    expiresAt,
    resourceUrl
  })
