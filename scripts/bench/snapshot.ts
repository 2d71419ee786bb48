/**
 * A private copy of the built CLI (dist/cli.js and its chunks), taken when the benchmark starts:
 * a rebuild during the run (other work in the same tree) then cannot swap chunks under it.
 */
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { repoRoot } from "../../test/support/processes.ts"

export const snapshotCli = (): { readonly cliPath: string; readonly cleanup: () => void } => {
  const dist = join(repoRoot, "dist")
  if (!existsSync(join(dist, "cli.js"))) throw new Error("dist/cli.js is missing: run `npm run build` first")
  const dir = mkdtempSync(join(tmpdir(), "qwen-auth-bench-dist-"))
  // The chunks are ESM `.js` files, as under the package's "type": "module".
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }))
  cpSync(join(dist, "cli.js"), join(dir, "cli.js"))
  cpSync(join(dist, "cli"), join(dir, "cli"), { recursive: true })
  return { cliPath: join(dir, "cli.js"), cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}
