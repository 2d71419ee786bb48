/**
 * The emulator's counters (`GET /__emulator/stats`): a flat object of integers. The names in
 * emulator.md are the contract; the rest are extras for debugging and finer assertions.
 *
 * @since 0.1.0
 */

/** Counters that only grow (until reset). */
export interface Counters {
  /** Device authorization requests (any outcome). */
  deviceAuthorizations: number
  /** Device grant polls (any outcome). */
  tokenPolls: number
  slowDowns: number
  /** Tokens issued by the device grant. */
  deviceGrants: number
  refreshRequests: number
  /** Refreshes answered 200. */
  refreshGrants: number
  /** Refreshes answered invalid_grant with a refresh token the emulator issued (dead: used or revoked). */
  refreshRejected: number
  /** Refreshes answered invalid_grant with a refresh token the emulator never issued (e.g. a probe). */
  refreshUnknown: number
  /** API requests (any outcome). */
  apiCalls: number
  /** API requests answered 401 (any mode). */
  apiUnauthorized: number
  faultsInjected: number
  // extras
  pendingPolls: number
  deniedPolls: number
  expiredPolls: number
  pkceFailures: number
  /** OAuth requests answered 404 by mode `moved` (not processed). */
  oauthMoved: number
  /** OAuth requests answered 401 invalid_client by mode `reject-client` (not processed). */
  oauthClientRejected: number
  quotaRejections: number
  faults500: number
  faultsDelay: number
  faultsDrop: number
  faultsHtml: number
  faultsLostResponse: number
  /** Requests whose client went away before they were processed (not processed). */
  clientAborts: number
  /** Refresh grants held back by `--refresh-delay` before processing (any outcome). */
  refreshesHeld: number
}

/**
 * Counters plus gauges computed at read time.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats extends Readonly<Counters> {
  /** Refresh tokens currently usable: one per login under rotation. */
  readonly liveRefreshTokens: number
  readonly liveAccessTokens: number
  /** API calls counted against today's (UTC) quota. */
  readonly quotaUsedToday: number
}

/** @since 0.1.0 @category constructors */
export const emptyCounters = (): Counters => ({
  deviceAuthorizations: 0,
  tokenPolls: 0,
  slowDowns: 0,
  deviceGrants: 0,
  refreshRequests: 0,
  refreshGrants: 0,
  refreshRejected: 0,
  refreshUnknown: 0,
  apiCalls: 0,
  apiUnauthorized: 0,
  faultsInjected: 0,
  pendingPolls: 0,
  deniedPolls: 0,
  expiredPolls: 0,
  pkceFailures: 0,
  oauthMoved: 0,
  oauthClientRejected: 0,
  quotaRejections: 0,
  faults500: 0,
  faultsDelay: 0,
  faultsDrop: 0,
  faultsHtml: 0,
  faultsLostResponse: 0,
  clientAborts: 0,
  refreshesHeld: 0
})
