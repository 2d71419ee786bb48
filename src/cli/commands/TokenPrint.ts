/**
 * What `qwen-auth token [--json]` does: print a valid access token. A fresh token whose copies all
 * agree is read from the store and printed, with nothing else loaded; anything else (a copy to
 * bring up to date, a refresh due, no usable login) goes to the token actor (`TokenRefresh.ts`,
 * imported only then). Free of effect/cli's command runner, so `TokenFast.ts` can run it too.
 */
import { Clock, Console, Effect, Redacted } from "effect"
import { QwenAuthConfig } from "../../Config.ts"
import { B64TOKEN } from "../../domain/Credentials.ts"
import { LoginRequired } from "../../domain/Errors.ts"
import { CredentialStore } from "../../store/CredentialStore.ts"
import { storedToken } from "../../token/StoredToken.ts"
import type { AccessToken } from "../../token/TokenState.ts"
import { printJson } from "../Output.ts"

const print = (json: boolean) => (t: AccessToken) =>
  Effect.gen(function*() {
    // Tokens from the server are checked when decoded; one read from a file may hold anything,
    // and this command's output goes into headers and shells: print a b64token or nothing.
    if (!B64TOKEN.test(Redacted.value(t.accessToken))) {
      return yield* new LoginRequired({
        reason: "The stored access token holds characters no bearer token may (RFC 6750); it is not printed."
      })
    }
    if (json) {
      return yield* printJson({
        accessToken: Redacted.value(t.accessToken),
        expiresAt: new Date(t.expiresAt).toISOString(),
        baseUrl: t.baseUrl
      })
    }
    yield* Console.log(Redacted.value(t.accessToken))
  })

/** Prints the token (or fails as the token actor does: login required, refresh failed). */
export const printToken = (json: boolean) =>
  Effect.gen(function*() {
    const settings = yield* QwenAuthConfig
    const store = yield* CredentialStore
    const now = yield* Clock.currentTimeMillis
    // A read that fails is the actor's to report, exactly as it would without this shortcut.
    const stored = yield* store.load.pipe(
      Effect.flatMap((snapshot) => storedToken(snapshot, settings, now)),
      Effect.orElseSucceed(() => undefined)
    )
    if (stored !== undefined) return yield* print(json)(stored)
    const actor = yield* Effect.promise(() => import("./TokenRefresh.ts"))
    return yield* actor.withCurrentToken(print(json))
  })
