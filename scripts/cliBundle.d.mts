// Types for scripts/cliBundle.mjs (used by the TypeScript benchmark).
import type { BuildOptions, Metafile, Plugin } from "esbuild"

export declare const requireShim: string
export declare const common: BuildOptions
export declare const lazySegmenter: Plugin
export declare const undiciNamedExports: Plugin
export declare const lazyBuiltins: Plugin
export declare const effectSubpathImports: Plugin
export declare const rewriteBarrelImports: (source: string) => string
export declare const vendorOnDemand: Plugin
export declare const VENDORED: ReadonlyArray<string>
export declare const builtinsWithoutFacade: (names: ReadonlyArray<string>) => Plugin
export declare const cliEsmOptions: (outdir: string, fastPaths: { readonly status: string; readonly token: string }) => BuildOptions
export declare const cliFastOptions: (outdir: string) => BuildOptions
export declare const fastPathNames: (metafile: Metafile, outdir: string) => { readonly status: string; readonly token: string }
export declare const vendorOptions: (outdir: string) => BuildOptions
export declare const SHEBANG: string
export declare const fsWithoutFacade: Plugin
