// What the DPDK builds need on the build machine, checked before anything is built, so that a
// missing tool is named with its package instead of surfacing as a failed build step.
import { runSync } from '../process/run-sync.js';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { BuildPlan } from '../module-build/build-plan.js';

interface Requirement {
  /** What is looked for, as a user would name it. */
  what: string;
  kind: 'program' | 'python-module' | 'header';
  name: string;
  /** Debian/Ubuntu package that provides it. */
  debianPackage: string;
}

const MESON: Requirement[] = [
  { what: 'meson', kind: 'program', name: 'meson', debianPackage: 'meson' },
  { what: 'ninja', kind: 'program', name: 'ninja', debianPackage: 'ninja-build' },
  { what: 'pkg-config', kind: 'program', name: 'pkg-config', debianPackage: 'pkg-config' },
  { what: 'pyelftools (the python3 module elftools)', kind: 'python-module', name: 'elftools', debianPackage: 'python3-pyelftools' },
];
const COMPILER: Requirement[] = [
  { what: 'make', kind: 'program', name: 'make', debianPackage: 'make' },
  { what: 'a C compiler (cc)', kind: 'program', name: 'cc', debianPackage: 'gcc' },
];
const LIBNUMA: Requirement = { what: 'libnuma headers (numaif.h)', kind: 'header', name: 'numaif.h', debianPackage: 'libnuma-dev' };

/** Everything the plans need, each requirement once. `userspace` plans also link DPDK's libraries. */
export function requirementsOf(plans: readonly { plan: BuildPlan; userspace: boolean }[]): Requirement[] {
  const out = new Map<string, Requirement>();
  const add = (rs: Requirement[]) => {
    for (const r of rs) out.set(`${r.kind}:${r.name}`, r);
  };
  for (const { plan, userspace } of plans) {
    add(COMPILER);
    if (plan.kind === 'meson') add(MESON);
    if (userspace) add([LIBNUMA]);
  }
  return [...out.values()];
}

export interface Probe {
  program(name: string): boolean;
  pythonModule(name: string): boolean;
  header(name: string): boolean;
}

export function missingRequirements(reqs: readonly Requirement[], probe: Probe): Requirement[] {
  return reqs.filter((r) => !(r.kind === 'program' ? probe.program(r.name) : r.kind === 'header' ? probe.header(r.name) : probe.pythonModule(r.name)));
}

/** One sentence naming what is missing and the command that installs it. */
export function describeMissing(missing: readonly Requirement[]): string {
  const packages = [...new Set(missing.map((r) => r.debianPackage))];
  return (
    `the DPDK build needs ${missing.map((r) => r.what).join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not installed: ` +
    `sudo apt-get install -y ${packages.join(' ')}`
  );
}

function onPath(program: string, env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      // not in this dir
    }
  }
  return false;
}

const succeeds = (cmd: string, args: string[], input?: string) => runSync(cmd, args, { input }).ok;

/** This machine: PATH, the compiler's include path, and python3 - or the python meson runs on, which DPDK falls back to. */
export function machineProbe(env: NodeJS.ProcessEnv = process.env): Probe {
  return {
    program: (name) => onPath(name, env),
    pythonModule: (name) => succeeds('python3', ['-c', `import ${name}`]) || (onPath('meson', env) && succeeds('meson', ['runpython', '-c', `import ${name}`])),
    header: (name) => succeeds('cc', ['-E', '-x', 'c', '-o', '/dev/null', '-'], `#include <${name}>\n`),
  };
}
