/** The machine a benchmark ran on, for docs/benchmarks.md. */
import { readFileSync } from "node:fs"
import { availableParallelism, totalmem } from "node:os"

export const machine = (): string => {
  let cpu = "unknown CPU"
  try {
    cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? cpu
  } catch {
    // not Linux
  }
  return `${availableParallelism()} CPUs (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ` +
    `${process.platform} ${process.arch}, Node ${process.version}, ${new Date().toISOString()}`
}
