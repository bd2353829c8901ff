// The workload: what runs once per cycle on the target. One type from the inputs (or a preset)
// to the job file, whose `workload` is this with the folder it runs in.
import { InputError } from '../errors.js';
import { readChoice, readNumber, readText, type InputReader } from './table.js';

export interface Workload {
  /** Shell command (`sh -c`), started once per cycle in its own process group. */
  command: string;
  /** Regular expression on the workload's output (stdout and stderr) that says it is ready. */
  readyPattern: string;
  /** Shell command polled every 200 ms until it exits 0, e.g. `ip link show vEth0` (a preset's check; no input). */
  readyCommand: string;
  /** With neither readyPattern nor readyCommand: ready after this many seconds. */
  readyDelaySeconds: number;
  readyTimeoutSeconds: number;
  /** How long the workload keeps running once ready. */
  holdSeconds: number;
  stopSignal: NodeJS.Signals;
  /** SIGKILL to the whole process group this many seconds after stopSignal. */
  graceSeconds: number;
  /** Added to the environment it starts with (a preset's; no input). */
  env: Record<string, string>;
}

function regex(read: InputReader, name: 'ready-pattern'): string {
  const raw = read(name);
  if (raw === '') return '';
  try {
    new RegExp(raw);
  } catch (e) {
    throw new InputError(name, raw, `a valid regular expression (${(e as Error).message})`);
  }
  return raw;
}

/** stop-signal may be written `int`, `SIGINT` or `sigint`. */
function signalSpelling(read: InputReader): InputReader {
  return (name) => {
    const raw = read(name).trim().toUpperCase();
    return raw === '' || raw.startsWith('SIG') ? raw : `SIG${raw}`;
  };
}

/** The workload inputs; an empty input gives the table's default. */
export function readWorkload(read: InputReader): Workload {
  return {
    command: readText(read, 'workload'),
    readyPattern: regex(read, 'ready-pattern'),
    readyCommand: '',
    readyDelaySeconds: readNumber(read, 'ready-delay'),
    readyTimeoutSeconds: readNumber(read, 'ready-timeout'),
    holdSeconds: readNumber(read, 'hold'),
    stopSignal: readChoice<NodeJS.Signals>(signalSpelling(read), 'stop-signal'),
    graceSeconds: readNumber(read, 'grace'),
    env: {},
  };
}

/** The workload with every input at its default (what a job file that leaves a field out gets). */
export function defaultWorkload(): Workload {
  return readWorkload(() => '');
}
