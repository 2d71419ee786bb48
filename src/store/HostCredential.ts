/**
 * OpenClaw's copy of the credentials when qwen-auth runs inside OpenClaw (the plugin): OpenClaw
 * owns its auth store and its lock, hands the plugin a credential and saves what it gets back.
 * The store in host mode reads and writes this cell instead of any OpenClaw file.
 *
 * @since 0.1.0
 */
import { Context, Layer, Ref } from "effect"
import type { Credentials } from "../domain/Credentials.ts"

/**
 * @since 0.1.0
 * @category services
 */
export class HostCredential extends Context.Service<HostCredential, Ref.Ref<Credentials | undefined>>()(
  "qwen-auth/store/HostCredential"
) {
  /** A cell holding `credentials` (what OpenClaw passed in). */
  static readonly layer = (credentials: Credentials | undefined) =>
    Layer.effect(HostCredential, Ref.make<Credentials | undefined>(credentials))
  /** The credentials OpenClaw should keep now. */
  static readonly current = HostCredential.use(Ref.get)
}
