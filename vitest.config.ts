import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/reliability/**/*.soak.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Process tests spawn children; two cores do not like more than this.
    maxWorkers: 2
  }
})
