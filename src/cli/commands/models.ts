/**
 * `qwen-auth models list [--json]` and `qwen-auth models set <ref>` (cli-contract.md "Commands").
 */
import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { pathsOf, QwenAuthConfig } from "../../Config.ts"
import { setDefaultModel } from "../../login/OpenClawSetup.ts"
import { readModelRows } from "../../store/openclaw/DefaultModel.ts"
import { printJson, say } from "../Output.ts"
import { withSettings } from "../Environment.ts"

const jsonFlag = Flag.Boolean("json").pipe(Flag.withDescription("Print one JSON object"), Flag.withDefault(false))

const renderTable = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? []
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd()).join("\n")
}

export const list = Command.make("list", { json: jsonFlag }, ({ json }) =>
  Effect.gen(function*() {
    const settings = yield* QwenAuthConfig
    const rows = yield* readModelRows(pathsOf(settings).openclawConfig)
    if (json) {
      return yield* printJson({
        models: rows.map((r) => ({ ref: r.ref, alias: r.alias, input: r.input, default: r.default }))
      })
    }
    if (rows.length === 0) return yield* say("No models configured. Run `qwen-auth login` to add Qwen's.")
    yield* Console.log(renderTable([
      ["REF", "ALIAS", "INPUT", "DEFAULT"],
      ...rows.map((r) => [r.ref, r.alias ?? "-", r.input.join("/"), r.default ? "yes" : "no"])
    ]))
  }).pipe(withSettings)
).pipe(Command.withDescription("List the models OpenClaw knows, with aliases and the default"))

export const set = Command.make(
  "set",
  { ref: Argument.String("ref").pipe(Argument.withDescription("provider/model or an alias such as qwen")) },
  ({ ref }) =>
    Effect.gen(function*() {
      const result = yield* setDefaultModel(ref)
      if (result.backup !== undefined) yield* say(`Backed up the previous config to ${result.backup}`)
      yield* say(result.wrote ? `Default model set to ${result.ref}` : `Default model is already ${result.ref}`)
    }).pipe(withSettings)
).pipe(Command.withDescription("Set OpenClaw's default model (agents.defaults.model.primary)"))

export const models = Command.make("models").pipe(
  Command.withDescription("List or set OpenClaw's models"),
  Command.withSubcommands([list, set])
)
