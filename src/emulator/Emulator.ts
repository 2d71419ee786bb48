/**
 * The Qwen OAuth emulator as a scoped service: a real HTTP server on 127.0.0.1 (emulator.md).
 *
 * @example
 * ```ts
 * const program = Effect.gen(function*() {
 *   const emulator = yield* Emulator
 *   // point the code under test at emulator.url, then:
 *   yield* emulator.approve("BCDF-GHJK")
 *   const stats = yield* emulator.stats
 * }).pipe(Effect.provide(Emulator.layer({ interval: 1, autoApproveAfter: 2 })))
 * ```
 *
 * @since 0.1.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Clock, Context, Effect, Layer } from "effect"
import { HttpRouter } from "effect/http"
import type { ServeError } from "effect/http/HttpServerError"
import * as Http from "node:http"
import { type EmulatorConfig, type EmulatorMode, type EmulatorOptions, resolveConfig, startMode } from "./EmulatorConfig.ts"
import { EmulatorState } from "./EmulatorState.ts"
import { makeFaultPlan } from "./Faults.ts"
import { routesLayer } from "./Routes.ts"
import type { Stats } from "./Stats.ts"

/**
 * The running emulator and its control handle.
 *
 * @since 0.1.0
 * @category models
 */
export interface EmulatorHandle {
  /** `http://127.0.0.1:PORT`: the OAuth base URL (and API origin; the API is under `/v1`). */
  readonly url: string
  readonly port: number
  /** The fault PRNG seed actually in use (given or drawn). */
  readonly seed: string
  readonly config: EmulatorConfig
  /** Approves a pending user code; `false` when unknown or already used. */
  readonly approve: (userCode: string) => Effect.Effect<boolean>
  readonly deny: (userCode: string) => Effect.Effect<boolean>
  /** Kills every access and refresh token. */
  readonly revoke: Effect.Effect<void>
  /** Forgets every code and token, zeroes the counters. */
  readonly reset: Effect.Effect<void>
  readonly stats: Effect.Effect<Stats>
  /** The current mode (as `GET /__emulator/mode`). */
  readonly mode: Effect.Effect<EmulatorMode>
  /** Switches mode at run time (as `POST /__emulator/mode?set=…`); tokens and codes are kept. */
  readonly setMode: (mode: EmulatorMode) => Effect.Effect<void>
}

/** @since 0.1.0 @category services */
export class Emulator extends Context.Service<Emulator, EmulatorHandle>()("qwen-auth/emulator/Emulator") {
  /**
   * Starts the emulator for the life of the layer; the port closes with the layer's scope.
   *
   * @since 0.1.0
   * @category layers
   */
  static readonly layer = (options: EmulatorOptions = {}): Layer.Layer<Emulator, ServeError> =>
    Layer.effect(Emulator, make(options))
}

/**
 * Starts an emulator in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.fn("Emulator.make")(function*(options: EmulatorOptions = {}) {
  const config = resolveConfig(options)
  if (startMode(config) === undefined) {
    return yield* Effect.die(new Error("Emulator: set at most one of discontinued, moved, rejectClient"))
  }
  // Our own Node server, so that shutdown can cut connections a client keeps open.
  const nodeServer = Http.createServer({ keepAliveTimeout: 1000 })
  const server = yield* NodeHttpServer.make(() => nodeServer, {
    port: config.port,
    host: "127.0.0.1",
    gracefulShutdownTimeout: "1 second"
  })
  yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer.closeAllConnections()))
  const address = server.address
  const port = address._tag === "UnixPathAddress" ? 0 : address.port
  const url = `http://127.0.0.1:${port}`
  const state = new EmulatorState(config, url)
  const plan = makeFaultPlan(config)
  const app = yield* HttpRouter.toHttpEffect(routesLayer(state, plan))
  yield* server.serve(app)
  return Emulator.of({
    url,
    port,
    seed: plan.seed,
    config,
    approve: (userCode) => Effect.sync(() => state.approve(userCode)),
    deny: (userCode) => Effect.sync(() => state.deny(userCode)),
    revoke: Effect.sync(() => state.revoke()),
    reset: Effect.sync(() => state.reset()),
    stats: Effect.map(Clock.currentTimeMillis, (now) => state.stats(now)),
    mode: Effect.sync(() => state.mode),
    setMode: (mode) =>
      Effect.sync(() => {
        state.mode = mode
      })
  })
})
