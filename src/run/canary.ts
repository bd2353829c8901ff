// The canary (input `canary`): a module with one planted leak per cycle, shipped with the action
// in kmod/canary, built for the target kernel and run through the same target runner and tracing
// as the sides. If the analysis does not find exactly that leak, the detector does not work on
// this machine or kernel, and no verdict on the module under test can be trusted.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CanaryResult, SideRun } from '../core/model.js';
import { callerKey } from '../core/frames.js';
import { leakRate } from '../core/leak-rate.js';
import type { SidePlan, TracingPlan } from './side-plan.js';
import { findHelperDir, type HelperBuilds, type HelperModule } from './helper-modules.js';
import { runSide } from './side.js';
import type { TargetRunner } from './launcher.js';
import { describeStatus } from '../report/status-text.js';
import { CANARY_CYCLES, CANARY_MODULE, CANARY_PAIR, CANARY_SITE } from '../core/canary-module.js';

export const CANARY: HelperModule = { folder: 'canary', name: CANARY_MODULE, what: 'the canary module' };

/** kmod/canary of the action: beside dist/ in the bundle (dist/../kmod/canary), at the repository root from src/run/ (tests). */
export function findCanaryDir(from?: string): string {
  return findHelperDir(CANARY, from);
}

/** Pure: did the canary run show exactly 1 leaked object per cycle at its call site? */
export function judgeCanary(run: SideRun, kernel: string): CanaryResult {
  const result: CanaryResult = { caught: false, site: CANARY_SITE, leakedPerCycle: null, cycles: CANARY_CYCLES, status: run.status, kernel };
  if (run.status !== 'ok') return { ...result, reason: `the canary run failed: ${describeStatus(run)}` };
  const a = run.analysis;
  if (!a) return { ...result, reason: 'the canary run produced no trace' };
  result.cycles = a.cycles;
  const pair = a.pairs.find((p) => p.alloc === CANARY_PAIR.alloc && p.free === CANARY_PAIR.free);
  if (!pair) return { ...result, reason: `the canary trace holds no ${CANARY_PAIR.alloc}:${CANARY_PAIR.free} pair` };
  const site = pair.callers.filter((c) => c.inModule === true && callerKey(c.caller) === CANARY_SITE);
  const growth = new Map<number, number>();
  let outstanding = 0;
  for (const c of site) {
    outstanding += c.outstanding;
    for (const pc of c.perCycle) if (pc.cycle >= 1) growth.set(pc.cycle, (growth.get(pc.cycle) ?? 0) + pc.outstandingAfter);
  }
  const rate =
    site.length === 0
      ? 0
      : leakRate(
          [...growth.entries()].sort((x, y) => x[0] - y[0]).map((e) => e[1]),
          outstanding,
        );
  result.leakedPerCycle = rate;
  const location = site.find((c) => c.location)?.location;
  if (location) result.location = location;
  if (!a.complete) {
    return { ...result, reason: `the canary trace is incomplete (${a.problems[0] ?? `${a.lostEvents} events lost`})` };
  }
  if (a.cycles !== CANARY_CYCLES) return { ...result, reason: `the canary trace shows ${a.cycles} cycles instead of ${CANARY_CYCLES}` };
  if (site.length === 0) {
    return { ...result, reason: `no allocation at ${CANARY_SITE} was attributed to the canary module (${pair.allocs} ${CANARY_PAIR.alloc} calls traced)` };
  }
  if (rate !== 1 || pair.leakedPerCycle !== 1) {
    return { ...result, reason: `expected 1 object leaked per cycle at ${CANARY_SITE}, measured ${rate} (module total ${pair.leakedPerCycle})` };
  }
  return { ...result, caught: true };
}

function canaryRunId(): string {
  return `ab${`${process.pid.toString(36)}${Date.now().toString(36)}`.slice(-12)}c`;
}

/** The canary's run: its module and workload (in `dir`, a copy of kmod/canary), the job's tracing. */
export function canaryPlan(tracing: TracingPlan, dir: string): SidePlan {
  return {
    ...tracing,
    cycles: CANARY_CYCLES,
    track: [CANARY_PAIR],
    build: { moduleDir: '.', buildCommand: '', moduleArgs: '', moduleName: CANARY_MODULE },
    workload: {
      command: `sh ${resolve(dir, 'workload.sh')}`,
      readyPattern: '^ready',
      readyCommand: '',
      readyDelaySeconds: 1,
      readyTimeoutSeconds: 30,
      holdSeconds: 0.2,
      stopSignal: 'SIGTERM',
      graceSeconds: 5,
      env: {},
    },
  };
}

/**
 * Builds the canary for the runner's kernel (in a temporary copy of kmod/canary) and runs it for
 * CANARY_CYCLES cycles with the job's tracing. Its job, trace and logs go to outDir.
 */
export async function runCanary(
  tracing: TracingPlan,
  runner: TargetRunner,
  io: { log: (line: string) => void; onUndoFile?: (file: string) => void; onTempDir?: (dir: string) => void; helpers?: HelperBuilds },
  outDir: string,
  canaryDir: string = findCanaryDir(),
): Promise<CanaryResult> {
  const work = mkdtempSync(join(tmpdir(), 'alloc-balance-canary-'));
  io.onTempDir?.(work);
  try {
    cpSync(canaryDir, work, { recursive: true });
    const run = await runSide(
      { side: 'pr', ref: 'canary', sha: '', dir: work },
      {
        plan: canaryPlan(tracing, work),
        runner,
        outDir,
        runId: canaryRunId(),
        log: (line) => io.log(line.replace(/^pr: /, 'canary: ')),
        onUndoFile: io.onUndoFile,
        onTempDir: io.onTempDir,
        helpers: io.helpers,
      },
    );
    const result = judgeCanary(run, runner.kernel.release);
    io.log(result.caught ? `canary: caught, 1 object/cycle at ${CANARY_SITE}` : `canary: NOT caught: ${result.reason}`);
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
