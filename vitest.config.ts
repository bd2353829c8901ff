import { defineConfig } from 'vitest/config';

/**
 * Tests that need the kernel lab (`lab setup`): they build modules against its headers, boot it in
 * QEMU or run the bundled action on it, as root.
 */
const KERNEL = [
  'test/e2e/**/*.test.ts',
  'test/lab/vm.test.ts',
  'test/lab/image.test.ts',
  'test/presets/kni-build.test.ts',
  'test/presets/kni-preset-vm.test.ts',
  'test/kernel-side/build.test.ts',
  'test/kernel-side/runner-vm.test.ts',
];
/** Real DPDK: the user-space build takes both cores for minutes, so it runs after the rest, alone, one file at a time. */
const REAL_DPDK = ['test/e2e/dpdk-debian-vm.test.ts', 'test/e2e/documented-dpdk-workflow.test.ts'];

export default defineConfig({
  test: {
    // Kernel tests boot QEMU under software emulation: minutes, not seconds, on a 2-core machine.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    maxWorkers: 2,
    reporters: ['default', './test/support/closing-line-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: KERNEL, testTimeout: 60_000 } },
      { extends: true, test: { name: 'kernel', include: KERNEL, exclude: REAL_DPDK } },
      { extends: true, test: { name: 'real-dpdk', include: REAL_DPDK, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
