/**
 * A really full disk (issue 13, the real-mount variant of test/store/durability.test.ts): the
 * built `qwen-auth token` runs in a private mount namespace where OpenClaw's agent folder is a
 * full 16 KiB tmpfs. The server rotates the refresh token; OpenClaw's copy cannot be written; the
 * chain must survive in the other copies and the next run (disk back) must heal OpenClaw's copy.
 * Needs `unshare --mount` and `mount` (root, as on CI); elsewhere it says why it skipped.
 */
import { spawnSync } from "node:child_process"
import { copyFileSync, mkdtempSync, readFileSync, rmdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { cliPath, nodeBin, repoRoot } from "../support/processes.ts"
import { cli, emulator, envFor, explain, readJson, setStoredExpiry, tempHome } from "./home.ts"

const LONG = 120_000

/** Whether a private mount namespace with a tmpfs can be made here; the reason when not. */
const mountProbe = (): string | undefined => {
  const dir = mkdtempSync(join(tmpdir(), "qwen-auth-mount-probe-"))
  try {
    const r = spawnSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", `mount -t tmpfs -o size=16k tmpfs '${dir}'`], {
      encoding: "utf8"
    })
    if (r.error !== undefined) return `unshare is not available (${r.error.message})`
    return r.status === 0 ? undefined : `cannot mount a tmpfs in a private mount namespace: ${r.stderr.trim() || `exit ${r.status}`}`
  } finally {
    rmdirSync(dir)
  }
}

const unavailable = mountProbe()
if (unavailable !== undefined) console.log(`[full-disk] skipped: ${unavailable}`)

describe.skipIf(unavailable !== undefined)("qwen-auth token on a really full disk", () => {
  const scenario = (name: string, setup: (home: ReturnType<typeof tempHome>, saved: string) => ReadonlyArray<string>, says: string) =>
    it(name, async () => {
      const emu = await emulator(["--auto-approve-after", "1", "--interval", "1"])
      const home = tempHome()
      const login = await cli(home, ["login", "--no-browser", "--no-qr"], emu)
      expect(login.code, explain(login)).toBe(0)
      setStoredExpiry(home, Date.now() + 60_000) // due: `token` refreshes
      const oldRefresh = readJson(home.creds).refresh_token
      const saved = join(home.path, "profiles.saved")
      copyFileSync(home.profiles, saved)

      const script = [...setup(home, saved), `exec '${nodeBin}' '${cliPath}' token`].join(" && ")
      const r = spawnSync("unshare", ["--mount", "--propagation", "private", "sh", "-c", script], {
        env: envFor(home, emu),
        cwd: repoRoot,
        encoding: "utf8",
        timeout: 60_000
      })
      const explained = `exit ${r.status}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`
      expect(r.status, explained).toBe(0)
      const printed = r.stdout.trim()
      expect(readJson(home.creds).access_token).toBe(printed)
      expect(readJson(home.own).access_token).toBe(printed)
      expect(readJson(home.creds).refresh_token).not.toBe(oldRefresh)
      expect(r.stderr).toContain("auth-profiles.json")
      expect(r.stderr).toContain(says)
      expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/)

      // The disk is back (the namespace is gone): the profile still holds the spent chain, and the
      // next run starts from the saved one (no login, no rejected refresh) and heals it.
      expect(readFileSync(home.profiles, "utf8")).toBe(readFileSync(saved, "utf8"))
      const next = await cli(home, ["token"], emu)
      expect(next.code, explain(next)).toBe(0)
      expect(next.stdout.trim()).toBe(printed)
      expect(readJson(home.profiles).profiles["qwen-portal:default"].access).toBe(printed)
      const stats = await emu.stats()
      expect(stats.refreshGrants).toBe(1)
      expect(stats.refreshRejected).toBe(0)
    }, LONG)

  // The agent folder becomes a full tmpfs holding a copy of the profile.
  scenario(
    "OpenClaw's folder is full: the rotated chain is kept in the Qwen copies, said on stderr, and healed by the next run",
    (home, saved) => [
      `mount -t tmpfs -o size=16k tmpfs '${home.agent}'`,
      `cp '${saved}' '${home.profiles}'`,
      `dd if=/dev/zero of='${home.agent}/fill' bs=1k count=64 2>/dev/null || true`
    ],
    "no space left"
  )

  // The agent folder is mounted read-only (root ignores file modes, a read-only mount it cannot).
  scenario(
    "OpenClaw's folder is read-only: the same, said as a read-only file system",
    (home) => [`mount --bind '${home.agent}' '${home.agent}'`, `mount -o remount,bind,ro '${home.agent}'`],
    "read-only"
  )
})
