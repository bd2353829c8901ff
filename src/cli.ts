// The `alloc-balance` command line: the same code as the action. Each subcommand lives in
// src/cli/<name>.ts and returns an exit code; this file is the one place that exits.
import pkg from '../package.json' with { type: 'json' };
import { UsageError, InputError } from './errors.js';
import { commandHelp, mainHelp } from './cli/help.js';

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  analyze: async () => (await import('./cli/analyze.js')).analyzeCommand,
  compare: async () => (await import('./cli/compare.js')).compareCommand,
  lab: async () => (await import('./cli/lab.js')).labCommand,
  target: async () => (await import('./cli/target.js')).targetCommand,
  demo: async () => (await import('./cli/demo.js')).demoCommand,
};

const wantsHelp = (args: string[]) => args.includes('--help') || args.includes('-h');

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    console.log(pkg.version);
    return 0;
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    if (topic && COMMANDS[topic]) console.log(commandHelp(topic));
    else console.log(mainHelp(pkg.version));
    return name ? 0 : 64;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`alloc-balance: unknown command "${name}"\n${mainHelp(pkg.version)}`);
    return 64;
  }
  if (wantsHelp(rest)) {
    console.log(commandHelp(name));
    return 0;
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
    } else {
      // Not the user's input: say what broke; the stack only on request.
      const detail = error instanceof Error ? (process.env.ALLOC_BALANCE_DEBUG ? (error.stack ?? error.message) : error.message) : String(error);
      console.error(`alloc-balance: internal error: ${detail} (set ALLOC_BALANCE_DEBUG=1 for the stack)`);
    }
    process.exitCode = 64;
  },
);
