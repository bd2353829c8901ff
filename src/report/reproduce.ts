// The comment's "Reproduce locally" block: the commands that repeat the run on one's own machine
// (`alloc-balance run` with the commits and the inputs the workflow set), and where the run's own
// report and traces are when the workflow uploaded them.
import type { RunReport } from '../core/model.js';
import { runOptions, shellWord } from '../inputs/local-run.js';
import { DEFAULT_SERVER_URL } from './source-links.js';

/** `npx` of the action's release from GitHub, or the CLI of a checkout of alloc-balance when the workflow ran its own (`uses: ./`). */
function toolCommand(tool: string): string {
  const at = tool.indexOf('@');
  if (tool === '') return 'node dist/cli.js';
  const spec = at < 0 ? `github:${tool}` : `github:${tool.slice(0, at)}#${tool.slice(at + 1)}`;
  return `npx --yes ${shellWord(spec)}`;
}

/** The commands, one a line; null when the report lacks what they need (older reports, the demo). */
export function reproduceCommands(report: RunReport, serverUrl = DEFAULT_SERVER_URL): string[] | null {
  const local = report.localRun;
  const change = report.change;
  const base = change?.baseSha || report.base.sha;
  const head = change?.headSha || report.pr.sha;
  if (!local || !change || !base || !head || !local.repository) return null;
  const name = local.repository.split('/').pop() ?? 'repo';
  const fetch = change.prNumber !== null ? `git fetch origin pull/${change.prNumber}/head ${base}` : `git fetch origin ${head} ${base}`;
  const run = ['sudo', toolCommand(local.tool), 'run', '--base', base, '--head', head, ...runOptions(local.inputs)].join(' ');
  return [`git clone ${serverUrl}/${local.repository}.git && cd ${shellWord(name)}`, fetch, run];
}

/** The collapsed block, or '' when there is nothing to give. */
export function reproduceMarkdown(report: RunReport, opts: { serverUrl?: string; artifactsUrl?: string | null } = {}): string {
  const commands = reproduceCommands(report, opts.serverUrl || DEFAULT_SERVER_URL);
  if (commands === null) return '';
  const fromCheckout =
    report.localRun?.tool === '' ? ' (`node dist/cli.js`: from a checkout of alloc-balance, the action this workflow ran with `uses: ./`)' : '';
  const lines = [
    '',
    '<details><summary>Reproduce locally</summary>',
    '',
    `On Debian 12 or Ubuntu, as root: the same check, base against PR${fromCheckout}. It prints the table and writes the report, the comment and the traces to a new folder under /tmp (\`--out DIR\` to choose); with \`target: vm\` it first installs QEMU and a kernel with apt. Build what the workflow built before this step (a workload outside the module's tree) first.`,
    '',
    '```sh',
    ...commands,
    '```',
  ];
  if (opts.artifactsUrl) {
    lines.push('', `This run's report, traces and logs: the [run's artifacts](${opts.artifactsUrl}), when the workflow uploads its \`output-dir\`.`);
  }
  lines.push('', '</details>', '');
  return lines.join('\n');
}
