// Bad frees on a recorded trace (demo/leak-shapes, -DLEAK_ITEM, track: auto, 6.1): lines in the
// kernel's own format put in after the module's release() of cycle 1, each a case the rule must
// tell apart. The unchanged trace is the base.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compare } from '../../src/verdict/traces.js';
import type { PairSpec } from '../../src/core/model.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { analyzeRanges, recorded } from '../support/trace-fixtures.js';

const r = recorded('shapes-kmem-cache-leak', 'leak_shapes');
const status = JSON.parse(readFileSync(r.file('status.json'), 'utf8'));
const pairs = status.tracing.track as PairSpec[];
const trace = readFileSync(r.file('trace.txt'), 'utf8');
/** The module's last kfree of cycle 1's release(): `kfree: call_site=0xffffffffc0232037 ptr=ffff88803fe12ae0`. */
const AFTER = '7.497064: kfree: call_site=0xffffffffc0232037 ptr=ffff88803fe12ae0\n';

const line = (t: string, event: string) => `           sleep-149     [001] .....     7.4970${t}: ${event}\n`;
const INSERTED = [
  // The module frees its kstrdup'ed name (freed at 7.497052 by the same site) again.
  line('65', 'kfree: call_site=0xffffffffc0232026 ptr=ffff8880052d60a0'),
  line('66', '<stack trace>'),
  ' => trace_event_raw_event_kfree <ffffffff812b7290>\n',
  ' => kfree <ffffffff812b9c1a>\n',
  ' => 0xffffffffc0232026 <ffffffffc0232026>\n',
  ' => __fput <ffffffff81366a10>\n',
  ' => task_work_run <ffffffff810c2c7e>\n',
  // kfree(NULL) and kfree(ZERO_SIZE_PTR) are traced too, and free nothing.
  line('67', 'kfree: call_site=0xffffffffc0232026 ptr=0000000000000000'),
  line('68', 'kfree: call_site=0xffffffffc0232026 ptr=0000000000000010'),
  // An address nobody allocated in the trace, freed by module code.
  line('69', 'kfree: call_site=0xffffffffc023202f ptr=ffff888012345678'),
  // A buffer the kernel allocated and handed over (kobject_get_path), freed by the module.
  line('70', 'kmalloc: call_site=kobject_get_path+0x4d/0xf0 ptr=ffff888012340000 bytes_req=24 bytes_alloc=32 gfp_flags=GFP_KERNEL node=-1 accounted=false'),
  line('71', 'kfree: call_site=0xffffffffc0232037 ptr=ffff888012340000'),
  // The module's label (freed at 7.497060) allocated again by other code, then freed by the module.
  line('72', 'kmalloc: call_site=kobject_get_path+0x4d/0xf0 ptr=ffff88803ffbeba0 bytes_req=8 bytes_alloc=8 gfp_flags=GFP_KERNEL node=-1 accounted=false'),
  line('73', 'kfree: call_site=0xffffffffc023202f ptr=ffff88803ffbeba0'),
  // The module's item (freed at 7.497044) freed again by other code: not the module's free.
  line('74', 'kmem_cache_free: call_site=rcu_do_batch+0x19a/0x540 ptr=ffff88800bcabd80 name=leak_shapes_item'),
].join('');

function withBadFrees(): string {
  const at = trace.indexOf(AFTER);
  if (at < 0) throw new Error('the recorded trace lacks the release() line the cases follow');
  return trace.slice(0, at + AFTER.length) + INSERTED + trace.slice(at + AFTER.length);
}

const base = analyzeRanges(trace, { pairs, moduleMap: r.map });
const pr = analyzeRanges(withBadFrees(), { pairs, moduleMap: r.map });

describe('bad frees', () => {
  it('none in the recorded run: every kfree(NULL) and every free of the kernel own objects left alone', () => {
    expect(base.complete).toBe(true);
    expect(base.pairs[0].badFrees).toBeUndefined();
  });

  it('a second free by module code and a free of an address never allocated, each with its call site, cycle and stack', () => {
    const bad = pr.pairs[0].badFrees ?? [];
    expect(bad.map((b) => [b.kind, b.caller, b.address, b.cycle, b.fn])).toEqual([
      ['double-free', 'leak_shapes_release+0x26', '0xffff8880052d60a0', 1, 'kfree'],
      ['never-allocated', 'leak_shapes_release+0x2f', '0xffff888012345678', 1, 'kfree'],
    ]);
    expect(bad[0]).toMatchObject({ allocatedBy: 'leak_shapes_open+0x40', firstFreedBy: 'leak_shapes_release+0x26' });
    expect(bad[0].stack).toEqual(['leak_shapes_release+0x26', '__fput', 'task_work_run']);
    expect(bad[1].stack).toBeUndefined();
    // The counts are those of the base: a bad free releases nothing.
    expect(pr.pairs[0].module).toEqual(base.pairs[0].module);
  });

  it('a new bad free on the PR fails the check under new-leak, and the comment lists it with its stack', () => {
    const c = compare(base, pr);
    expect(c.verdict).toBe('fail');
    expect(c.headline).toBe('❌ fail: PR frees an object a second time (double free) at leak_shapes_release (1 on the PR, base none) (+1 more)');
    expect(c.badFrees?.map((b) => [b.kind, b.caller, b.base, b.pr, b.isNew])).toEqual([
      ['double-free', 'leak_shapes_release', 0, 1, true],
      ['never-allocated', 'leak_shapes_release', 0, 1, true],
    ]);
    const md = renderMarkdown(c, { base, pr });
    expect(md).toContain('<details><summary>Bad frees (PR)</summary>');
    expect(md).toContain(
      'double free of `0xffff8880052d60a0` by `leak_shapes_release+0x26`, cycle 1, kfree (allocated by `leak_shapes_open+0x40`, first freed by `leak_shapes_release+0x26`)',
    );
    expect(md).toContain('stack: `leak_shapes_release+0x26 ← __fput ← task_work_run`');
  });

  it('the same bad frees on the base are no new ones: new-leak passes on them, any-leak fails', () => {
    expect(compare(pr, pr).verdict).toBe('pass');
    expect(compare(pr, pr, 'any-leak').verdict).toBe('fail');
    expect(compare(base, pr, 'never').verdict).toBe('pass');
  });
});
