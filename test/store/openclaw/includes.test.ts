/**
 * Configs using OpenClaw's `$include` (issue 13): read as OpenClaw 2026.3.24 reads them; never
 * written; a login that would change what OpenClaw reads hands back the entries and the file
 * each belongs in, and one that would change nothing goes ahead.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { assert, layer } from "@effect/vitest"
import { Effect } from "effect"
import { backupPathOf } from "../../../src/store/openclaw/ConfigBackup.ts"
import { applyDefaultModel } from "../../../src/store/openclaw/DefaultModel.ts"
import { locate, resolveIncludes } from "../../../src/store/openclaw/Includes.ts"
import { applyLogin, checkWritable, mergeLogin } from "../../../src/store/openclaw/Login.ts"
import { OURS, provider, setup } from "./fixtures.ts"

layer(NodeServices.layer)("$include", (it) => {
  /** The config folder with `files` (name → text) next to openclaw.json. */
  const withFiles = (config: string, files: Record<string, string>) =>
    Effect.gen(function*() {
      const s = yield* setup
      yield* s.writeUser(config)
      for (const [name, text] of Object.entries(files)) {
        yield* s.fs.makeDirectory(`${s.dir}/state/${name}`.replace(/\/[^/]+$/, ""), { recursive: true })
        yield* s.fs.writeFileString(`${s.dir}/state/${name}`, text)
      }
      /** Every file under the config folder, bytes and mtimes: to prove nothing was touched. */
      const snapshot = Effect.gen(function*() {
        const out: Record<string, string> = {}
        for (const name of (yield* s.fs.readDirectory(`${s.dir}/state`, { recursive: true })).sort()) {
          const path = `${s.dir}/state/${name}`
          const info = yield* s.fs.stat(path)
          if (info.type === "File") out[name] = `${yield* s.fs.readFileString(path)}@${info.mtime._tag === "Some" ? info.mtime.value.getTime() : 0}`
        }
        return out
      })
      return { ...s, snapshot, at: (name: string) => `${s.dir}/state/${name}` }
    })

  it.effect("reads includes as OpenClaw does: relative to the including file, deep-merged, own keys win, arrays joined", () =>
    Effect.gen(function*() {
      const s = yield* withFiles(`{ $include: ["./base.json5", "./more.json5"], gateway: { port: 2 }, list: [3] }`, {
        "base.json5": `{ gateway: { port: 1, host: "a" }, list: [1], agents: { $include: "./sub/agents.json5" } }`,
        "sub/agents.json5": `// nested, relative to sub/\n{ $include: "./defaults.json5" }`,
        "sub/defaults.json5": `{ defaults: { model: "x/y" } }`,
        "more.json5": `{ list: [2] }`
      })
      const r = yield* resolveIncludes(s.files.openclawConfig, { $include: ["./base.json5", "./more.json5"], gateway: { port: 2 }, list: [3] })
      assert.deepStrictEqual(r.value, {
        gateway: { port: 2, host: "a" },
        list: [1, 2, 3],
        agents: { defaults: { model: "x/y" } }
      })
      // Where OpenClaw reads each place from: the file holding its nearest existing parent.
      assert.deepStrictEqual(locate(r, ["agents", "defaults", "model"]), { file: s.at("sub/defaults.json5"), at: ["defaults", "model"] })
      assert.deepStrictEqual(locate(r, ["agents", "defaults", "models", "q"]), { file: s.at("sub/defaults.json5"), at: ["defaults", "models", "q"] })
      assert.deepStrictEqual(locate(r, ["gateway", "port"]), { file: s.files.openclawConfig, at: ["gateway", "port"] })
      assert.deepStrictEqual(locate(r, ["plugins", "entries"]), { file: s.files.openclawConfig, at: ["plugins", "entries"] })
    }))

  it.effect("an include OpenClaw could not read stops a login before the device flow, naming it", () =>
    Effect.gen(function*() {
      for (const [config, files, problem] of [
        [`{ $include: "./missing.json5" }`, {}, "missing.json5, which does not exist"],
        [`{ $include: "../outside.json5" }`, {}, "outside its folder"],
        [`{ $include: "./a.json5" }`, { "a.json5": `{ $include: "./openclaw.json" }` }, "in a circle"],
        [`{ $include: "./bad.json5" }`, { "bad.json5": `{ nope` }, "bad.json5: not valid JSON5"],
        [`{ $include: "./list.json5", a: 1 }`, { "list.json5": `[1]` }, "something other than an object next to other keys"]
      ] as const) {
        const s = yield* withFiles(config, files)
        const error = yield* Effect.flip(checkWritable(s.files))
        assert.include(error.message, problem)
      }
    }))

  it.effect("a login that would change nothing OpenClaw reads goes ahead, leaving every config file as it is", () =>
    Effect.gen(function*() {
      // The user added the entries by hand, in the files they keep them in.
      const entries = mergeLogin({}, { baseUrl: OURS, setDefault: false, lastWrittenBaseUrl: OURS }).config as any
      const s = yield* withFiles(`// mine\n{ $include: "./base.json5", models: { $include: "./models.json5" } }\n`, {
        "base.json5": JSON.stringify({ plugins: entries.plugins, agents: entries.agents, auth: entries.auth }),
        "models.json5": JSON.stringify(entries.models)
      })
      const before = yield* s.snapshot
      const r = yield* applyLogin(s.files, { baseUrl: OURS, setDefault: false }, { baseUrl: OURS })
      assert.deepStrictEqual(r.pendingConfig, [])
      assert.deepStrictEqual(r.wrote, [s.files.modelsJson])
      assert.deepStrictEqual(r.warnings, [])
      const after = yield* s.snapshot
      delete (after as Record<string, string>)["agents/main/agent/models.json"]
      assert.deepStrictEqual(after, before)
      assert.deepStrictEqual((yield* s.json(s.files.modelsJson)).providers["qwen-portal"], provider(OURS))
    }))

  it.effect("a login that would change it writes nothing and says what to add where", () =>
    Effect.gen(function*() {
      const s = yield* withFiles(`// mine\n{\n  $include: "./base.json5",\n  models: { $include: "./models.json5" },\n}\n`, {
        "base.json5": `{ agents: { defaults: { model: "openai/gpt-5" } } }`,
        "models.json5": `{ providers: { openai: { models: [] } } }`
      })
      const before = yield* s.snapshot
      const r = yield* applyLogin(s.files, { baseUrl: OURS, setDefault: true }, {})
      assert.deepStrictEqual(yield* s.snapshot, before)
      assert.isFalse(yield* s.fs.exists(s.files.modelsJson))
      assert.isFalse(yield* s.fs.exists(backupPathOf(s.files.openclawConfig)))
      assert.deepStrictEqual(r.wrote, [])
      assert.deepStrictEqual(r.lastWritten, {})
      assert.strictEqual(r.defaultModel, "openai/gpt-5")
      const config = s.files.openclawConfig
      // In the order of the config as OpenClaw reads it.
      assert.deepStrictEqual(r.pendingConfig, [
        { path: "agents.defaults.model", value: { primary: "qwen-portal/coder-model" }, file: s.at("base.json5"), at: "agents.defaults.model" },
        {
          path: "agents.defaults.models",
          value: { "qwen-portal/coder-model": { alias: "qwen" }, "qwen-portal/vision-model": {} },
          file: s.at("base.json5"),
          at: "agents.defaults.models"
        },
        { path: "models.providers.qwen-portal", value: provider(OURS), file: s.at("models.json5"), at: "providers.qwen-portal" },
        { path: "plugins", value: { entries: { "qwen-portal-auth": { enabled: true } } }, file: config, at: "plugins" },
        { path: "auth", value: { profiles: { "qwen-portal:default": { provider: "qwen-portal", mode: "oauth" } } }, file: config, at: "auth" }
      ])
      const warning = r.warnings[r.warnings.length - 1]!
      assert.include(warning, `${config} uses $include (at $include), so qwen-auth changed none of OpenClaw's config files.`)
      assert.include(warning, "The login is saved; for OpenClaw to use it, add these entries")
      assert.include(warning, `  in ${s.at("models.json5")}, at providers.qwen-portal:\n    {\n      "baseUrl": "${OURS}",`)
      assert.include(warning, `  in ${s.at("base.json5")}, at agents.defaults.model:\n    {\n      "primary": "qwen-portal/coder-model"\n    }`)
    }))

  it.effect("models set: already so is fine; a change is refused with what to add where", () =>
    Effect.gen(function*() {
      const s = yield* withFiles(`{ agents: { $include: "./agents.json5" } }`, {
        "agents.json5": `{ defaults: { models: { "a/b": { alias: "ab" }, "c/d": {} }, model: { primary: "a/b" } } }`
      })
      const before = yield* s.snapshot
      const same = yield* applyDefaultModel(s.files.openclawConfig, "ab", {})
      assert.isFalse(same.wrote)
      const error = yield* Effect.flip(applyDefaultModel(s.files.openclawConfig, "c/d", {}))
      assert.strictEqual(error._tag, "ConfigProblem")
      assert.include(error.message, `in ${s.at("agents.json5")}, at defaults.model.primary:\n    "c/d"`)
      assert.deepStrictEqual(yield* s.snapshot, before)
    }))
})
