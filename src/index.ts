export * from "./Config.ts"
export * as QwenAuth from "./QwenAuth.ts"
export type { QwenAuthOptions } from "./QwenAuth.ts"
export { TokenManager, type TokenError, type TokenManagerOptions } from "./token/TokenManager.ts"
export { QwenHttpClient, type QwenApiError } from "./token/QwenHttpClient.ts"
export { type AccessToken, TokenState } from "./token/TokenState.ts"
export { RefreshDefect, RefreshFailure, TokenUnavailable } from "./token/TokenErrors.ts"
export { ConfigProblem, ExitCode, FileAccessError, LockError, LoginRequired, MalformedFile } from "./domain/Errors.ts"
export { Credentials, type CredentialSource } from "./domain/Credentials.ts"
export {
  AccessDenied,
  ExpiredToken,
  InvalidClient,
  InvalidGrant,
  MalformedResponse,
  NetworkError,
  type OAuthError,
  QuotaExceeded,
  RateLimited,
  ServerError,
  UntrustedEndpoint
} from "./oauth/OAuthError.ts"
export { CredentialStore, type Snapshot } from "./store/CredentialStore.ts"
