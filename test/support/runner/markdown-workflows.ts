// The ```yaml blocks of the project's markdown, each keyed by its file and the heading it sits
// under, and what kind of YAML it is: a whole workflow, a list of steps, or a job's keys.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export type BlockKind = 'workflow' | 'steps' | 'job-keys';

export interface YamlBlock {
  /** `file › heading`, with ` #2` for a second block under the same heading. */
  key: string;
  file: string;
  heading: string;
  /** 1-based line of the opening fence. */
  line: number;
  kind: BlockKind;
  text: string;
}

export function yamlBlocks(root: string, file: string): YamlBlock[] {
  const text = readFileSync(`${root}/${file}`, 'utf8');
  const blocks: YamlBlock[] = [];
  const seen = new Map<string, number>();
  let heading = '';
  let fence: { line: number; lines: string[]; yaml: boolean } | null = null;
  text.split('\n').forEach((l, i) => {
    if (fence) {
      if (/^```\s*$/.test(l)) {
        if (fence.yaml) {
          const body = `${fence.lines.join('\n')}\n`;
          const doc = parse(body) as unknown;
          const kind: BlockKind = Array.isArray(doc) ? 'steps' : doc && typeof doc === 'object' && 'jobs' in doc ? 'workflow' : 'job-keys';
          const base = `${file} › ${heading}`;
          const n = (seen.get(base) ?? 0) + 1;
          seen.set(base, n);
          blocks.push({ key: n === 1 ? base : `${base} #${n}`, file, heading, line: fence.line, kind, text: body });
        }
        fence = null;
      } else fence.lines.push(l);
      return;
    }
    const h = /^#{1,6}\s+(.*)$/.exec(l);
    if (h) heading = h[1].trim();
    const open = /^```(\S*)/.exec(l);
    if (open) fence = { line: i + 1, lines: [], yaml: /^ya?ml$/.test(open[1]) };
  });
  return blocks;
}

/** The lines of a step list or job-keys block, re-indented under `indent` spaces. */
export function reindent(text: string, indent: number): string {
  const lines = text.split('\n').filter((l, i, all) => l.trim() !== '' || i < all.length - 1);
  const min = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length));
  return lines.map((l) => (l.trim() === '' ? '' : `${' '.repeat(indent)}${l.slice(min)}`)).join('\n');
}
