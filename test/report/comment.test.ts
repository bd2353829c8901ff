// The PR comment of a run: the same text in full mode and in report mode (the fork-safe flow),
// with the canary line, the failed side's log excerpt (no terminal control characters), the
// outstanding objects, and one line of commits, kernel, target, runner and run.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AccelUsed, RunReport } from '../../src/core/model.js';
import { accelLine, renderComment, renderRunnersComment, contextLine, trackedMarkdown } from '../../src/report/comment.js';
import { mergeReports } from '../../src/verdict/runners.js';
import { runPipeline, type PipelineIo } from '../../src/run/pipeline.js';
import { parseSettings } from '../../src/settings/settings.js';
import { plainText } from '../../src/report/plain-text.js';
import { runUrl } from '../../src/report/source-links.js';
import { whatToDoMarkdown } from '../../src/report/what-to-do.js';
import { compare } from '../../src/verdict/traces.js';
import { BYTES_NOTE, MODULE_ROW_NOTE } from '../../src/report/markdown.js';
import { applyCanary, decideVerdict } from '../../src/verdict/decide.js';
import { useGitHubServer } from '../support/github-server.js';
import { eventPath, FAST_RETRY, loadEvent, stepSummaryFile } from '../support/github-env.js';
import { BASE_SHA, HEAD_SHA, recordedReport } from '../support/recorded-report.js';
import { useTempDir } from '../support/temp-dir.js';

const CONSOLE = readFileSync(join(import.meta.dirname, '..', 'lab', 'data', 'oops-insmod.console.txt'), 'utf8');
const TOKEN = 'ghs_test0000000000000000000000000000000';
const dir = useTempDir('alloc-balance-comment-');
stepSummaryFile();

const server = useGitHubServer();

/** The leaky PR run, with the canary caught, as full mode would render it. */
async function canaryReport(): Promise<RunReport> {
  const report = await recordedReport();
  report.canary = {
    caught: true,
    site: 'ab_canary_open',
    location: 'canary/ab_canary.c:31',
    leakedPerCycle: 1,
    cycles: 2,
    status: 'ok',
    kernel: report.runner.kernel,
  };
  return report;
}

/** A PR side whose module oopsed on load: the VM's real serial console as the excerpt. */
async function oopsReport(): Promise<RunReport> {
  return recordedReport({
    pr: { status: 'kernel-splat', reason: 'the kernel crashed (panic or oops) during the run', logExcerpt: CONSOLE, analysis: undefined },
  });
}

describe('the comment of one report', () => {
  it('strips terminal control characters from a console excerpt, keeping its lines', async () => {
    expect(CONSOLE).toContain('\x1bc\x1b[?7l\x1b[2J');
    const md = renderComment(await oopsReport(), { checkName: 'alloc-balance' });
    expect(md).toContain('<details><summary>PR: the kernel reported an error: the kernel crashed');
    expect(md).toContain('SeaBIOS (version 1.16.2-debian-1.16.2-1)\n');
    expect(md).toMatch(/BUG: kernel NULL pointer dereference|Oops/);
    expect(md).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    expect(plainText('\x1b[1;31mred\x1b[0m\ttab\r\nline\x1b]0;title\x07 \x1b(Bdone\x00\x7f')).toBe('red\ttab\nline done');
  });

  it('ends the small print with commits linked, kernel, target, runner and the run', async () => {
    const report = await recordedReport();
    const env = { GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'nic-lab/kni-driver', GITHUB_RUN_ID: '14120386231', GITHUB_RUN_ATTEMPT: '2' };
    expect(runUrl(env)).toBe('https://github.com/nic-lab/kni-driver/actions/runs/14120386231/attempts/2');
    expect(runUrl({})).toBeNull();
    expect(contextLine(report, { runUrl: runUrl(env) })).toBe(
      `base [\`9f2c1e0b7d4a\`](https://github.com/eve-contrib/kni-driver/commit/${BASE_SHA}) → PR ` +
        `[\`4e7d2c9a1b0f\`](https://github.com/eve-contrib/kni-driver/commit/${HEAD_SHA}) · ` +
        `kernel ${report.runner.kernel} · target vm · runner nic-runner-1 · ` +
        `[workflow run](https://github.com/nic-lab/kni-driver/actions/runs/14120386231/attempts/2)`,
    );
    const demo = { ...report, change: undefined };
    expect(contextLine(demo, {})).toBe(`base \`9f2c1e0b7d4a\` → PR \`4e7d2c9a1b0f\` · kernel ${report.runner.kernel} · target vm · runner nic-runner-1`);
    expect(renderComment(report, { checkName: 'alloc-balance' })).toContain(
      `<sub>${MODULE_ROW_NOTE}<br>${BYTES_NOTE}<br>base: 3 cycles · PR: 3 cycles · fail-on: new-leak<br>${contextLine(report, {})}</sub>`,
    );
  });

  it('says when the base came from the Actions cache and which run measured it', async () => {
    const url = 'https://github.com/nic-lab/kni-driver/actions/runs/14120380000';
    const cached = { key: 'alloc-balance-base-v1-6.1.0-57-amd64-9f2c1e0b7d4a-0123', runId: '14120380000', runUrl: url, savedAt: '2026-12-06T13:00:00.000Z' };
    const report = await recordedReport({ base: { cached } });
    const line = contextLine({ ...report, change: undefined }, {});
    expect(line).toBe(
      `base \`9f2c1e0b7d4a\` → PR \`4e7d2c9a1b0f\` · kernel ${report.runner.kernel} · target vm · runner nic-runner-1 · base from the Actions cache (measured by [run 14120380000](${url}))`,
    );
    expect(renderComment(report, { checkName: 'alloc-balance' })).toContain(`base from the Actions cache (measured by [run 14120380000](${url}))`);
    const local = await recordedReport({ base: { cached: { ...cached, runId: '', runUrl: null } } });
    expect(contextLine(local, {})).toContain(' · base from the Actions cache (measured by an earlier run)');
    expect(contextLine(await recordedReport(), {})).not.toContain('Actions cache');
  });

  it('names the accelerator the VMs ran under after the target; reports without it (older, target host) leave it out', async () => {
    const tcg: AccelUsed = { kind: 'tcg', why: 'the CPU offers no vmx/svm (nested virtualization off)' };
    const kvm: AccelUsed = { kind: 'kvm', why: '/dev/kvm read-write, CPU with vmx' };
    const both = (accel: AccelUsed) => recordedReport({ base: { accel }, pr: { accel } });
    const line = (r: RunReport) => contextLine({ ...r, change: undefined }, {});
    const onKvm = await both(kvm);
    expect(line(onKvm)).toBe(`base \`9f2c1e0b7d4a\` → PR \`4e7d2c9a1b0f\` · kernel ${onKvm.runner.kernel} · target vm · kvm · runner nic-runner-1`);
    expect(line(await both(tcg))).toContain(
      ' · target vm · tcg (software emulation: the CPU offers no vmx/svm (nested virtualization off)) · runner nic-runner-1',
    );
    expect(renderComment(await both(tcg), { checkName: 'alloc-balance' })).toContain('target vm · tcg (software emulation: the CPU offers no vmx/svm');
    const mixed = await recordedReport({ base: { accel: kvm }, pr: { accel: tcg } });
    expect(accelLine(mixed)).toBe('base kvm, PR tcg (software emulation: the CPU offers no vmx/svm (nested virtualization off))');
    expect(accelLine(await recordedReport({ pr: { accel: kvm } }))).toBe('kvm');
    expect(accelLine(await recordedReport())).toBe('');
    expect(line(await recordedReport())).toContain(' · target vm · runner nic-runner-1');
  });

  it('a matrix: the worst verdict on top, then each runner with its own table and details', async () => {
    const leaky = await recordedReport({ runner: 'nic-a' });
    const crashed = await recordedReport({
      runner: 'nic-b',
      pr: { status: 'kernel-splat', reason: 'the kernel crashed (panic or oops) during the run', logExcerpt: CONSOLE, analysis: undefined },
    });
    const md = renderRunnersComment(mergeReports([leaky, crashed].map((report) => ({ file: '', report }))), { checkName: 'alloc-balance' });
    expect(md.startsWith('### alloc-balance: kernel memory balance (nic-a, nic-b)\n\n**FAIL on nic-a, nic-b (2 runners): ')).toBe(true);
    expect(md).toContain('\n#### nic-a\n\n**❌ fail: PR leaks 2 objects/cycle at igb_like_probe (base 0)**');
    expect(md).toContain('\n#### nic-b\n\n**❌ fail: on the PR build the kernel reported an error: the kernel crashed');
    expect(md.match(/<summary>Outstanding objects \(PR\)<\/summary>/g)).toHaveLength(1);
    expect(md).toContain('<details><summary>PR: the kernel reported an error: the kernel crashed');
  });
});

describe('an inconclusive run says, under its verdict, what to do', () => {
  const lead = 'Not a pass: an inconclusive run is evidence neither of balance nor of a leak. **What to do:** ';

  it('lost events: raise trace-buffer-kb', async () => {
    const report = await recordedReport();
    Object.assign(report.pr.analysis!, { complete: false, lostEvents: 130, lostBy: { buffer: 130, probes: 0 } });
    report.comparison = decideVerdict(report.base, report.pr, 'new-leak', compare);
    const md = renderComment(report, { checkName: 'alloc-balance' });
    expect(report.comparison.headline).toBe('⚠️ inconclusive: the PR trace lost 130 events (the trace buffer overflowed: raise trace-buffer-kb)');
    expect(md).toContain(`**${report.comparison.headline}**\n\n${lead}raise \`trace-buffer-kb\` (per CPU; double it), then re-run.\n\n| Status |`);
  });

  it('missed return probes: more CPUs on the target', async () => {
    const report = await recordedReport();
    Object.assign(report.base.analysis!, { complete: false, lostEvents: 4, lostBy: { buffer: 0, probes: 4 } });
    report.comparison = decideVerdict(report.base, report.pr, 'new-leak', compare);
    expect(whatToDoMarkdown(report)).toBe(
      `${lead}give the target more CPUs (\`vm-cpus\`: each adds return-probe instances) or a quieter machine, then re-run.`,
    );
  });

  it('a base that could not be measured, alone or failing as the PR does, and a cancelled run', async () => {
    const notReady = { status: 'workload-not-ready' as const, reason: 'no line matched ^ready within 60 s', analysis: undefined };
    const base = await recordedReport({ base: notReady });
    expect(base.comparison.verdict).toBe('inconclusive');
    expect(renderComment(base, { checkName: 'alloc-balance' })).toContain(
      `**⚠️ inconclusive: the base build could not be measured (the workload never became ready: no line matched ^ready within 60 s)**\n\n` +
        `${lead}fix the base, or the environment it runs in, until it builds, loads and runs its workload (its log excerpt is below), then re-run.\n`,
    );
    const both = await recordedReport({ base: notReady, pr: notReady });
    expect(whatToDoMarkdown(both)).toBe(
      `${lead}base and PR fail the same way, so fix the runner or its kernel (the log excerpts below show the failure), then re-run.`,
    );
    const cancelled = await recordedReport({ pr: { status: 'cancelled', analysis: undefined } });
    expect(whatToDoMarkdown(cancelled)).toBe(`${lead}re-run the job: it was cancelled before both sides were measured.`);
  });

  it('a canary that was not caught: another kernel first', async () => {
    const report = await recordedReport();
    report.canary = { caught: false, site: 'ab_canary_open', leakedPerCycle: 0, cycles: 2, status: 'ok', kernel: report.runner.kernel, reason: 'measured 0' };
    report.comparison = applyCanary(report.comparison, report.canary, report.pr);
    expect(whatToDoMarkdown(report)).toBe(
      `${lead}run on a kernel where the canary is caught (e.g. \`target: vm\`, another \`vm-kernel\`): until then no table of this machine is evidence.`,
    );
  });

  it('a pass or a fail has no such line', async () => {
    const fail = await recordedReport();
    expect(fail.comparison.verdict).toBe('fail');
    expect(whatToDoMarkdown(fail)).toBe('');
    expect(renderComment(fail, { checkName: 'alloc-balance' })).not.toContain('What to do');
  });
});

describe('report mode posts what full mode renders', () => {
  it('the fork-safe flow: the comment holds the canary line, the objects and the context line, exactly as full mode', async () => {
    const report = await canaryReport();
    mkdirSync(join(dir, 'artifacts', 'nic-runner-1'), { recursive: true });
    writeFileSync(join(dir, 'artifacts', 'nic-runner-1', 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    server.state.pulls.set('nic-lab/kni-driver#57', loadEvent('pull_request_fork').pull_request);
    const env = {
      GITHUB_EVENT_NAME: 'workflow_run',
      GITHUB_EVENT_PATH: eventPath('workflow_run_fork'),
      GITHUB_REPOSITORY: 'nic-lab/kni-driver',
      GITHUB_API_URL: server.url,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_RUN_ID: '14120386231',
    };
    const settings = parseSettings((name) => ({ mode: 'report', reports: 'artifacts/**/report.json', 'github-token': TOKEN })[name] ?? '');
    const io: PipelineIo = {
      log: () => {},
      warn: () => {},
      group: (_, fn) => fn(),
      workspace: dir,
      saveState: () => {},
      env,
      cliPath: '',
      nodePath: '',
      githubRetry: FAST_RETRY,
    };
    const result = await runPipeline(settings, io);

    // What full mode renders for the same report (src/run/pipeline.ts, runFullOrCollect), but for
    // where the traces are: the collect run uploaded them, not this report run.
    const collectArtifacts = 'https://github.com/nic-lab/kni-driver/actions/runs/13800000002#artifacts';
    const full = renderComment(report, {
      checkName: settings.checkName,
      serverUrl: env.GITHUB_SERVER_URL,
      runUrl: runUrl(env),
      artifactsUrl: collectArtifacts,
    });
    expect(result.markdown).toBe(full);
    expect(full).toContain(`the [run's artifacts](${collectArtifacts})`);
    expect(renderComment(report, { checkName: settings.checkName, runUrl: runUrl(env) })).toContain(
      "the [run's artifacts](https://github.com/nic-lab/kni-driver/actions/runs/14120386231#artifacts)",
    );
    expect(full).toContain('🐤 Canary caught: the planted leak of ab_canary (1 netdev per cycle at ab_canary_open (ab_canary.c:31))');
    expect(full).toContain('<details><summary>Outstanding objects (PR)</summary>');
    expect(full).toContain('[workflow run](https://github.com/nic-lab/kni-driver/actions/runs/14120386231)');
    const posted = server.state.comments.get('nic-lab/kni-driver#57') ?? [];
    expect(posted).toHaveLength(1);
    expect(String(posted[0].body)).toContain(full.trim());
  });
});

describe('the families track: auto found', () => {
  it('are listed once when both sides found the same, per side when they differ, with what the kernel could not trace', () => {
    const side = (tracked: string[], notes: string[] = []) => ({ side: 'pr' as const, ref: '', sha: '', status: 'ok' as const, timings: {}, tracked, notes });
    const slab = 'slab objects (kmalloc, kmem_cache): kfree, kmalloc_trace -> kmalloc:kfree';
    const vm = 'vmalloc areas: vfree, vzalloc -> vzalloc:vfree';
    const note = 'track auto: kasprintf cannot be probed on this kernel: its allocations are attributed by their stack';
    const report = (base: ReturnType<typeof side>, pr: ReturnType<typeof side>) => ({ base, pr }) as unknown as Parameters<typeof trackedMarkdown>[0];
    expect(trackedMarkdown(report(side([slab]), side([slab])))).toBe(
      `\n<details><summary>Traced (track: auto, from the module's imports)</summary>\n\n- ${slab}\n\n</details>\n`,
    );
    const differ = trackedMarkdown(report(side([slab]), side([slab, vm], [note, 'kvfree_call_rcu traced: ...'])));
    expect(differ).toContain(`- PR: ${vm}\n- PR: kasprintf cannot be probed on this kernel: its allocations are attributed by their stack\n- base: ${slab}`);
    expect(differ).not.toContain('kvfree_call_rcu traced');
    expect(trackedMarkdown(report(side([]), side([])))).toBe('');
  });
});
