// What `alloc-balance <command> --help` prints: usage, what the command does, its options, and
// examples that run as written from a checkout of alloc-balance.
import { defaultChoice, defaultNumber } from '../inputs/table.js';
import { EXIT } from './exit-codes.js';

interface CommandHelp {
  /** One line for the command list. */
  summary: string;
  /** The synopsis, without "usage: alloc-balance". */
  usage: string;
  description: string[];
  options: [string, string][];
  examples: string[];
}

export const HELP: Record<string, CommandHelp> = {
  analyze: {
    summary: 'count allocations and frees in trace files',
    usage:
      'analyze --trace FILE|- [--trace FILE ...] --pair ALLOC:FREE [--pair ...] [--stats FILE ...] ' +
      '[--slabinfo FILE ...] [--module NAME] [--ko FILE.ko] [--nm FILE] [--sections FILE.json] [--json]',
    description: [
      'Reads ftrace text (function tracer, kprobe events or kmem tracepoints), pairs each allocator with',
      'its releaser, and counts per call site and per workload cycle what was allocated and never freed.',
    ],
    options: [
      ['--trace FILE|-', 'a trace file, or - for standard input; several are read as one trace'],
      ['--pair ALLOC:FREE', 'an allocator/releaser pair, e.g. alloc_netdev_mqs:free_netdev (repeatable, or comma-separated)'],
      ['--stats FILE', 'per_cpu/cpuN/stats of the trace instance: lost events make the result incomplete'],
      ['--slabinfo FILE', '/proc/slabinfo before and after (two files, or one holding both): the slab cross-check'],
      ['--module NAME', 'the module under test: call sites outside it are shown, never counted against it (without it, the leak is read over all)'],
      ['--ko FILE.ko', 'the module built with debug info: symbols, and file:line of its call sites'],
      ['--nm FILE, --sections FILE.json', 'instead of --ko, given together: `nm -f sysv` output and the loaded section addresses'],
      ['--json', 'the analysis as JSON, for `compare`'],
    ],
    examples: [
      'alloc-balance analyze --trace test/data/case-rte-kni-before-fix.trace --pair alloc_netdev_mqs:free_netdev',
      'alloc-balance analyze --trace test/data/case-rte-kni-after-fix.trace --pair alloc_netdev_mqs:free_netdev --json > pr.json',
      'cat /sys/kernel/tracing/trace | alloc-balance analyze --trace - --pair kmalloc:kfree --module kni_like',
    ],
  },
  compare: {
    summary: 'compare a base and a PR analysis: verdict and balance table',
    usage: 'compare BASE.json PR.json | compare REPORT.json [--fail-on new-leak|any-leak|never] [--json|--markdown]',
    description: [
      'Compares two outputs of `analyze --json`, base then PR, or the two sides of the report.json the action',
      'wrote. A trace that lost events or a pair a side never traced makes the verdict inconclusive.',
      `Exit status: ${EXIT.ok} pass, ${EXIT.fail} fail, ${EXIT.inconclusive} inconclusive, ${EXIT.usage} bad input.`,
    ],
    options: [
      ['--fail-on POLICY', 'new-leak (default): the PR leaks where the base did not, or more; any-leak: the PR leaks at all; never'],
      ['--json', 'the comparison as JSON'],
      ['--markdown', 'the table as the PR comment shows it'],
    ],
    examples: [
      'alloc-balance compare base.json pr.json',
      'alloc-balance compare base.json pr.json --fail-on any-leak --markdown > comment.md',
      'alloc-balance compare alloc-balance-out/report.json',
    ],
  },
  lab: {
    summary: "lab setup: QEMU and a kernel from Debian's archive for the VM target (lab plan: name the release only)",
    usage: 'lab setup|plan [--kernel LINE|RELEASE] [--qemu] [--dir DIR] [--owner UID:GID] [--json]',
    description: [
      "Installs QEMU and the tools (apt, as root), downloads a kernel's image, headers and kbuild",
      "packages from Debian's archive (verified against its signed indexes, never installed) into the",
      'lab, and prepares the kernel and initramfs the VM target boots. A second call finds them ready.',
      '`plan` installs the tools and names the release a set-up would prepare, without preparing it.',
    ],
    options: [
      [
        '--kernel LINE|RELEASE',
        '5.10, 6.1 or 6.12 (the newest of that line in the archive, or the newest the lab holds), or an exact release like 6.12.118+deb12-amd64 (default: 6.1)',
      ],
      ['--qemu', "instead of a kernel: a QEMU new enough for every emulated NIC of vm-nics (igb needs 8.0), from Debian's backports, extracted into the lab"],
      ['--dir DIR', 'where the lab keeps its kernels (default: /var/cache/alloc-balance/lab, or $ALLOC_BALANCE_LAB)'],
      ['--owner UID:GID', 'hand the lab directory to this user afterwards (a runner user that caches it)'],
      ['--json', 'what was set up (or planned), as JSON'],
    ],
    examples: [
      'sudo alloc-balance lab setup',
      'sudo alloc-balance lab setup --kernel 5.10',
      'sudo alloc-balance lab plan --kernel 6.12 --json',
      'sudo alloc-balance lab setup --qemu',
      'sudo alloc-balance lab setup --dir /tmp/lab --owner "$(id -u):$(id -g)"',
    ],
  },
  target: {
    summary: 'target run --job FILE: the kernel-side part of a run (as root)',
    usage: 'target run --job FILE | target cleanup --state FILE',
    description: [
      'The part of a run that touches the kernel, started by the action on the runner or inside the VM:',
      'load the module, trace the workload cycles, unload, collect. `cleanup` undoes what a killed run left.',
    ],
    options: [
      ['run --job FILE', 'the job the action wrote (job.json): module, workload, pairs, cycles, out dir'],
      ['cleanup --state FILE', 'the undo log of a run: restores tracing, removes probes, unloads the module'],
    ],
    examples: [
      'sudo alloc-balance target run --job alloc-balance-out/pr/job.json',
      'sudo alloc-balance target cleanup --state alloc-balance-out/pr/cleanup-state.json',
    ],
  },
  demo: {
    summary: 'base vs PR of a small leaky module in a VM, table printed',
    usage: 'demo [--out DIR] [--cycles N] [--kernel LINE|RELEASE] [--error-paths auto|all|off] [--keep]',
    description: [
      'Builds a KNI-shaped test module at a fixed and at a leaky commit, runs each in a VM and prints',
      'the balance table; exit 0 when the leak is caught. Run it as root from a checkout.',
    ],
    options: [
      ['--out DIR', "where the report, the PR comment and the traces go (default: a new folder under the system's temporary folder)"],
      ['--cycles N', `workload cycles per side (default: ${defaultNumber('cycles')})`],
      ['--kernel LINE|RELEASE', 'the VM kernel as for lab setup: 5.10, 6.1, 6.12 or an exact release (default: 6.1)'],
      ['--error-paths auto|all|off', `the error-path sweep after the cycles, as the action's input (default: ${defaultChoice('error-paths')})`],
      ['--keep', 'keep the temporary repository and worktrees'],
    ],
    examples: ['sudo alloc-balance demo', 'sudo alloc-balance demo --cycles 5 --out /tmp/demo', 'sudo alloc-balance demo --kernel 5.10'],
  },
  run: {
    summary: "the action's check on your own repository, base against head, outside GitHub Actions",
    usage: 'run --base REF [--head REF] [--repo DIR] [--out DIR] [--INPUT VALUE ...]',
    description: [
      'Builds the module at both commits of the git repository in the current folder, runs each on the target',
      '(a VM by default, set up with apt on first use) and prints the balance table, as the action does on a PR.',
      'Every input of the action that is not about GitHub is an option of the same name (--module-dir, --workload,',
      '--cycles, --track, --target, --preset, --dpdk-portmask, ...), with the same default. Run it as root.',
      `Exit status: ${EXIT.ok} pass, ${EXIT.fail} fail, ${EXIT.inconclusive} inconclusive, ${EXIT.usage} bad input.`,
    ],
    options: [
      ['--base REF', 'the commit to compare against (required), e.g. origin/main'],
      ['--head REF', 'the commit under test (default: HEAD)'],
      ['--repo DIR', 'the git repository (default: the current folder)'],
      ['--out DIR', "report.json, comment.md, traces and logs (default: a new folder under the system's temporary folder)"],
      ['--INPUT VALUE', "any input of action.yml but mode, output-dir, the refs and GitHub's (token, check name, comment, forks)"],
    ],
    examples: [
      'sudo alloc-balance run --base origin/main --module-dir driver --workload "./tools/exercise-driver 2" --ready-pattern "^ready"',
      'sudo alloc-balance run --base v22.07 --head my-fix --preset dpdk-kni --dpdk-portmask 0x3',
    ],
  },
};

export function usageLine(command: string): string {
  return `usage: alloc-balance ${HELP[command].usage}`;
}

export function commandHelp(command: string): string {
  const h = HELP[command];
  const width = Math.max(...h.options.map(([o]) => o.length));
  return [
    usageLine(command),
    '',
    ...h.description,
    '',
    'options:',
    ...h.options.map(([o, text]) => `  ${o.padEnd(width)}  ${text}`),
    '',
    'examples:',
    ...h.examples.map((e) => `  ${e}`),
    '',
  ].join('\n');
}

export function mainHelp(version: string): string {
  const names = Object.keys(HELP);
  const width = Math.max(...names.map((n) => n.length));
  return [
    `alloc-balance ${version}: proves that a kernel-module patch does not leak kernel memory`,
    '',
    'usage: alloc-balance <command> [options]',
    '       alloc-balance <command> --help',
    '       alloc-balance --version',
    '',
    'commands:',
    ...names.map((n) => `  ${n.padEnd(width)}  ${HELP[n].summary}`),
    '',
    'exit status:',
    `  ${EXIT.ok} pass (or done), ${EXIT.fail} fail, ${EXIT.inconclusive} inconclusive, ${EXIT.usage} bad input (the error names it), ${EXIT.internal} internal error`,
    '',
  ].join('\n');
}
