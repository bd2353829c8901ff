// The `alloc-balance` command line: the same code as the action. Each subcommand lives in
// src/cli/<name>.ts and returns an exit code; this file is the one place that exits.
import { UsageError, InputError } from './settings/input-error.js';

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  analyze: { summary: 'count allocations and frees in trace files', load: async () => (await import('./cli/analyze.js')).analyzeCommand },
  compare: { summary: 'compare a base and a PR analysis: verdict and balance table', load: async () => (await import('./cli/compare.js')).compareCommand },
  lab: { summary: 'lab setup: install QEMU, a kernel and its headers for the VM target (lab plan: name the release only)', load: async () => (await import('./cli/lab.js')).labCommand },
  target: { summary: 'target run --job FILE: the kernel-side part of a run (as root)', load: async () => (await import('./cli/target.js')).targetCommand },
  demo: { summary: 'base vs PR of a small leaky module in a VM, table printed', load: async () => (await import('./cli/demo.js')).demoCommand },
};

function usage(): string {
  const lines = ['usage: alloc-balance <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(9)} ${c.summary}`);
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 64;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`alloc-balance: unknown command "${name}"\n${usage()}`);
    return 64;
  }
  return (await command.load())(rest);
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
