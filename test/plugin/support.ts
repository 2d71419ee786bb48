/**
 * Loading the built plugin as OpenClaw does: the bundle is copied out of `dist/` into a temp
 * folder with no `node_modules` above it (so it must be self-contained, and a concurrent
 * `npm run build` cannot pull it away mid-test), imported fresh, and `register` is called with a
 * recording fake of OpenClaw's `api`.
 */
import { execFileSync } from "node:child_process"
import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import type * as Entry from "../../src/plugin/openclaw.ts"
import type {
  OAuthCredential,
  PluginApi,
  PluginService,
  ProviderAuthContext,
  ProviderPlugin
} from "../../src/plugin/types.ts"
import { makeTempDir, repoRoot } from "../support/processes.ts"

export const distEntry = join(repoRoot, "dist/openclaw-plugin.js")
export const distChunks = join(repoRoot, "dist/openclaw-plugin")

/** The bundle, copied to `<dir>/openclaw-plugin.js` (+ its chunk folder). */
export const copyBundle = (dir: string): string => {
  if (!existsSync(distEntry)) {
    throw new Error(`${distEntry} is missing: run \`npm run -s build\` before these tests`)
  }
  mkdirSync(dir, { recursive: true })
  cpSync(distEntry, join(dir, "openclaw-plugin.js"))
  if (existsSync(distChunks)) cpSync(distChunks, join(dir, "openclaw-plugin"), { recursive: true })
  return join(dir, "openclaw-plugin.js")
}

let fresh = 0

/** Imports the entry anew (a cache-busting query gives a fresh module instance). */
export const importEntry = async (file: string): Promise<typeof Entry> =>
  (await import(/* @vite-ignore */ `${pathToFileURL(file).href}?fresh=${++fresh}`)) as typeof Entry

/** A fake of OpenClaw's plugin api that records what the plugin registers. */
export const recordingApi = (options: { withServices: boolean }) => {
  const providers: Array<ProviderPlugin> = []
  const services: Array<PluginService> = []
  const api: PluginApi = {
    registerProvider: (p) => void providers.push(p),
    ...(options.withServices ? { registerService: (s: PluginService) => void services.push(s) } : {})
  }
  return { api, providers, services }
}

/** A fake of OpenClaw's prompter and `openUrl`, recording every call. */
export const fakeAuthContext = (options: { openUrlThrows?: boolean } = {}) => {
  const notes: Array<{ message: string; title: string | undefined }> = []
  const progress: Array<{ kind: "start" | "update" | "stop"; message: string | undefined }> = []
  const opened: Array<string> = []
  const ctx: ProviderAuthContext = {
    openUrl: async (url) => {
      opened.push(url)
      if (options.openUrlThrows === true) throw new Error("no browser here")
    },
    prompter: {
      note: async (message, title) => void notes.push({ message, title }),
      progress: (message) => {
        progress.push({ kind: "start", message })
        return {
          update: (m) => void progress.push({ kind: "update", message: m }),
          stop: (m) => void progress.push({ kind: "stop", message: m })
        }
      }
    }
  }
  return { ctx, notes, progress, opened }
}

/** A temp root with the folders a test needs; `qwenHome` is not created (the plugin does it). */
export const tempRoot = () => {
  const dir = makeTempDir("qwen-plugin-test-")
  return {
    ...dir,
    qwenHome: join(dir.path, "home/.qwen"),
    stateDir: join(dir.path, "home/.openclaw"),
    agentDir: join(dir.path, "home/.openclaw/agents/main/agent")
  }
}

export const readJson = (path: string): any => JSON.parse(readFileSync(path, "utf8"))
export const modeOf = (path: string): number => statSync(path).mode & 0o777

/** An OpenClaw credential from a token response of the emulator. */
export const credentialFrom = (
  tokens: { access_token: string; refresh_token: string },
  expires: number,
  extra: Partial<OAuthCredential> = {}
): OAuthCredential => ({
  type: "oauth",
  provider: "qwen-portal",
  access: tokens.access_token,
  refresh: tokens.refresh_token,
  expires,
  ...extra
})

/** Qwen Code's file content for an emulator token response. */
export const qwenCodeJson = (
  tokens: { access_token: string; refresh_token: string; resource_url?: string },
  expiryDate: number
) => ({
  access_token: tokens.access_token,
  token_type: "Bearer",
  refresh_token: tokens.refresh_token,
  ...(tokens.resource_url !== undefined ? { resource_url: tokens.resource_url } : {}),
  expiry_date: expiryDate
})

/** An older Node than the plugin's runtime supports, if the machine has one. */
export const findOldNode = (): { bin: string; version: string } | undefined => {
  for (const bin of ["/usr/bin/node", "/usr/local/bin/node", "/bin/node"]) {
    if (!existsSync(bin)) continue
    try {
      const version = execFileSync(bin, ["-p", "process.versions.node"], { encoding: "utf8" }).trim()
      const [major = 0, minor = 0] = version.split(".").map(Number)
      if (major < 22 || (major === 22 && minor < 19)) return { bin, version }
    } catch {
      // Not runnable: try the next one.
    }
  }
  return undefined
}
