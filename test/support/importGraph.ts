/**
 * The import graph of a source tree, read from the TypeScript AST (so comments and strings never
 * make edges) and checked for cycles and forbidden edges. Pure over an in-memory `path -> text`
 * map, so the checker itself can be tested on a tiny made-up tree.
 */
import { readFileSync, readdirSync } from "node:fs"
import { join, posix, sep } from "node:path"
import ts from "typescript"

/** One module-to-module edge; paths are repo-relative with `/` (`src/cli/Main.ts`). */
export interface Edge {
  readonly from: string
  readonly to: string
  /** Every import of `to` in `from` is erased at build time (`import type`, `export type`, `typeof import()`). */
  readonly typeOnly: boolean
  /** Every import of `to` in `from` is a dynamic `import("…")`. */
  readonly dynamic: boolean
}

export interface ImportGraph {
  readonly modules: ReadonlyArray<string>
  readonly edges: ReadonlyArray<Edge>
  /** Relative specifiers that resolve to no module: each is an edge the checker cannot see. */
  readonly unresolved: ReadonlyArray<string>
}

interface RawImport { readonly specifier: string; readonly typeOnly: boolean; readonly dynamic: boolean }

const literal = (node: ts.Node | undefined): string | undefined =>
  node !== undefined && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : undefined

const allTypeOnly = (elements: ts.NodeArray<ts.ImportSpecifier | ts.ExportSpecifier>): boolean =>
  elements.length > 0 && elements.every((e) => e.isTypeOnly)

/** Static imports, `export … from`, dynamic `import("literal")` and `typeof import("literal")`. */
export const scanImports = (fileName: string, text: string): Array<RawImport> => {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS)
  const found: Array<RawImport> = []
  const add = (specifier: string | undefined, typeOnly: boolean, dynamic: boolean) => {
    if (specifier !== undefined) found.push({ specifier, typeOnly, dynamic })
  }
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const c = node.importClause
      // `import { type A, type B }` counts as type-only too. (Under verbatimModuleSyntax tsc would
      // still emit `import {} from`, but esbuild and Node's type stripping drop it; src has none.)
      add(literal(node.moduleSpecifier), c !== undefined && (c.phaseModifier === ts.SyntaxKind.TypeKeyword ||
        (c.name === undefined && c.namedBindings !== undefined && ts.isNamedImports(c.namedBindings) &&
          allTypeOnly(c.namedBindings.elements))), false)
    } else if (ts.isExportDeclaration(node)) {
      add(literal(node.moduleSpecifier), node.isTypeOnly ||
        (node.exportClause !== undefined && ts.isNamedExports(node.exportClause) &&
          allTypeOnly(node.exportClause.elements)), false)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(literal(node.arguments[0]), false, true)
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(literal(node.argument.literal), true, false)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

/** `./X.ts`, `./X.js` (-> `.ts`), `./X` and `./dir` (-> `dir/index.ts`); bare packages are not ours. */
const resolveSpecifier = (from: string, specifier: string, has: (m: string) => boolean): string | undefined => {
  const base = posix.join(posix.dirname(from), specifier)
  return [base, base.replace(/\.(m|c)?js$/, ".$1ts"), `${base}.ts`, `${base}/index.ts`].find(has)
}

export const buildGraph = (files: ReadonlyMap<string, string>): ImportGraph => {
  const merged = new Map<string, Edge>()
  const unresolved: Array<string> = []
  for (const [from, text] of files) {
    for (const i of scanImports(from, text)) {
      if (!i.specifier.startsWith("./") && !i.specifier.startsWith("../")) continue
      if (i.specifier.endsWith(".json")) continue // data, not a module that can import back
      const to = resolveSpecifier(from, i.specifier, (m) => files.has(m))
      if (to === undefined) {
        unresolved.push(`${from}: ${i.specifier}`)
        continue
      }
      // One edge per pair: it is type-only / dynamic only if every import of that pair is.
      const key = `${from}\n${to}`
      const seen = merged.get(key)
      merged.set(key, seen === undefined ? { from, to, typeOnly: i.typeOnly, dynamic: i.dynamic } :
        { from, to, typeOnly: seen.typeOnly && i.typeOnly, dynamic: seen.dynamic && i.dynamic })
    }
  }
  return { modules: [...files.keys()].sort(), edges: [...merged.values()], unresolved }
}

/** Every `.ts` file under `root/dir`, keyed by its repo-relative `/` path. */
export const readSourceTree = (root: string, dir = "src"): Map<string, string> =>
  new Map(readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .sort()
    .map((f) => [posix.join(dir, f.split(sep).join("/")), readFileSync(join(root, dir, f), "utf8")]))

/**
 * Cycles over runtime edges (type-only edges are erased, so they cannot make a load-order
 * cycle). Tarjan finds the strongly connected components; then every edge inside one is covered
 * by a shortest cycle through it, so the report names every edge whose removal could help.
 */
export const findCycles = (graph: ImportGraph): Array<Array<Edge>> => {
  const runtime = graph.edges.filter((e) => !e.typeOnly)
  const out = new Map<string, Array<Edge>>()
  for (const e of runtime) out.set(e.from, [...(out.get(e.from) ?? []), e])
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const component = new Map<string, number>()
  const stack: Array<string> = []
  let next = 0
  let components = 0
  const strongConnect = (v: string): void => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    for (const { to } of out.get(v) ?? []) {
      if (!index.has(to)) {
        strongConnect(to)
        low.set(v, Math.min(low.get(v)!, low.get(to)!))
      } else if (!component.has(to)) low.set(v, Math.min(low.get(v)!, index.get(to)!))
    }
    if (low.get(v) !== index.get(v)) return
    let w: string
    do {
      w = stack.pop()!
      component.set(w, components)
    } while (w !== v)
    components++
  }
  for (const m of graph.modules) if (!index.has(m)) strongConnect(m)

  /** Shortest edge path `from` ~> `to` within one component (breadth-first); `[]` when equal. */
  const pathWithin = (from: string, to: string): Array<Edge> => {
    const via = new Map<string, Edge | undefined>([[from, undefined]])
    const queue = [from]
    for (let v = queue.shift(); v !== undefined && !via.has(to); v = queue.shift()) {
      for (const e of out.get(v) ?? []) {
        if (via.has(e.to) || component.get(e.to) !== component.get(from)) continue
        via.set(e.to, e)
        queue.push(e.to)
      }
    }
    const path: Array<Edge> = []
    for (let e = via.get(to); e !== undefined; e = via.get(e.from)) path.unshift(e)
    return path
  }
  const covered = new Set<Edge>()
  const cycles: Array<Array<Edge>> = []
  for (const e of runtime) {
    if (covered.has(e) || component.get(e.from) !== component.get(e.to)) continue
    const cycle = [e, ...pathWithin(e.to, e.from)]
    cycle.forEach((c) => covered.add(c))
    cycles.push(cycle)
  }
  return cycles
}

export interface Rule {
  readonly name: string
  readonly from: (module: string) => boolean
  readonly to: (module: string) => boolean
}

/** Edges, value or type-only, that break a rule: "where a module may not look" is about knowledge. */
export const forbiddenEdges = (graph: ImportGraph, rules: ReadonlyArray<Rule>): Array<string> =>
  rules.flatMap((r) =>
    graph.edges.filter((e) => r.from(e.from) && r.to(e.to)).map((e) => `[${r.name}] ${formatEdge(e)}`))

const arrow = (e: Edge) => (e.dynamic ? "~>" : "->")

/** `src/a/B.ts -> src/c/D.ts`, tagged `(type)` or `(import())` when that is all it is. */
export const formatEdge = (e: Edge): string =>
  `${e.from} -> ${e.to}${e.typeOnly ? " (type)" : ""}${e.dynamic ? " (import())" : ""}`

/** `A -> B ~> C -> A`, where `~>` is a dynamic `import()`. */
export const formatCycle = (cycle: ReadonlyArray<Edge>): string =>
  `${cycle[0]?.from ?? ""}${cycle.map((e) => ` ${arrow(e)} ${e.to}`).join("")}`
