// A RunReport as the action builds it, from the recorded kni_like runs (test/data/recorded): the
// fixed module as the base, the leaky one (lad_dev never freed) as the PR, 3 cycles each.
import { readFileSync } from 'node:fs';
import { analyzeTraces } from '../../src/core/analyze-traces.js';
import { compare } from '../../src/verdict/traces.js';
import { applyLocations } from '../../src/core/locations.js';
import type { AnalysisResult, RunReport, SideRun } from '../../src/core/model.js';
import { decideVerdict } from '../../src/verdict/decide.js';
import { NETDEV, recorded } from './trace-fixtures.js';

// The commits and fork of the pull_request_fork / workflow_run_fork events in test/data/events.
export const BASE_SHA = '9f2c1e0b7d4a3c58e6f1a2b3c4d5e6f708192a3b';
export const HEAD_SHA = '4e7d2c9a1b0f8e3d6c5b4a39281706f5e4d3c2b1';
export const HEAD_REPO = 'eve-contrib/kni-driver';

/** As the action records it for the comment's reproduce block: the repository, the action as the workflow named it, the inputs it set. */
export const LOCAL_RUN = {
  repository: 'nic-lab/kni-driver',
  tool: 'nic-lab/alloc-balance@v1',
  inputs: { workload: './tools/kni_like_app -n 2', 'ready-pattern': '^ready', hold: '0.5' },
};

async function recordedAnalysis(name: string): Promise<{ analysis: AnalysisResult; kernel: string }> {
  const { file, map, stats, slabinfo } = recorded(name);
  const analysis = await analyzeTraces({
    traces: [file('trace.txt')],
    pairs: [NETDEV],
    stats,
    slabinfo,
    kprobeProfile: file('kprobe-profile.txt'),
    moduleMap: map,
  });
  applyLocations(analysis, new Map(Object.entries(JSON.parse(readFileSync(file('locations.json'), 'utf8')) as Record<string, string>)));
  const status = JSON.parse(readFileSync(file('status.json'), 'utf8')) as { kernel: string };
  return { analysis, kernel: status.kernel };
}

function side(which: 'base' | 'pr', sha: string, analysis: AnalysisResult, patch: Partial<SideRun>): SideRun {
  return { side: which, ref: which === 'base' ? 'main' : 'fix-port-teardown', sha, status: 'ok', timings: {}, analysis, ...patch };
}

/** The demo's case on recorded traces; `patch` changes a side (a failed run, a log excerpt). */
export async function recordedReport(patch: { base?: Partial<SideRun>; pr?: Partial<SideRun>; runner?: string } = {}): Promise<RunReport> {
  const base = await recordedAnalysis('kni-like-fixed-3cycles');
  const pr = await recordedAnalysis('kni-like-leaky-3cycles');
  const baseRun = side('base', BASE_SHA, base.analysis, patch.base ?? {});
  const prRun = side('pr', HEAD_SHA, pr.analysis, patch.pr ?? {});
  return {
    schema: 'alloc-balance/report@1',
    runner: { name: patch.runner ?? 'nic-runner-1', kernel: pr.kernel, target: 'vm' },
    module: 'kni_like',
    pairs: ['alloc_netdev_mqs:free_netdev'],
    base: baseRun,
    pr: prRun,
    comparison: decideVerdict(baseRun, prRun, 'new-leak', compare),
    change: { event: 'pull_request', prNumber: 57, baseSha: BASE_SHA, headSha: HEAD_SHA, headRepo: HEAD_REPO, isFork: true },
    localRun: LOCAL_RUN,
  };
}
