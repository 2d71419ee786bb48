/**
 * Architecture rules over the import graph of src/ (read from the AST, see support/importGraph.ts):
 * no import cycles, oauth/ knows nothing of config, storage, tokens or login, and the entry points
 * (cli/, plugin/) reach protocol, lock and file-format code only through the services.
 */
import { posix } from "node:path"
import { describe, expect, it } from "vitest"
import {
  buildGraph,
  findCycles,
  forbiddenEdges,
  formatCycle,
  readSourceTree,
  type Rule
} from "./support/importGraph.ts"
import { repoRoot } from "./support/processes.ts"

/**
 * Protocol, lock and file-format modules that src/cli/ and src/plugin/ must not import, not even
 * for a type. The store is being reorganised, so file formats are also matched by basename
 * anywhere under src/store/ (e.g. src/store/files/QwenCodeFile.ts).
 */
const ENTRY_POINT_FORBIDDEN = {
  /** Whole folders. */
  folders: ["src/oauth/", "src/store/locks/"],
  /** Allowed despite the folders above: the error type users match on. */
  allowed: ["src/oauth/OAuthError.ts"],
  /** Exact paths. */
  files: [
    "src/store/QwenCodeFile.ts",
    "src/store/OpenClawProfiles.ts",
    "src/store/StateFile.ts",
    "src/store/AtomicWrite.ts",
    "src/store/JsonFile.ts",
    "src/store/Reconcile.ts",
    "src/store/CredentialStoreLive.ts"
  ],
  /** Basenames forbidden wherever they sit under src/store/. */
  storeBasenames: /^(QwenCodeFile|OpenClawProfiles|StateFile|AtomicWrite|JsonFile|CredentialCodec|CredentialFile)/
}

/** What src/oauth/ must not know about: it is the protocol, nothing more. */
const OAUTH_FORBIDDEN = {
  files: ["src/Config.ts"],
  folders: ["src/store/", "src/token/", "src/login/"]
}

const under = (folders: ReadonlyArray<string>) => (m: string) => folders.some((f) => m.startsWith(f))

const RULES: ReadonlyArray<Rule> = [
  {
    name: "oauth stays protocol-only",
    from: under(["src/oauth/"]),
    to: (m) => OAUTH_FORBIDDEN.files.includes(m) || under(OAUTH_FORBIDDEN.folders)(m)
  },
  {
    name: "entry points use services, not protocol/lock/file-format modules",
    from: under(["src/cli/", "src/plugin/"]),
    to: (m) =>
      !ENTRY_POINT_FORBIDDEN.allowed.includes(m) && (
        under(ENTRY_POINT_FORBIDDEN.folders)(m) ||
        ENTRY_POINT_FORBIDDEN.files.includes(m) ||
        (m.startsWith("src/store/") && ENTRY_POINT_FORBIDDEN.storeBasenames.test(posix.basename(m)))
      )
  }
]

describe("architecture: the checker", () => {
  // A made-up tree, so the rules cannot pass just because the checker sees nothing.
  const graph = buildGraph(
    new Map([
      ["src/a/A.ts", `import { b } from "../b/B.ts"\n// import "../c/C.ts"\nexport const a = "import('../c/C.ts')"`],
      ["src/b/B.ts", `import { a } from "../a/A.ts"\nimport type { T } from "../oauth/X.ts"\nexport const b = 1`],
      ["src/c/C.ts", ""],
      // oauth -> store is type-only, and so is the cycle it closes: forbidden, but no cycle.
      ["src/oauth/X.ts", `import type { S } from "../store/S.js"\nexport type T = 1`],
      ["src/store/S.ts", `import { type T } from "../oauth/X.ts"\nexport type S = T`],
      ["src/cli/Main.ts", `export const load = () => import("../store/files/QwenCodeFile.ts")`],
      ["src/store/files/QwenCodeFile.ts", `export * from "./index.ts"`],
      ["src/store/files/index.ts", `export { type S } from "../S.ts"`]
    ])
  )

  it("reports a value cycle and ignores comments, strings and type-only cycles", () => {
    expect(graph.unresolved).toEqual([])
    expect(graph.edges.some((e) => e.to === "src/c/C.ts")).toBe(false)
    expect(findCycles(graph).map(formatCycle)).toEqual(["src/a/A.ts -> src/b/B.ts -> src/a/A.ts"])
  })

  it("reports forbidden edges, type-only and dynamic ones included", () => {
    expect(forbiddenEdges(graph, RULES)).toEqual([
      "[oauth stays protocol-only] src/oauth/X.ts -> src/store/S.ts (type)",
      "[entry points use services, not protocol/lock/file-format modules] " +
      "src/cli/Main.ts -> src/store/files/QwenCodeFile.ts (import())"
    ])
  })
})

describe("architecture: src/", () => {
  const graph = buildGraph(readSourceTree(repoRoot))

  it("reads the whole tree", () => {
    expect(graph.modules.length).toBeGreaterThan(50)
    expect(graph.unresolved, "relative imports the checker could not resolve").toEqual([])
  })

  it("has no import cycles (runtime edges, dynamic import() included; `~>` marks those)", () => {
    // `import type` / `export type` are erased, so they are left out here; value imports,
    // `export … from` re-exports and literal `import("…")` all count.
    expect(findCycles(graph).map(formatCycle)).toEqual([])
  })

  it("has no forbidden edges", () => {
    expect(forbiddenEdges(graph, RULES)).toEqual([])
  })
})
