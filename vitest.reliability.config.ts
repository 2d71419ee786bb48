import { defineConfig } from "vitest/config"

/**
 * `npm run test:reliability`: every reliability test, soak files included, with SOAK=1 raising
 * the iteration counts (≥ 20 kills per pause phase, hundreds of random kills, long fault and
 * contention runs). Set QWEN_AUTH_TEST_SEED to replay a printed seed.
 */
export default defineConfig({
  test: {
    include: ["test/reliability/**/*.test.ts"],
    env: { SOAK: "1" },
    testTimeout: 3_600_000,
    hookTimeout: 120_000,
    // The suites spawn many children and time real lock and refresh windows: one file at a time.
    maxWorkers: 1,
    fileParallelism: false
  }
})
