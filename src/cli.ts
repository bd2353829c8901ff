// The `alloc-balance` command line: the same code as the action. Each subcommand lives in
// src/cli/<name>.ts and returns an exit code; this file is the one place that exits.
import pkg from '../package.json' with { type: 'json' };
import { UsageError, InputError } from './errors.js';
import { commandHelp, mainHelp } from './cli/help.js';
import { EXIT } from './cli/exit-codes.js';

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  analyze: async () => (await import('./cli/analyze.js')).analyzeCommand,
  compare: async () => (await import('./cli/compare.js')).compareCommand,
  lab: async () => (await import('./cli/lab.js')).labCommand,
  target: async () => (await import('./cli/target.js')).targetCommand,
  demo: async () => (await import('./cli/demo.js')).demoCommand,
  run: async () => (await import('./cli/run.js')).runCommand,
};

const wantsHelp = (args: string[]) => args.includes('--help') || args.includes('-h');

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    console.log(pkg.version);
    return EXIT.ok;
  }
  if (!name || name === '--help' || name === '-h') {
    console.log(mainHelp(pkg.version));
    return EXIT.ok;
  }
  if (name === 'help') {
    const [topic, ...more] = rest;
    if (topic === undefined) console.log(mainHelp(pkg.version));
    else if (!Object.hasOwn(COMMANDS, topic)) throw new UsageError(`help: unknown command "${topic}"; the commands are ${Object.keys(COMMANDS).join(', ')}`);
    else if (more.length > 0) throw new UsageError(`help: give one command, not "${rest.join(' ')}"`);
    else console.log(commandHelp(topic));
    return EXIT.ok;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    throw new UsageError(
      `unknown ${name.startsWith('-') ? 'option' : 'command'} "${name}"; the commands are ${Object.keys(COMMANDS).join(', ')} (alloc-balance --help)`,
    );
  }
  if (wantsHelp(rest)) {
    console.log(commandHelp(name));
    return EXIT.ok;
  }
  return (await command())(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || error instanceof InputError) {
      console.error(`alloc-balance: ${error.message}`);
      process.exitCode = EXIT.usage;
      return;
    }
    // Not the user's input: say what broke; the stack only on request.
    const detail = error instanceof Error ? (process.env.ALLOC_BALANCE_DEBUG ? (error.stack ?? error.message) : error.message) : String(error);
    console.error(`alloc-balance: internal error: ${detail} (set ALLOC_BALANCE_DEBUG=1 for the stack)`);
    process.exitCode = EXIT.internal;
  },
);
