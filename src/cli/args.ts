// The one option reader of the subcommands: node:util's parseArgs (strict: `--name value`,
// `--name=value`, repeated options, flags), its errors turned into one UsageError line naming the
// option and the fix.
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';

/** An option that takes a value ('string', repeatable when `multiple`) or a flag ('boolean'). */
export type OptionSpec = Record<string, { type: 'string'; multiple?: boolean } | { type: 'boolean' }>;

type Values<O extends OptionSpec> = {
  [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : O[K] extends { multiple: true } ? string[] : string;
};

interface ParsedArgs<O extends OptionSpec> {
  values: Values<O>;
  positionals: string[];
}

/**
 * Reads `args` of `command` (e.g. "analyze", "lab setup"). `positionals`: how many arguments
 * without an option the command takes at most (default none). A single-valued option given twice
 * keeps the last value.
 */
export function readArgs<O extends OptionSpec>(command: string, args: string[], options: O, positionals = 0): ParsedArgs<O> {
  const known = Object.keys(options)
    .map((o) => `--${o}`)
    .join(', ');
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (e) {
    const error = e as Error & { code?: string };
    const option = /'(-[^' ]*)/.exec(error.message)?.[1] ?? '';
    if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw new UsageError(`${command}: unknown option ${option}${known ? ` (known: ${known})` : ' (it takes none)'}`);
    }
    if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const name = option.replace(/^-+/, '');
      if (options[name]?.type === 'boolean') throw new UsageError(`${command}: ${option} takes no value`);
      throw new UsageError(`${command}: ${option} needs a value (write ${option}=VALUE for a value that starts with a dash)`);
    }
    throw new UsageError(`${command}: ${error.message.split('\n')[0]}`);
  }
  if (parsed.positionals.length > positionals) {
    const extra = parsed.positionals[positionals];
    throw new UsageError(`${command}: unexpected argument "${extra}"${positionals === 0 ? ' (it takes options only)' : ''}`);
  }
  return { values: parsed.values as Values<O>, positionals: parsed.positionals };
}
