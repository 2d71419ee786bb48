/**
 * The subcommands, each behind a dynamic `import()`: a run loads only the commands named on its
 * command line, so `status` never loads the HTTP client or the token actor (start-up time is a
 * benchmarked target, docs/benchmarks.md).
 */
import type * as Doctor from "./commands/doctor.ts"
import type * as Daemon from "./commands/daemon.ts"
import type * as Login from "./commands/login.ts"
import type * as Logout from "./commands/logout.ts"
import type * as Models from "./commands/models.ts"
import type * as SetupOpenclaw from "./commands/setupOpenclaw.ts"
import type * as Status from "./commands/status.ts"
import type * as Token from "./commands/token.ts"

/** Any one of the subcommands, as its module exports it. */
export type Subcommand =
  | typeof Login.login
  | typeof Status.status
  | typeof Token.token
  | typeof Logout.logout
  | typeof Models.models
  | typeof SetupOpenclaw.setupOpenclaw
  | typeof Doctor.doctor
  | typeof Daemon.daemon

// Order is the order `--help` lists them in.
const loaders: ReadonlyArray<readonly [string, () => Promise<Subcommand>]> = [
  ["login", () => import("./commands/login.ts").then((m) => m.login)],
  ["status", () => import("./commands/status.ts").then((m) => m.status)],
  ["token", () => import("./commands/token.ts").then((m) => m.token)],
  ["logout", () => import("./commands/logout.ts").then((m) => m.logout)],
  ["models", () => import("./commands/models.ts").then((m) => m.models)],
  ["setup-openclaw", () => import("./commands/setupOpenclaw.ts").then((m) => m.setupOpenclaw)],
  ["doctor", () => import("./commands/doctor.ts").then((m) => m.doctor)],
  ["daemon", () => import("./commands/daemon.ts").then((m) => m.daemon)]
]

/** Every subcommand's name, in `--help` order. */
export const subcommandNames: ReadonlyArray<string> = loaders.map(([name]) => name)

/**
 * The subcommands a run needs: every one whose name appears among the arguments, or all of them
 * when none does (help, usage errors, suggestions). Matching any argument, not just the first
 * positional one, keeps this a superset of the command that runs even when a flag's value happens
 * to be a command name (`--scope token status`), without knowing which flags take values.
 */
export const subcommandsFor = (args: ReadonlyArray<string>): ReadonlyArray<string> => {
  const named = subcommandNames.filter((name) => args.includes(name))
  return named.length > 0 ? named : subcommandNames
}

/** Loads the named subcommands, in `--help` order. */
export const loadSubcommands = (names: ReadonlyArray<string>): Promise<Array<Subcommand>> =>
  Promise.all(loaders.filter(([name]) => names.includes(name)).map(([, load]) => load()))
