/**
 * What a command's handler runs in: the settings from the shared flags and environment, logging
 * on stderr, and the services the command needs (only those: start-up time matters).
 */
import { Effect } from "effect"
import { CredentialStore } from "../store/CredentialStore.ts"
import { commandConfigLayer, Root } from "./Root.ts"

/** Provides `QwenAuthConfig` (from the shared flags + environment) and the log level. */
export const withSettings = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Root, (flags) => Effect.provide(self, commandConfigLayer(flags)))

/** `withSettings` plus the credential store (with OpenClaw's lock). */
export const withStore = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  self.pipe(Effect.provide(CredentialStore.layerWithLocks), withSettings)
