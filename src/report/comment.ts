// The PR comment (and job summary) for one or more RunReports: the same text whether the run
// posts its own report (full mode) or a report job posts collected ones (report mode).
import { changedText } from '../core/changed-code.js';
import { COMMENT_MAX_CHARS } from './truncate.js';
import type { RunReport } from '../core/model.js';
import { accelText } from './labels.js';
import { escapeCell, renderMarkdown } from './markdown.js';
import { DEFAULT_SERVER_URL, commitUrl, type SourceRef } from './source-links.js';
import { runLogsMarkdown } from './annotations.js';
import { canaryMarkdown } from './canary.js';
import { whatToDoMarkdown } from './what-to-do.js';
import { reproduceMarkdown } from './reproduce.js';

export interface CommentOptions {
  checkName: string;
  limit?: number;
  /** GITHUB_SERVER_URL; default https://github.com. */
  serverUrl?: string;
  /** The workflow run that posts the comment. */
  runUrl?: string | null;
  /** Where the run's uploaded output is: default the run's own artifacts; report mode on workflow_run: the collect run's. */
  artifactsUrl?: string | null;
}

function headSource(report: RunReport, serverUrl: string): SourceRef | undefined {
  const sha = report.change?.headSha || report.pr.sha;
  if (!report.change?.headRepo || !sha) return undefined;
  return { serverUrl, repo: report.change.headRepo, sha };
}

function commit(sha: string, repo: string | undefined, serverUrl: string): string {
  if (!sha) return '?';
  const short = `\`${sha.slice(0, 12)}\``;
  return repo ? `[${short}](${commitUrl(sha, { serverUrl, repo })})` : short;
}

/** The accelerator the VMs ran under: one text when both sides agree; '' when no side says (target host, older reports). */
export function accelLine(report: RunReport): string {
  const texts = [report.base, report.pr].map((run) => (run.accel ? accelText(run.accel) : ''));
  if (texts[0] === texts[1] || !texts[0] || !texts[1]) return escapeCell(texts[0] || texts[1]);
  return escapeCell(`base ${texts[0]}, PR ${texts[1]}`);
}

/** A base from the Actions cache: which run measured it. */
function cachedBaseText(cached: RunReport['base']['cached']): string {
  if (!cached) return '';
  const run = cached.runUrl
    ? `[run ${escapeCell(cached.runId || 'earlier')}](${cached.runUrl})`
    : cached.runId
      ? `run ${escapeCell(cached.runId)}`
      : 'an earlier run';
  return `base from the Actions cache (measured by ${run})`;
}

/** Commits, kernel, target (and its accelerator), runner and the run: what a reader needs to reproduce or find the logs. */
export function contextLine(report: RunReport, opts: Pick<CommentOptions, 'serverUrl' | 'runUrl'>): string {
  const serverUrl = opts.serverUrl || DEFAULT_SERVER_URL;
  const repo = report.change?.headRepo || undefined;
  const parts = [
    `base ${commit(report.change?.baseSha || report.base.sha, repo, serverUrl)} → PR ${commit(report.change?.headSha || report.pr.sha, repo, serverUrl)}`,
    `kernel ${escapeCell(report.runner.kernel)}`,
    `target ${report.runner.target}`,
    accelLine(report),
    `runner ${escapeCell(report.runner.name)}`,
    cachedBaseText(report.base.cached),
  ].filter((part) => part !== '');
  if (opts.runUrl) parts.push(`[workflow run](${opts.runUrl})`);
  return parts.join(' · ');
}

/** track: auto: the families each side's module was traced for, and what the kernel could not trace ('' for named pairs). */
export function trackedMarkdown(report: RunReport): string {
  const of = (run: RunReport['base']) => [...(run.tracked ?? []), ...(run.notes ?? []).filter((n) => n.startsWith('track auto: ')).map((n) => n.slice(12))];
  const base = of(report.base);
  const pr = of(report.pr);
  if (base.length === 0 && pr.length === 0) return '';
  const same = base.join('\n') === pr.join('\n');
  const lines = same ? base.map((l) => `- ${l}`) : [...pr.map((l) => `- PR: ${l}`), ...base.map((l) => `- base: ${l}`)];
  return `\n<details><summary>Traced (track: auto, from the module's imports)</summary>\n\n${escapeHtml(lines.join('\n'))}\n\n</details>\n`;
}

function escapeHtml(text: string): string {
  return text.replace(/</g, '&lt;');
}

function section(report: RunReport, title: string, limit: number, opts: CommentOptions): string {
  const serverUrl = opts.serverUrl || DEFAULT_SERVER_URL;
  const logs =
    canaryMarkdown(report.canary) +
    trackedMarkdown(report) +
    runLogsMarkdown(report) +
    reproduceMarkdown(report, { serverUrl, artifactsUrl: opts.artifactsUrl ?? (opts.runUrl ? `${opts.runUrl}#artifacts` : null) });
  return (
    renderMarkdown(report.comparison, {
      limit: limit - logs.length,
      title,
      base: report.base.analysis,
      pr: report.pr.analysis,
      source: headSource(report, serverUrl),
      context: contextLine(report, opts),
      whatToDo: whatToDoMarkdown(report),
      errorPaths: { base: report.base.errorPaths, pr: report.pr.errorPaths },
      ...(report.pr.changed?.functions.length ? { changed: changedText(report.pr.changed) } : {}),
    }) + logs
  );
}

/** One report: its verdict, table and details. */
export function renderComment(report: RunReport, opts: CommentOptions): string {
  return section(report, commentTitle(opts), opts.limit ?? COMMENT_MAX_CHARS, opts);
}

/** Several runners' reports (a matrix) merged by verdict/runners.ts: each runner's name, and the worst verdict's headline. */
export interface RunnersView {
  reports: RunReport[];
  runners: { name: string }[];
  headline: string;
}

/** Several runners' reports: the worst verdict, then one section per runner; one report is rendered as renderComment does. */
export function renderRunnersComment(merged: RunnersView, opts: CommentOptions): string {
  const { reports, runners } = merged;
  if (reports.length === 0) throw new Error('no report to render');
  if (reports.length === 1) return renderComment(reports[0], opts);
  const limit = opts.limit ?? COMMENT_MAX_CHARS;
  const head = `### ${commentTitle(opts)} (${runners.map((r) => escapeCell(r.name)).join(', ')})\n\n**${merged.headline}**\n`;
  const perSection = Math.floor((limit - head.length) / reports.length);
  const sections = reports.map((report, i) => {
    const heading = `\n#### ${escapeCell(runners[i].name)}\n\n`;
    return heading + section(report, '', perSection - heading.length, opts);
  });
  return head + sections.join('');
}

function commentTitle(opts: CommentOptions): string {
  return `${opts.checkName}: kernel memory balance`;
}
