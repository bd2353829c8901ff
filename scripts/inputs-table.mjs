// The README's table of inputs and outputs, made from action.yml (which test/inputs/table.test.ts
// holds against src/inputs/table.ts), so that the two cannot drift.
//   node scripts/inputs-table.mjs          rewrite the table between the README's markers
//   node scripts/inputs-table.mjs --check  exit 1 when the README's table is not the one action.yml makes
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const ROOT = join(import.meta.dirname, '..');
const START = '<!-- inputs: made by scripts/inputs-table.mjs from action.yml; edit action.yml, then run it -->';
const END = '<!-- inputs: end -->';

const cell = (text) => String(text).replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();

export function inputsTable(actionYml) {
  const action = parse(actionYml);
  const lines = ['| input | default | |', '| --- | --- | --- |'];
  for (const [name, spec] of Object.entries(action.inputs)) {
    const def = spec.default === undefined || spec.default === '' ? '' : `\`${cell(spec.default)}\``;
    lines.push(`| \`${name}\` | ${def} | ${cell(spec.description ?? '')} |`);
  }
  lines.push('', '| output | |', '| --- | --- |');
  for (const [name, spec] of Object.entries(action.outputs ?? {})) lines.push(`| \`${name}\` | ${cell(spec.description ?? '')} |`);
  return lines.join('\n');
}

export function withTable(readme, table) {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${START} ... ${END} markers`);
  return `${readme.slice(0, a + START.length)}\n${table}\n${readme.slice(b)}`;
}

if (process.argv[1] === import.meta.filename) {
  const readmePath = join(ROOT, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const next = withTable(readme, inputsTable(readFileSync(join(ROOT, 'action.yml'), 'utf8')));
  if (process.argv.includes('--check')) {
    if (next !== readme) {
      console.error('README.md: the inputs table is not the one action.yml makes: run node scripts/inputs-table.mjs');
      process.exit(1);
    }
  } else writeFileSync(readmePath, next);
}
