/**
 * The token actor's implementation (style.md 9). State lives in a `SynchronizedRef` and changes
 * only through jobs (one refresh attempt, or one reload of the files); at most one job runs at a
 * time, forked into the layer's scope so an interrupted caller never loses a rotated token. One
 * supervised fiber schedules the background work: the refresh at `advisoryAt − jitter`, retries
 * with backoff outside the locks, and a cheap file check while a login is needed.
 *
 * @since 0.1.0
 */
import { Cause, Clock, Duration, Effect, Exit, Fiber, Option, Queue, Random, Redacted, type Stream, SubscriptionRef, SynchronizedRef } from "effect"
import { HttpClient } from "effect/http"
import type { Settings } from "../Config.ts"
import { type Credentials, effectiveMarginMs, tokenHash } from "../domain/Credentials.ts"
import { LoginRequired } from "../domain/Errors.ts"
import { checkResourceUrl } from "../oauth/Trust.ts"
import type { CredentialStore } from "../store/CredentialStore.ts"
import { delayAfter, makeStepper } from "./Backoff.ts"
import type { ActorEvent, ActorOptions } from "./ActorEvent.ts"
import * as Refresh from "./Refresh.ts"
import { absentSlot, brokenSlot, dueAt, failedSlot, readySlot, type Slot, startingSlot } from "./Slot.ts"
import { type RefreshFailure, RefreshDefect, TokenUnavailable } from "./TokenErrors.ts"
import { type AccessToken, TokenState } from "./TokenState.ts"

export interface ActorDeps {
  readonly settings: Settings
  readonly store: CredentialStore["Service"]
  readonly http: HttpClient.HttpClient
  readonly baseUrl: string | undefined
  /** Whether a reload writes the copies that are behind (see `TokenManagerOptions`). */
  readonly repairCopies?: boolean | undefined
  /** The daemon's extras (a minimum margin, file watching, events); the Layer passes none. */
  readonly options?: ActorOptions | undefined
}

export interface Actor {
  readonly get: Effect.Effect<AccessToken, LoginRequired | TokenUnavailable>
  readonly refresh: (ifCurrent?: Redacted.Redacted<string>) => Effect.Effect<AccessToken, LoginRequired | TokenUnavailable>
  readonly state: Effect.Effect<TokenState>
  readonly changes: Stream.Stream<TokenState>
  /** When the actor next acts on its own (refresh or retry), if it holds a token. */
  readonly nextRefreshAt: Effect.Effect<number | undefined>
  /**
   * Stops the background work and waits for the job in flight (a refresh persists before this
   * returns). For a front end that shuts down on a signal; the scope still has to close.
   */
  readonly drain: Effect.Effect<void>
}

type Job =
  | { readonly _tag: "Refresh"; readonly failedToken: Redacted.Redacted<string> | undefined }
  | { readonly _tag: "Reload" }

type Started = { readonly fiber: Fiber.Fiber<Slot> } | { readonly refused: TokenUnavailable }

const RELOAD: Job = { _tag: "Reload" }
const SCHEDULED: Job = { _tag: "Refresh", failedToken: undefined }

const same = (a: Redacted.Redacted<string>, b: Redacted.Redacted<string>) => Redacted.value(a) === Redacted.value(b)
const reasonOf = (state: TokenState) =>
  state._tag === "NeedsLogin" ? state.reason : "No Qwen credentials are stored (never logged in, or logged out)."
const sameState = (a: TokenState, b: TokenState) => JSON.stringify(a) === JSON.stringify(b)

/** Builds the actor in the current (layer) scope; its fibers stop when the scope closes. */
export const makeActor = Effect.fnUntraced(function*(deps: ActorDeps) {
  const { http, store } = deps
  const options = deps.options ?? {}
  const onEvent = options.onEvent
  const retryPastExpiry = options.retryPastExpiry === true
  // A minimum margin (the daemon refreshes well before any host would) is a larger margin for
  // everything: the schedule, and which stored token the refresh transaction counts as due.
  const margin = options.minMargin !== undefined && Duration.isGreaterThan(options.minMargin, deps.settings.refreshMargin)
    ? options.minMargin
    : deps.settings.refreshMargin
  const settings: Settings = margin === deps.settings.refreshMargin ? deps.settings : { ...deps.settings, refreshMargin: margin }
  const scope = yield* Effect.scope
  const slotRef = yield* SynchronizedRef.make<Slot>(startingSlot)
  const stateRef = yield* SubscriptionRef.make<TokenState>(startingSlot.state)
  const inflight = yield* SynchronizedRef.make<Fiber.Fiber<Slot> | undefined>(undefined)
  /** Wakes the scheduler after a job changed the state. */
  const wake = yield* Queue.sliding<void>(1)
  // Mutated only by jobs, which never overlap.
  let stepper = yield* makeStepper(settings)
  let fingerprint = ""
  /** Whether the job that just ran persisted a refresh of its own (for the events). */
  let refreshedHere = false
  const refusedHere = new Set<string>()

  // ---------------------------------------------------------------------------------------------
  // Jobs: the only code that replaces the slot
  // ---------------------------------------------------------------------------------------------

  const adopt = Effect.fnUntraced(function*(credentials: Credentials) {
    const baseUrl = deps.baseUrl ?? (yield* checkResourceUrl(settings, credentials.resourceUrl))
    const windows = credentials.windows(margin)
    // protocol.md §4: fire at `expiry − margin − jitter` so processes do not refresh in lockstep.
    const jitterMs = yield* Random.nextBetween(
      0,
      settings.jitter * effectiveMarginMs(Duration.toMillis(margin), credentials.lifetimeMs)
    )
    stepper = yield* makeStepper(settings)
    return readySlot(credentials, baseUrl, windows, Math.floor(windows.advisoryAt - jitterMs))
  })

  const reload = Effect.gen(function*() {
    // Fingerprint first: a write that lands after it is seen by the next check.
    fingerprint = yield* store.fingerprint
    const snapshot = yield* store.load
    const now = yield* Clock.currentTimeMillis
    const c = snapshot.credentials
    if (c === undefined) return absentSlot(snapshot.absentReason ?? "none")
    if (c.refreshToken !== undefined && refusedHere.has(tokenHash(c.refreshToken))) return absentSlot("refused")
    if (!c.refreshable && c.isExpired(now)) return absentSlot("not-refreshable")
    // A copy that is missing or behind (a peer refreshed, Qwen Code deleted its file) is brought up
    // to date now: a host reading it would otherwise ask for a login or spend a dead chain.
    if (snapshot.stale && deps.repairCopies !== false) yield* heal
    // The same tokens as held (our own write, a peer touching a file): keep the schedule as it is.
    const held = SynchronizedRef.getUnsafe(slotRef)
    if (held.token !== undefined && held.credentials !== undefined && c.sameTokens(held.credentials)) return held
    return yield* adopt(c)
  })

  /** Writes the winning credentials to every copy that is behind, under the locks (re-read there). */
  const heal = store.update((current) =>
    Effect.succeed({ next: current.stale ? current.credentials : undefined, result: undefined })
  ).pipe(
    Effect.catch((error) => Effect.logDebug(`Could not bring every credential copy up to date: ${error.message}`))
  )

  const refreshOnce = Effect.fnUntraced(function*(before: Slot, failedToken: Redacted.Redacted<string> | undefined) {
    const outcome = yield* Refresh.run(store, settings, { known: before.credentials, failedToken }).pipe(
      Effect.provideService(HttpClient.HttpClient, http)
    )
    switch (outcome._tag) {
      case "Refreshed":
        refreshedHere = true
        return yield* adopt(outcome.credentials)
      case "Adopted":
        return yield* adopt(outcome.credentials)
      case "Absent":
        return absentSlot(outcome.reason)
      case "Refused": {
        // Found under the locks with nothing newer stored, and recorded as refused by the store
        // in the same step (deleting nothing). Remembered here too, in case the record is lost.
        refusedHere.add(tokenHash(outcome.refreshToken))
        if (onEvent === undefined) yield* Effect.logWarning("Qwen refused the refresh token (invalid_grant); run `qwen-auth login`")
        // A login written meanwhile heals at once.
        return yield* reload
      }
    }
  })

  const failure = Effect.fnUntraced(function*(before: Slot, cause: Cause.Cause<RefreshFailure>) {
    const found = Cause.findErrorOption(cause)
    if (Option.isNone(found)) yield* Effect.logError("Token refresh failed unexpectedly; the actor carries on", cause)
    const reason = Option.isSome(found) ? found.value : new RefreshDefect({ detail: "unexpected error (see the log)" })
    const error = new TokenUnavailable({ reason })
    if (before.token === undefined) return brokenSlot(error)
    const now = yield* Clock.currentTimeMillis
    const delayMs = delayAfter(settings, reason, yield* stepper)
    if (onEvent === undefined) {
      yield* Effect.logWarning(`Token refresh failed: ${reason.message}; next attempt in ${Math.ceil(delayMs / 1000)} s`)
    }
    return failedSlot(before, error, now + delayMs)
  })

  const publish = (state: TokenState) =>
    Effect.flatMap(SubscriptionRef.get(stateRef), (current) =>
      sameState(current, state) ? Effect.void : SubscriptionRef.set(stateRef, state))

  /** What a job that turned `before` into `next` tells a front end, if anything. */
  const eventOf = (before: Slot, next: Slot, first: boolean): ActorEvent | undefined => {
    // The first load is the front end's to report (with its own start).
    if (first) return undefined
    if (next.token !== undefined) {
      const timing = { expiresAt: next.token.expiresAt, nextRefreshAt: dueAt(next, retryPastExpiry) }
      if (next.lastError !== undefined && next.failures > before.failures) {
        return {
          _tag: "RefreshFailed",
          expiresAt: next.token.expiresAt,
          retryAt: next.retryAt,
          failures: next.failures,
          errorTag: next.lastError.reason._tag,
          message: next.lastError.reason.message
        }
      }
      if (refreshedHere) return { _tag: "Refreshed", ...timing }
      if (before.token === undefined) return { _tag: "LoginDetected", ...timing }
      return same(before.token.accessToken, next.token.accessToken) ? undefined : { _tag: "Adopted", ...timing }
    }
    if (before.token !== undefined || !sameState(before.state, next.state)) {
      return { _tag: "NeedsLogin", reason: reasonOf(next.state) }
    }
    return undefined
  }

  let firstJob = true

  const runJob = (job: Job): Effect.Effect<Slot> =>
    Effect.gen(function*() {
      const before = yield* SynchronizedRef.get(slotRef)
      refreshedHere = false
      if (job._tag === "Refresh" && before.token !== undefined) {
        yield* publish(
          TokenState.Refreshing(before.token.expiresAt, before.failures, before.lastError?.reason.message)
        )
      }
      const exit = yield* Effect.exit(job._tag === "Refresh" ? refreshOnce(before, job.failedToken) : reload)
      if (Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)) return yield* Effect.interrupt
      const next = Exit.isSuccess(exit) ? exit.value : yield* failure(before, exit.cause)
      yield* SynchronizedRef.set(slotRef, next)
      yield* publish(next.state)
      if (onEvent !== undefined) {
        const event = eventOf(before, next, firstJob)
        if (event !== undefined) yield* onEvent(event)
      }
      firstJob = false
      yield* Queue.offer(wake, undefined)
      return next
    })

  /**
   * Joins the job in flight or starts one in the layer's scope. `gated`: callers do not start a
   * new attempt before the backoff's `retryAt` (they get the last error instead), so a crowd of
   * callers cannot turn a failing server into a tight loop.
   */
  const start = (job: Job, gated: boolean): Effect.Effect<Started> =>
    Effect.suspend(() => {
      // Joining needs no lock: a crowd of waiters never queues on the semaphore.
      const running = SynchronizedRef.getUnsafe(inflight)
      return running !== undefined ? Effect.succeed({ fiber: running }) : startLocked(job, gated)
    })

  const startLocked = (job: Job, gated: boolean): Effect.Effect<Started> =>
    SynchronizedRef.modifyEffect(inflight, (current) =>
      Effect.gen(function*(): Effect.fn.Return<readonly [Started, Fiber.Fiber<Slot> | undefined]> {
        if (current !== undefined) return [{ fiber: current }, current] as const
        const s = SynchronizedRef.getUnsafe(slotRef)
        if (gated && s.lastError !== undefined && (yield* Clock.currentTimeMillis) < s.retryAt) {
          return [{ refused: s.lastError }, undefined] as const
        }
        const fiber = yield* Effect.forkIn(runJob(job).pipe(Effect.ensuring(SynchronizedRef.set(inflight, undefined))), scope)
        return [{ fiber }, fiber] as const
      }))

  // ---------------------------------------------------------------------------------------------
  // Callers
  // ---------------------------------------------------------------------------------------------

  const notStarted = new LoginRequired({ reason: "No Qwen credentials are loaded." })

  const deliver = (
    r: Slot,
    failedToken: Redacted.Redacted<string> | undefined
  ): Effect.Effect<AccessToken, LoginRequired | TokenUnavailable> =>
    Effect.clockWith((clock) => {
      if (r.token === undefined) return Effect.fail(r.absent ?? notStarted)
      if (r.lastError !== undefined) {
        // A forced refresh that did not replace the rejected token fails at once; otherwise the
        // old token is still good outside the mandatory window.
        const rejected = failedToken !== undefined && same(r.token.accessToken, failedToken)
        if (rejected || clock.currentTimeMillisUnsafe() >= r.mandatoryAt) return Effect.fail(r.lastError)
      }
      if (clock.currentTimeMillisUnsafe() >= r.token.expiresAt) {
        return Effect.fail(new LoginRequired({ reason: "The Qwen access token expired." }))
      }
      return Effect.succeed(r.token)
    })

  const awaitRefresh = (
    failedToken: Redacted.Redacted<string> | undefined
  ): Effect.Effect<AccessToken, LoginRequired | TokenUnavailable> =>
    Effect.flatMap(start({ _tag: "Refresh", failedToken }, true), (started) =>
      "fiber" in started
        ? Effect.flatMap(Fiber.join(started.fiber), (r) => deliver(r, failedToken))
        : Effect.fail(started.refused))

  const slowGet = (s: Slot, now: number): Effect.Effect<AccessToken, LoginRequired | TokenUnavailable> => {
    if (s.token === undefined || s.served === undefined) return Effect.fail(s.absent ?? notStarted)
    if (now < s.mandatoryAt) {
      // Advisory window: the scheduler refreshes in the background. Nudge it in case its timer
      // is late (a machine that slept); the caller does not wait.
      return s.failures === 0 && SynchronizedRef.getUnsafe(inflight) === undefined
        ? Effect.as(Queue.offer(wake, undefined), s.token)
        : s.served
    }
    return awaitRefresh(undefined)
  }

  // The hot path: a reference read and a clock comparison, no allocation.
  const onClock = (clock: Clock.Clock): Effect.Effect<AccessToken, LoginRequired | TokenUnavailable> => {
    const s = SynchronizedRef.getUnsafe(slotRef)
    const now = clock.currentTimeMillisUnsafe()
    return now < s.advisoryAt && s.served !== undefined ? s.served : slowGet(s, now)
  }
  const get = Effect.clockWith(onClock)

  const refresh = (ifCurrent?: Redacted.Redacted<string>) =>
    Effect.suspend(() => {
      const s = SynchronizedRef.getUnsafe(slotRef)
      if (s.token === undefined) return Effect.fail(s.absent ?? notStarted)
      const failed = ifCurrent ?? s.token.accessToken
      // Someone already replaced the rejected token: no POST.
      if (!same(s.token.accessToken, failed)) return get
      return awaitRefresh(failed)
    })

  // ---------------------------------------------------------------------------------------------
  // The scheduler: one supervised fiber
  // ---------------------------------------------------------------------------------------------

  const joinJob = (job: Job) =>
    Effect.flatMap(start(job, false), (started) => ("fiber" in started ? Fiber.join(started.fiber) : Effect.void))

  const waitFor = (ms: number) =>
    Number.isFinite(ms) ? Effect.race(Effect.sleep(ms), Queue.take(wake)) : Queue.take(wake)

  const reloadIfChanged = Effect.gen(function*() {
    if ((yield* store.fingerprint) !== fingerprint) yield* joinJob(RELOAD)
  })

  const fileCheckMs = Duration.toMillis(settings.fileCheckInterval)

  const tick = Effect.gen(function*() {
    const s = yield* SynchronizedRef.get(slotRef)
    if (s.token === undefined) {
      // A login is needed: look for a new one at most every fileCheckInterval (mtimes only).
      yield* Effect.sleep(settings.fileCheckInterval)
      return yield* reloadIfChanged
    }
    const now = yield* Clock.currentTimeMillis
    const due = dueAt(s, retryPastExpiry)
    if (due > now) {
      if (options.watchFiles !== true) return yield* waitFor(due - now)
      // Watching: sleep to the deadline or the next file check, whichever comes first.
      yield* waitFor(Math.min(due - now, fileCheckMs))
      const later = yield* Clock.currentTimeMillis
      if (later < dueAt(SynchronizedRef.getUnsafe(slotRef), retryPastExpiry)) yield* reloadIfChanged
      return
    }
    yield* joinJob(s.refreshable ? SCHEDULED : RELOAD)
  })

  const supervised = tick.pipe(
    Effect.catchCause((cause) =>
      Cause.hasInterruptsOnly(cause)
        ? Effect.failCause(cause)
        : Effect.logError("Token actor: unexpected failure; carrying on", cause).pipe(
          Effect.andThen(Effect.sleep(settings.backoffBase))
        )
    ),
    Effect.forever
  )

  yield* runJob(RELOAD)
  const scheduler = yield* Effect.forkIn(supervised, scope)

  const drain = Effect.gen(function*() {
    yield* Fiber.interrupt(scheduler)
    const running = SynchronizedRef.getUnsafe(inflight)
    if (running !== undefined) yield* Fiber.await(running)
  })

  return {
    get,
    refresh,
    state: SubscriptionRef.get(stateRef),
    changes: SubscriptionRef.changes(stateRef),
    nextRefreshAt: Effect.sync(() => {
      const s = SynchronizedRef.getUnsafe(slotRef)
      const due = dueAt(s, retryPastExpiry)
      return s.token !== undefined && Number.isFinite(due) ? due : undefined
    }),
    drain
  } satisfies Actor
})
