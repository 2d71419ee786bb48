/**
 * Summaries and the one results table of `npm run bench`: each row is a median over repeated runs
 * with min and max, and (for times) a ratio against a baseline measured in the same run, because
 * absolute times on shared machines are noise.
 */

export interface Summary {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly n: number
}

export const summarize = (values: ReadonlyArray<number>): Summary => {
  if (values.length === 0) throw new Error("summarize: no values")
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, n: sorted.length }
}

export type Verdict = "met" | "MISSED" | "must met, target MISSED" | "—"

export interface Row {
  readonly name: string
  readonly unit: string
  readonly summary: Summary
  /** What the ratio divides by (a row measured in the same run). */
  readonly baseline?: { readonly name: string; readonly median: number }
  readonly target: string
  readonly verdict: Verdict
  /** Facts checked on the side (refresh counts, exit codes), shown after the table. */
  readonly notes?: ReadonlyArray<string>
}

export const ratioOf = (row: Row): number | undefined =>
  row.baseline === undefined ? undefined : row.summary.median / row.baseline.median

/** Verdict for "ratio ≤ target (must ≤ must)". */
export const ratioVerdict = (ratio: number, target: number, must?: number): Verdict =>
  ratio <= target ? "met" : must !== undefined && ratio <= must ? "must met, target MISSED" : "MISSED"

const fmt = (x: number, unit: string): string => {
  if (unit === "gets/s") return Math.round(x).toLocaleString("en-US")
  if (unit === "MB") return x.toFixed(1)
  if (unit === "count") return String(x)
  return x >= 100 ? x.toFixed(0) : x.toFixed(1)
}

/** The markdown table. */
export const table = (rows: ReadonlyArray<Row>): string => {
  const head = "| row | median | min | max | n | baseline (median) | ratio | target | verdict |"
  const sep = "|---|---:|---:|---:|---:|---|---:|---|---|"
  const lines = rows.map((r) => {
    const ratio = ratioOf(r)
    const u = r.unit === "count" ? "" : ` ${r.unit}`
    return `| ${r.name} | ${fmt(r.summary.median, r.unit)}${u} | ${fmt(r.summary.min, r.unit)} | ${fmt(r.summary.max, r.unit)} | ${r.summary.n} | ` +
      `${r.baseline ? `${r.baseline.name} (${fmt(r.baseline.median, r.unit)}${u})` : "—"} | ` +
      `${ratio === undefined ? "—" : `${ratio.toFixed(2)}×`} | ${r.target} | ${r.verdict} |`
  })
  return [head, sep, ...lines].join("\n")
}
