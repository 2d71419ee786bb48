/**
 * The token a token actor serves the moment it starts, read from a store snapshot without
 * starting one: fresh credentials (before their refresh is due) whose copies all agree. Anything
 * else — a copy to bring up to date, a refresh due, no usable login, an untrusted `resource_url`
 * — is the actor's work (its first reload, then `get`), and this says `undefined`. `qwen-auth
 * token` uses it to print a fresh token without loading the actor and the HTTP client (start-up
 * is a benchmarked target, docs/benchmarks.md).
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import type { Settings } from "../Config.ts"
import { checkResourceUrl } from "../oauth/Trust.ts"
import type { Snapshot } from "../store/Snapshot.ts"
import { accessTokenOf } from "./Slot.ts"
import type { AccessToken } from "./TokenState.ts"

/** The token served at once after the actor's first reload of `snapshot` at `nowMs`, if no work is due. */
export const storedToken = (
  snapshot: Snapshot,
  settings: Settings,
  nowMs: number,
  baseUrl?: string
): Effect.Effect<AccessToken | undefined> => {
  const c = snapshot.credentials
  // The actor's reload writes the copies that are behind before it serves anything.
  if (c === undefined || snapshot.stale) return Effect.succeed(undefined)
  return (baseUrl === undefined ? checkResourceUrl(settings, c.resourceUrl) : Effect.succeed(baseUrl)).pipe(
    Effect.map((url) => accessTokenOf(c, url, c.windows(settings.refreshMargin))),
    Effect.map((token) => (nowMs < token.refreshDueAt ? token : undefined)),
    Effect.orElseSucceed(() => undefined)
  )
}
