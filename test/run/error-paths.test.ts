// What an injected cycle did besides leaking, from the kernel side's record of it and, for the
// site the VM died at, how the VM ended.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SweepSiteRun } from '../../src/core/error-paths.js';
import { siteBreakage } from '../../src/run/error-paths.js';

const done: SweepSiteRun = { site: 'abcase_open+0x1f', dir: 'error-paths/02', injected: true, loaded: true, workload: 'failed', unloaded: true, seconds: 1.2 };
const oops = readFileSync(join(import.meta.dirname, '..', 'data', 'splats', 'null-deref-oops.txt'), 'utf8');

describe('what failing a site broke', () => {
  it('nothing, when the cycle ended and the module unloaded', () => {
    expect(siteBreakage(done, undefined)).toBeUndefined();
  });

  it('the kernel, when the VM panicked while the site was running: what and where from the console', () => {
    expect(siteBreakage({ ...done, running: true }, { kind: 'crash', excerpt: oops })).toEqual({
      kind: 'crash',
      what: 'NULL pointer dereference',
      where: 'kni_like_init+0x2c',
    });
  });

  it('the kernel, as a hang, when the VM stopped answering while the site was running', () => {
    expect(siteBreakage({ ...done, running: true }, { kind: 'hang' })).toEqual({ kind: 'hang' });
  });

  it('nothing known of a site left running in a run that ended otherwise', () => {
    expect(siteBreakage({ ...done, running: true }, undefined)).toBeUndefined();
  });

  it("the cycle, at the sweep's own limit; the module, when it stayed loaded; a crash the kernel survived", () => {
    expect(siteBreakage({ ...done, hungAfter: 131 }, undefined)).toEqual({ kind: 'hang', seconds: 131 });
    expect(siteBreakage({ ...done, unloaded: false }, undefined)).toEqual({ kind: 'stuck' });
    expect(siteBreakage({ ...done, crash: { what: 'general protection fault', where: 'abcase_open+0x30' } }, undefined)).toEqual({
      kind: 'crash',
      what: 'general protection fault',
      where: 'abcase_open+0x30',
    });
  });
});
