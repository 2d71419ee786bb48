/**
 * `qwen-auth logout [--all] [--json]`: removes qwen-auth's OpenClaw profile and records the
 * logout so the same login is not re-imported from Qwen Code's file; `--all` also deletes that
 * file (under its lock). Says exactly what it removed.
 */
import { Effect, FileSystem } from "effect"
import { Command, Flag } from "effect/cli"
import { pathsOf, QwenAuthConfig } from "../../Config.ts"
import { CredentialStore } from "../../store/CredentialStore.ts"
import { withStore } from "../Environment.ts"
import { printJson, say } from "../Output.ts"

const flags = {
  all: Flag.Boolean("all").pipe(
    Flag.withDescription("Also delete the Qwen Code credentials (~/.qwen/oauth_creds.json)"),
    Flag.withDefault(false)
  ),
  json: Flag.Boolean("json").pipe(Flag.withDescription("Print one JSON object"), Flag.withDefault(false))
}

export const logout = Command.make("logout", flags, ({ all, json }) =>
  Effect.gen(function*() {
    const store = yield* CredentialStore
    const report = yield* store.logout({ all })
    if (json) return yield* printJson({ loggedOut: true, wasLoggedIn: report.wasLoggedIn, removed: report.removed })
    if (report.openclawKept !== undefined) {
      yield* say(
        `OpenClaw keeps its own copy of this login in ${report.openclawKept.path}; qwen-auth's plugin no longer ` +
          `renews it, so it stops working when it expires (${new Date(report.openclawKept.expiresAt).toISOString()}). ` +
          "To end it now: `openclaw models auth logout qwen-portal:default`."
      )
    }
    if (report.removed.length === 0) {
      return yield* say(report.wasLoggedIn ? "Logged out (nothing to remove)." : "Not logged in; nothing to remove.")
    }
    yield* say(`Logged out. Removed:\n${report.removed.map((r) => `  ${r}`).join("\n")}`)
    // Only mention the kept Qwen Code file when there is one.
    const fs = yield* FileSystem.FileSystem
    const qwenCreds = pathsOf(yield* QwenAuthConfig).qwenCreds
    if (!all && (yield* fs.exists(qwenCreds).pipe(Effect.orElseSucceed(() => false)))) {
      yield* say(`Kept Qwen Code's login ${qwenCreds} (it will not be re-imported); \`logout --all\` deletes it.`)
    }
  }).pipe(withStore)
).pipe(Command.withDescription("Log out: remove qwen-auth's OpenClaw profile (--all: also Qwen Code's file)"))
