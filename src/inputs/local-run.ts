// The inputs `alloc-balance run` takes as options (--module-dir, --workload, ...): every input of
// the action but those that only concern GitHub. The action records the ones a workflow set, so
// that the comment can give the command that repeats the run on one's own machine.
import { INPUT_NAMES, INPUTS, type InputName, type InputReader, actionYmlDefault } from './table.js';

/** Where to post, which event, who may run: nothing a local run needs (--base, --head and --out stand for the refs and output-dir). */
const GITHUB_ONLY: ReadonlySet<InputName> = new Set<InputName>([
  'mode',
  'inconclusive',
  'comment',
  'github-token',
  'check-name',
  'reports',
  'base-ref',
  'head-ref',
  'pr-number',
  'allow-fork-code',
  'approval-label',
  'output-dir',
]);

export const LOCAL_RUN_INPUTS: readonly InputName[] = INPUT_NAMES.filter((name) => !GITHUB_ONLY.has(name));

/** The local-run inputs the workflow set to something else than their default, by name, in table order. */
export function givenRunInputs(read: InputReader): Record<string, string> {
  const given: Record<string, string> = {};
  for (const name of LOCAL_RUN_INPUTS) {
    const value = read(name).trim();
    if (value !== '' && value !== actionYmlDefault(INPUTS[name])) given[name] = value;
  }
  return given;
}

/** A word for a POSIX shell: as is when safe, else single-quoted. */
export function shellWord(text: string): string {
  // '#' starts a comment only at the start of a word.
  if (/^[A-Za-z0-9_./:=@%+,-][A-Za-z0-9_./:=@%+,#-]*$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** `--name value` for each given input, quoted for the shell. Multi-line values (track, vm-folders) go on one line, comma- or line-separated as the input reads them. */
export function runOptions(given: Record<string, string>): string[] {
  return Object.entries(given).map(([name, value]) => {
    const oneLine =
      name === 'track'
        ? value
            .split(/\s*[\n,]\s*/)
            .filter(Boolean)
            .join(',')
        : value;
    return `--${name} ${shellWord(oneLine)}`;
  });
}
