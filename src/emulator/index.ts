/**
 * The Qwen OAuth emulator (emulator.md): a real HTTP server on 127.0.0.1 for tests, benchmarks
 * and the demo. Not part of the published package.
 *
 * @since 0.1.0
 */
export { Emulator, type EmulatorHandle, make } from "./Emulator.ts"
export {
  defaultConfig,
  type EmulatorConfig,
  type EmulatorMode,
  type EmulatorOptions,
  type FaultKind,
  MODES,
  resolveConfig
} from "./EmulatorConfig.ts"
export { parseFlags, USAGE } from "./flags.ts"
export type { Stats } from "./Stats.ts"
