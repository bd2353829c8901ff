// The helper modules the action builds at run time, built for real against each kernel line the
// lab takes from Debian's archive: a helper that does not build on a kernel leaves its feature
// off there (the error-path sweep, the kernel-API memory, the canary), which a run only notes.
import { describe, expect, it } from 'vitest';
import { findLabKernel } from '../../src/lab/lab-kernel.js';
import { API_WATCH } from '../../src/run/api-memory.js';
import { CANARY } from '../../src/run/canary.js';
import { FAILSITE } from '../../src/run/error-paths.js';
import { withHelperBuilds } from '../../src/run/helper-modules.js';

describe('the helper modules build for every kernel line of the lab', () => {
  for (const line of ['5.10', '6.1', '6.12']) {
    it(`Linux ${line}: failsite, apiwatch and the canary`, async () => {
      const kernel = findLabKernel(line);
      const built = await withHelperBuilds({}, (helpers) =>
        Promise.all([FAILSITE, API_WATCH, CANARY].map((h) => helpers.module(h, kernel.buildDir).then((ko) => ko.endsWith(`/${h.name}.ko`)))),
      );
      expect(built).toEqual([true, true, true]);
    });
  }
});
