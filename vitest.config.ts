import { defineConfig } from 'vitest/config';

/** Real DPDK: the user-space build takes both cores for minutes, so it runs after the rest, alone. */
const REAL_DPDK = ['test/e2e/dpdk-debian-vm.test.ts'];

export default defineConfig({
  test: {
    // Kernel tests boot QEMU under software emulation: minutes, not seconds, on a 2-core machine.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    maxWorkers: 2,
    reporters: ['default', './test/support/closing-line-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: REAL_DPDK, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'real-dpdk', include: REAL_DPDK, sequence: { groupOrder: 1 } } },
    ],
  },
});
