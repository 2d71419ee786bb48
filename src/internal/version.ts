/** Kept equal to package.json's version by a test (the bundles and the tsc build both need it). */
export const VERSION = "0.1.0"
