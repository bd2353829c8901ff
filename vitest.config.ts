import { defineConfig } from 'vitest/config';

/**
 * Tests that need the kernel lab (`lab setup`) end in `.vm.test.ts`: they build modules against its
 * headers, boot it in QEMU or run the bundled action on it, as root. Every other test is a unit test
 * (test/test-names.test.ts fails on a test under test/e2e, or named `-vm`, that breaks this rule).
 */
const KERNEL = ['test/**/*.vm.test.ts'];
/** Real DPDK: the user-space build takes both cores for minutes, so it runs after the rest, alone. */
const REAL_DPDK = ['test/e2e/documented-dpdk-workflow.vm.test.ts'];

export default defineConfig({
  test: {
    // Kernel tests boot QEMU under software emulation: minutes, not seconds, on a 2-core machine.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    maxWorkers: 2,
    reporters: ['default', './test/support/closing-line-reporter.ts'],
    projects: [
      {
        extends: true,
        // The unit files share their worker's modules: importing the sources once per worker, not once per file, is half the tier's time.
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...KERNEL, 'test/e2e/**'], testTimeout: 60_000, isolate: false },
      },
      { extends: true, test: { name: 'kernel', include: KERNEL, exclude: REAL_DPDK } },
      { extends: true, test: { name: 'real-dpdk', include: REAL_DPDK, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
