// The verdict on two traces as data: its state, the cause the headline is written from, the reasons.
import { describe, expect, it } from 'vitest';
import { badFreeRows, comparisonRows } from '../../src/core/compare.js';
import type { AnalysisResult } from '../../src/core/model.js';
import { headlineText } from '../../src/report/headline.js';
import { compare, judgeTraces } from '../../src/verdict/traces.js';
import { analyzeText, fixture, NETDEV } from '../support/trace-fixtures.js';

const before = () => analyzeText(fixture('case-rte-kni-before-fix.trace'), { pairs: [NETDEV] });
const after = () => analyzeText(fixture('case-rte-kni-after-fix.trace'), { pairs: [NETDEV] });
const judge = (base: AnalysisResult, pr: AnalysisResult, failOn: 'new-leak' | 'any-leak' | 'never' = 'new-leak') =>
  judgeTraces(base, pr, failOn, comparisonRows(base, pr), badFreeRows(base, pr));

describe('judgeTraces', () => {
  it('a new leak: fail, blamed on the PR with the failing row', () => {
    const v = judge(after(), before());
    expect(v.state).toBe('fail');
    expect(v.blame).toBe('pr');
    expect(v.cause.kind).toBe('leak');
    if (v.cause.kind !== 'leak') return;
    expect(v.cause.findings).toHaveLength(1);
    expect(v.cause.findings[0]).toMatchObject({ kind: 'leak', row: { pair: 'alloc_netdev_mqs:free_netdev', total: true, status: 'new-leak' } });
  });

  it('the fix: pass, with the rates of both sides for the headline', () => {
    const v = judge(before(), after());
    expect(v).toMatchObject({ state: 'pass', blame: 'none', cause: { kind: 'balanced', failOn: 'new-leak', prRate: 0, baseRate: 2, noAllocations: false } });
  });

  it('under fail-on: never the same leak passes', () => {
    expect(judge(after(), before(), 'never').state).toBe('pass');
  });

  it('an incomplete trace: inconclusive whatever it shows, the trace named in the cause', () => {
    const lossy = { ...before(), complete: false, lostEvents: 7 };
    const v = judge(after(), lossy);
    expect(v.state).toBe('inconclusive');
    expect(v.blame).toBe('environment');
    expect(v.cause).toMatchObject({ kind: 'untrusted-trace', unmeasured: [] });
    if (v.cause.kind === 'untrusted-trace') expect(v.cause.why).toEqual(['the PR trace lost 7 events (the trace buffer overflowed: raise trace-buffer-kb)']);
  });

  it('compare writes the headline from the cause', () => {
    const c = compare(after(), before());
    expect(c.headline).toBe(headlineText(judge(after(), before()).cause));
  });
});
