import { describe, expect, it } from 'vitest';
import { applyErrorPaths } from '../../src/verdict/decide.js';
import type { Comparison, ErrorPathSite, ErrorPaths } from '../../src/core/model.js';
import { errorPathRows, errorPathsMarkdown, errorPathsText } from '../../src/report/error-paths.js';

function site(name: string, extra: Partial<ErrorPathSite> = {}): ErrorPathSite {
  return { site: name, injected: true, loaded: true, workload: 'failed', unloaded: true, leaks: [], ...extra };
}

const passing: Comparison = {
  verdict: 'pass',
  failOn: 'new-leak',
  headline: '✅ pass: no new leak',
  reasons: [],
  rows: [],
  base: { complete: true, lostEvents: 0, cycles: 3 },
  pr: { complete: true, lostEvents: 0, cycles: 3 },
};

const crash = { kind: 'crash' as const, what: 'NULL pointer dereference', where: 'abcase_open+0x2a' };
const base: ErrorPaths = {
  module: 'abcase',
  sites: [
    site('abcase_init+0x10', { allocator: 'kmalloc', location: 'abcase.c:40', loaded: false, workload: 'not-run' }),
    site('abcase_open+0x1a', { allocator: 'kzalloc', location: 'abcase.c:18' }),
    site('abcase_read+0x30'),
  ],
  seconds: 6,
};
const pr: ErrorPaths = {
  module: 'abcase',
  sites: [
    site('abcase_init+0x10', { allocator: 'kmalloc', location: 'abcase.c:40', loaded: false, workload: 'not-run' }),
    site('abcase_open+0x1f', { allocator: 'kzalloc', location: 'abcase.c:19', injected: false, breakage: crash }),
  ],
  notSwept: ['abcase_read+0x31'],
  stopped: 'failing the kzalloc at abcase_open:19 crashed the kernel (NULL pointer dereference in abcase_open+0x2a)',
  seconds: 3,
};

describe('the error-path section when the PR crashed the kernel', () => {
  const c = applyErrorPaths(passing, { errorPaths: base }, { errorPaths: pr });

  it('has a row per site: the crash on the PR, and the sites after it not swept', () => {
    expect(errorPathRows({ base, pr })).toEqual([
      ['kmalloc at abcase_init:40', 'nothing (insmod failed)', 'nothing (insmod failed)'],
      ['kzalloc at abcase_open:19', 'nothing (workload failed)', 'crashed the kernel (NULL pointer dereference in abcase_open+0x2a)'],
      ['abcase_read', 'nothing (workload failed)', 'not swept'],
    ]);
  });

  it('opens with the finding and says where the sweep stopped', () => {
    const md = errorPathsMarkdown(c, { base, pr })!;
    expect(md).toMatch(/^<details open><summary>Error paths: 2 call sites failed one at a time, 1 new finding \(base 6 s, PR 3 s\)<\/summary>/);
    expect(md).toContain('- ❌ failing the kzalloc at abcase_open:19 crashed the kernel (NULL pointer dereference in abcase_open+0x2a)\n');
    expect(md).toContain(
      '- PR: the sweep stopped: failing the kzalloc at abcase_open:19 crashed the kernel (NULL pointer dereference in abcase_open+0x2a); 1 site not swept\n',
    );
    expect(errorPathsText(c, { base, pr })).toContain(
      '  PR: the sweep stopped: failing the kzalloc at abcase_open:19 crashed the kernel (NULL pointer dereference in abcase_open+0x2a); 1 site not swept',
    );
  });

  it('lists what the PR found where the base never got, without failing on it', () => {
    const later = {
      ...pr,
      sites: [
        ...pr.sites.slice(0, 1),
        site('abcase_open+0x1f', { allocator: 'kzalloc', location: 'abcase.c:19', leaks: [{ caller: 'abcase_init+0x8', pair: 'kmalloc:kfree', count: 1 }] }),
      ],
      notSwept: undefined,
      stopped: undefined,
    };
    const stoppedBase = { ...base, sites: base.sites.slice(0, 1), notSwept: ['abcase_open+0x1a'] };
    const cc = applyErrorPaths(passing, { errorPaths: stoppedBase }, { errorPaths: later });
    expect(cc.verdict).toBe('pass');
    expect(errorPathsMarkdown(cc, { base: stoppedBase, pr: later })).toContain(
      "- not compared (the base's sweep never reached the site): when the kzalloc at abcase_open:19 fails, the object from abcase_init is never freed",
    );
  });
});
