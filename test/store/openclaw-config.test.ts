import { qwenProvider } from "../support/filesMd.ts"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { assert, layer } from "@effect/vitest"
import { Effect, FileSystem } from "effect"
import { dirname } from "node:path"
import { qwenModels } from "../../src/store/ConfigMerge.ts"
import {
  applyDefaultModel,
  applyLogin,
  backupPathOf,
  checkWritable,
  readModelRows,
  sha256Hex
} from "../../src/store/OpenClawConfig.ts"

const OURS = "https://portal.qwen.ai/v1"

const provider = qwenProvider

/** files.md's "what a login adds" with --set-default, in its order, as our writer renders it. */
const documentedText = `${
  JSON.stringify(
    {
      plugins: { entries: { "qwen-portal-auth": { enabled: true } } },
      models: { providers: { "qwen-portal": provider(OURS) } },
      agents: {
        defaults: {
          models: { "qwen-portal/coder-model": { alias: "qwen" }, "qwen-portal/vision-model": {} },
          model: { primary: "qwen-portal/coder-model" }
        }
      },
      auth: { profiles: { "qwen-portal:default": { provider: "qwen-portal", mode: "oauth" } } }
    },
    null,
    2
  )
}\n`

const userJson5 = `// my OpenClaw config
{
  gateway: { port: 18789, },            // trailing commas are fine in JSON5
  models: {
    providers: {
      openai: { baseUrl: 'https://api.openai.com/v1', models: [{ id: 'gpt-5', input: ['text', 'image'] },], },
    },
  },
  agents: {
    defaults: {
      model: { primary: 'openai/gpt-5', fallbacks: ['anthropic/claude-sonnet'] },
      models: { 'openai/gpt-5': { alias: 'gpt' } },
    },
  },
}
`

const setup = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const dir = yield* fs.makeTempDirectoryScoped({ prefix: "qwen-auth-openclaw-" })
  const files = { openclawConfig: `${dir}/state/openclaw.json`, modelsJson: `${dir}/state/agents/main/agent/models.json` }
  const read = (p: string) => fs.readFileString(p)
  const json = (p: string) => Effect.map(fs.readFileString(p), (t) => JSON.parse(t))
  const mode = (p: string) => Effect.map(fs.stat(p), (i) => i.mode & 0o777)
  const writeUser = (text: string, m = 0o640) =>
    Effect.gen(function*() {
      yield* fs.makeDirectory(`${dir}/state`, { recursive: true })
      yield* fs.writeFileString(files.openclawConfig, text)
      yield* fs.chmod(files.openclawConfig, m)
    })
  return { fs, dir, files, read, json, mode, writeUser }
})

layer(NodeServices.layer)("OpenClawConfig", (it) => {
  it.effect("fresh home: writes both files exactly as files.md shows, 0600 in 0700 folders", () =>
    Effect.gen(function*() {
      const { dir, files, json, mode, read, fs } = yield* setup
      const r = yield* applyLogin(files, { baseUrl: OURS, setDefault: true }, {})
      assert.strictEqual(yield* read(files.openclawConfig), documentedText)
      assert.deepStrictEqual(yield* json(files.modelsJson), { providers: { "qwen-portal": provider(OURS) } })
      assert.strictEqual(yield* mode(files.openclawConfig), 0o600)
      assert.strictEqual(yield* mode(files.modelsJson), 0o600)
      assert.strictEqual(yield* mode(`${dir}/state`), 0o700)
      assert.strictEqual(yield* mode(`${dir}/state/agents/main/agent`), 0o700)
      assert.deepStrictEqual(r.wrote, [files.openclawConfig, files.modelsJson])
      assert.isUndefined(r.backup)
      assert.isFalse(yield* fs.exists(backupPathOf(files.openclawConfig)))
      assert.deepStrictEqual(r.lastWritten, { baseUrl: OURS, configSha256: sha256Hex(documentedText) })
      assert.strictEqual(r.defaultModel, "qwen-portal/coder-model")
      assert.deepStrictEqual(r.notices, [])
    }))

  it.effect("a user's JSON5 config: everything kept, original bytes and mode in the backup; a second run is a no-op", () =>
    Effect.gen(function*() {
      const { fs, files, json, mode, read, writeUser } = yield* setup
      yield* writeUser(userJson5, 0o640)
      const first = yield* applyLogin(files, { baseUrl: OURS, setDefault: false }, {})
      const backup = backupPathOf(files.openclawConfig)
      assert.strictEqual(first.backup, backup)
      assert.strictEqual(yield* read(backup), userJson5)
      assert.strictEqual(yield* mode(backup), 0o640)
      assert.strictEqual(yield* mode(files.openclawConfig), 0o640)
      assert.deepStrictEqual(first.notices, ["Default model available: qwen-portal/coder-model (use --set-default to apply)"])
      assert.deepStrictEqual(first.warnings, [])
      assert.strictEqual(first.defaultModel, "openai/gpt-5")

      const text = yield* read(files.openclawConfig)
      assert.notInclude(text, "my OpenClaw config")
      assert.isTrue(text.endsWith("}\n"))
      const c = JSON.parse(text)
      assert.deepStrictEqual(c.gateway, { port: 18789 })
      assert.deepStrictEqual(c.models.providers.openai, {
        baseUrl: "https://api.openai.com/v1",
        models: [{ id: "gpt-5", input: ["text", "image"] }]
      })
      assert.deepStrictEqual(c.models.providers["qwen-portal"], provider(OURS))
      assert.deepStrictEqual(c.agents.defaults.model, { primary: "openai/gpt-5", fallbacks: ["anthropic/claude-sonnet"] })
      assert.deepStrictEqual(c.agents.defaults.models, {
        "openai/gpt-5": { alias: "gpt" },
        "qwen-portal/coder-model": { alias: "qwen" },
        "qwen-portal/vision-model": {}
      })

      // Second run: we wrote last, nothing to change, so no backup and no write.
      yield* fs.remove(backup)
      const configBefore = yield* fs.stat(files.openclawConfig)
      const second = yield* applyLogin(files, { baseUrl: OURS, setDefault: false }, first.lastWritten)
      assert.deepStrictEqual(second.wrote, [])
      assert.isUndefined(second.backup)
      assert.isFalse(yield* fs.exists(backup))
      assert.strictEqual(yield* read(files.openclawConfig), text)
      assert.deepStrictEqual((yield* fs.stat(files.openclawConfig)).mtime, configBefore.mtime)
      assert.deepStrictEqual(second.lastWritten, first.lastWritten)

      // --set-default now: a config we wrote last is rewritten without a backup, fallbacks kept.
      const third = yield* applyLogin(files, { baseUrl: OURS, setDefault: true }, second.lastWritten)
      assert.deepStrictEqual(third.wrote, [files.openclawConfig])
      assert.isFalse(yield* fs.exists(backup))
      assert.deepStrictEqual((yield* json(files.openclawConfig)).agents.defaults.model, {
        primary: "qwen-portal/coder-model",
        fallbacks: ["anthropic/claude-sonnet"]
      })
    }))

  it.effect("a user's baseUrl is kept in both files; ours is replaced by the new one", () =>
    Effect.gen(function*() {
      const { fs, files, json } = yield* setup
      const first = yield* applyLogin(files, { baseUrl: OURS, setDefault: false }, {})
      // The server moves us: our own value follows.
      const moved = "https://dashscope.qwen.ai/v1"
      const second = yield* applyLogin(files, { baseUrl: moved, setDefault: false }, first.lastWritten)
      assert.strictEqual((yield* json(files.openclawConfig)).models.providers["qwen-portal"].baseUrl, moved)
      assert.strictEqual((yield* json(files.modelsJson)).providers["qwen-portal"].baseUrl, moved)
      assert.strictEqual(second.lastWritten.baseUrl, moved)

      // The user points the provider at a proxy: it stays, and is not recorded as ours.
      const c = yield* json(files.openclawConfig)
      c.models.providers["qwen-portal"].baseUrl = "http://127.0.0.1:4000/v1"
      yield* fs.writeFileString(files.openclawConfig, JSON.stringify(c))
      const third = yield* applyLogin(files, { baseUrl: OURS, setDefault: false }, second.lastWritten)
      assert.strictEqual((yield* json(files.openclawConfig)).models.providers["qwen-portal"].baseUrl, "http://127.0.0.1:4000/v1")
      assert.strictEqual((yield* json(files.modelsJson)).providers["qwen-portal"].baseUrl, "http://127.0.0.1:4000/v1")
      assert.strictEqual(third.baseUrlUsed, "http://127.0.0.1:4000/v1")
      assert.strictEqual(third.lastWritten.baseUrl, moved)
      assert.match(third.warnings[0] ?? "", /Keeping your baseUrl http:\/\/127\.0\.0\.1:4000\/v1/)
      // The user's config already held everything else: only models.json changed.
      assert.deepStrictEqual(third.wrote, [files.modelsJson])
      assert.isUndefined(third.backup)
      assert.strictEqual(third.lastWritten.configSha256, second.lastWritten.configSha256)
    }))

  it.effect("models.json keeps other providers and keys", () =>
    Effect.gen(function*() {
      const { fs, files, json } = yield* setup
      yield* fs.makeDirectory(dirname(files.modelsJson), { recursive: true })
      yield* fs.writeFileString(files.modelsJson, `{"providers":{"openai":{"baseUrl":"x"}},"note":1}`)
      yield* applyLogin(files, { baseUrl: OURS, setDefault: false }, {})
      assert.deepStrictEqual(yield* json(files.modelsJson), {
        providers: { openai: { baseUrl: "x" }, "qwen-portal": provider(OURS) },
        note: 1
      })
    }))

  it.effect("an unparsable config is refused with file and position, and nothing is written", () =>
    Effect.gen(function*() {
      const { fs, files, read, writeUser } = yield* setup
      const broken = `{\n  models: {\n    providers: ,\n  }\n}\n`
      yield* writeUser(broken)
      const check = yield* Effect.flip(checkWritable(files, { baseUrl: OURS, setDefault: false }))
      assert.strictEqual(check._tag, "MalformedFile")
      const error = yield* Effect.flip(applyLogin(files, { baseUrl: OURS, setDefault: false }, {}))
      assert.strictEqual(error._tag, "MalformedFile")
      assert.strictEqual(
        error.message,
        `${files.openclawConfig}: not valid JSON5 (line 3, column 16: invalid character ',')`
      )
      assert.strictEqual(yield* read(files.openclawConfig), broken)
      assert.isFalse(yield* fs.exists(files.modelsJson))
      assert.isFalse(yield* fs.exists(backupPathOf(files.openclawConfig)))
    }))

  it.effect("an unparsable models.json stops the login before openclaw.json is touched", () =>
    Effect.gen(function*() {
      const { fs, files, read, writeUser } = yield* setup
      yield* writeUser(userJson5)
      yield* fs.makeDirectory(dirname(files.modelsJson), { recursive: true })
      yield* fs.writeFileString(files.modelsJson, `{"providers": [`)
      const error = yield* Effect.flip(applyLogin(files, { baseUrl: OURS, setDefault: false }, {}))
      assert.strictEqual(error._tag, "MalformedFile")
      assert.include(error.message, files.modelsJson)
      assert.strictEqual(yield* read(files.openclawConfig), userJson5)
    }))

  it.effect("a config with $include is refused, says what to add, and is not rewritten", () =>
    Effect.gen(function*() {
      const { files, read, writeUser } = yield* setup
      const text = `{ agents: { $include: "./agents.json5" } }\n`
      yield* writeUser(text)
      const error = yield* Effect.flip(applyLogin(files, { baseUrl: OURS, setDefault: true }, {}))
      assert.strictEqual(error._tag, "ConfigProblem")
      assert.include(error.message, "uses $include (at agents.$include)")
      assert.include(error.message, `"qwen-portal-auth": {\n        "enabled": true`)
      assert.include(error.message, `"primary": "qwen-portal/coder-model"`)
      assert.strictEqual(yield* read(files.openclawConfig), text)
      const set = yield* Effect.flip(applyDefaultModel(files.openclawConfig, "x/y", {}))
      assert.strictEqual(set._tag, "ConfigProblem")
      assert.strictEqual(yield* read(files.openclawConfig), text)
    }))

  it.effect("a change by another program between read and rename makes the merge run again", () =>
    Effect.gen(function*() {
      const { fs, dir, files, json, writeUser } = yield* setup
      yield* writeUser(`{ gateway: { port: 1 } }`)
      let external = 0
      // Another program writes the config while our temp file is being prepared (before rename).
      const racing = FileSystem.FileSystem.of({
        ...fs,
        chmod: (path, mode) =>
          Effect.gen(function*() {
            if (path.includes(".openclaw.json.qwen-auth-") && external === 0) {
              external++
              yield* fs.writeFileString(files.openclawConfig, `{ gateway: { port: 2 }, other: true }`)
            }
            return yield* fs.chmod(path, mode)
          })
      })
      const r = yield* applyLogin(files, { baseUrl: OURS, setDefault: false }, {}).pipe(
        Effect.provideService(FileSystem.FileSystem, racing)
      )
      assert.strictEqual(external, 1)
      const c = yield* json(files.openclawConfig)
      assert.deepStrictEqual(c.gateway, { port: 2 })
      assert.isTrue(c.other)
      assert.deepStrictEqual(c.models.providers["qwen-portal"], provider(OURS))
      assert.include(r.wrote, files.openclawConfig)
      // The backup holds what the redone merge started from.
      assert.strictEqual(yield* fs.readFileString(backupPathOf(files.openclawConfig)), `{ gateway: { port: 2 }, other: true }`)
      const leftovers = (yield* fs.readDirectory(`${dir}/state`)).filter((n) => n.endsWith(".tmp"))
      assert.deepStrictEqual(leftovers, [])
    }))

  it.effect("a file that keeps changing fails clearly and keeps the other program's content", () =>
    Effect.gen(function*() {
      const { fs, dir, files, read, writeUser } = yield* setup
      yield* writeUser(`{ n: 0 }`)
      let n = 0
      const racing = FileSystem.FileSystem.of({
        ...fs,
        chmod: (path, mode) =>
          Effect.gen(function*() {
            if (path.includes(".openclaw.json.qwen-auth-")) {
              yield* fs.writeFileString(files.openclawConfig, `{ n: ${++n} }`)
            }
            return yield* fs.chmod(path, mode)
          })
      })
      const error = yield* Effect.flip(
        applyLogin(files, { baseUrl: OURS, setDefault: false }, {}).pipe(Effect.provideService(FileSystem.FileSystem, racing))
      )
      assert.strictEqual(error._tag, "FileAccessError")
      assert.include(error.message, "another program kept changing it")
      assert.strictEqual(n, 2)
      assert.strictEqual(yield* read(files.openclawConfig), `{ n: 2 }`)
      assert.isFalse(yield* fs.exists(files.modelsJson))
      const leftovers = (yield* fs.readDirectory(`${dir}/state`)).filter((f) => f.endsWith(".tmp"))
      assert.deepStrictEqual(leftovers, [])
    }))

  it.effect("models list and models set (by ref, by alias, unknown)", () =>
    Effect.gen(function*() {
      const { files, json, read, writeUser } = yield* setup
      assert.deepStrictEqual(yield* readModelRows(files.openclawConfig), [])
      yield* writeUser(userJson5)
      const login = yield* applyLogin(files, { baseUrl: OURS, setDefault: false }, {})
      assert.deepStrictEqual(yield* readModelRows(files.openclawConfig), [
        { ref: "openai/gpt-5", alias: "gpt", input: ["text", "image"], default: true },
        { ref: "qwen-portal/coder-model", alias: "qwen", input: ["text"], default: false },
        { ref: "qwen-portal/vision-model", alias: null, input: ["text", "image"], default: false }
      ])

      const byAlias = yield* applyDefaultModel(files.openclawConfig, "qwen", login.lastWritten)
      assert.strictEqual(byAlias.ref, "qwen-portal/coder-model")
      assert.isTrue(byAlias.wrote)
      assert.isUndefined(byAlias.backup)
      assert.deepStrictEqual((yield* json(files.openclawConfig)).agents.defaults.model, {
        primary: "qwen-portal/coder-model",
        fallbacks: ["anthropic/claude-sonnet"]
      })
      assert.strictEqual(byAlias.lastWritten.configSha256, sha256Hex(yield* read(files.openclawConfig)))

      const again = yield* applyDefaultModel(files.openclawConfig, "qwen-portal/coder-model", byAlias.lastWritten)
      assert.isFalse(again.wrote)

      const byRef = yield* applyDefaultModel(files.openclawConfig, "openai/gpt-5", again.lastWritten)
      assert.strictEqual(byRef.ref, "openai/gpt-5")
      assert.strictEqual((yield* json(files.openclawConfig)).agents.defaults.model.primary, "openai/gpt-5")

      const before = yield* read(files.openclawConfig)
      const unknown = yield* Effect.flip(applyDefaultModel(files.openclawConfig, "nope/model", byRef.lastWritten))
      assert.strictEqual(unknown._tag, "UnknownModelRef")
      assert.include(unknown.message, "Known: openai/gpt-5, qwen-portal/coder-model, qwen-portal/vision-model")
      assert.strictEqual(yield* read(files.openclawConfig), before)
    }))

  it.effect("qwenModels is what the provider entry carries", () =>
    Effect.sync(() => assert.deepStrictEqual(qwenModels(), provider(OURS).models)))
})
