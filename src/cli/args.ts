// A small option reader for the subcommands: `--name value`, `--name=value`, repeated options,
// flags, positional arguments; every mistake is a UsageError naming the option.
import { UsageError } from '../errors.js';

export interface ArgSpec {
  /** Options that take a value (may repeat). */
  values: string[];
  /** Options without a value. */
  flags: string[];
}

export interface ParsedArgs {
  values: Map<string, string[]>;
  flags: Set<string>;
  positional: string[];
}

export function parseArgs(command: string, args: string[], spec: ArgSpec): ParsedArgs {
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  const positional: string[] = [];
  for (let k = 0; k < args.length; k++) {
    const arg = args[k];
    if (!arg.startsWith('--') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = (eq > 0 ? arg.slice(2, eq) : arg.slice(2)).trim();
    if (spec.flags.includes(name)) {
      if (eq > 0) throw new UsageError(`${command}: --${name} takes no value`);
      flags.add(name);
    } else if (spec.values.includes(name)) {
      let value: string | undefined;
      if (eq > 0) value = arg.slice(eq + 1);
      else {
        value = args[++k];
        if (value === undefined || (value.startsWith('--') && value.length > 2)) throw new UsageError(`${command}: --${name} needs a value`);
      }
      values.set(name, [...(values.get(name) ?? []), value]);
    } else {
      const known = [...spec.values, ...spec.flags].map((o) => `--${o}`).join(', ');
      throw new UsageError(`${command}: unknown option --${name} (known: ${known})`);
    }
  }
  return { values, flags, positional };
}
