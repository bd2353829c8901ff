// Loading and unloading the module under test, and where its sections landed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand, type CommandResult } from '../process/run.js';

/** Pure: is `name` listed in /proc/modules text. */
export function modulesListHas(procModules: string, name: string): boolean {
  return procModules.split('\n').some((l) => l.split(' ')[0] === name);
}

export function isModuleLoaded(name: string, procModules = '/proc/modules'): boolean {
  return modulesListHas(readFileSync(procModules, 'utf8'), name);
}

/** Splits module parameters like a shell would for simple `a=1 b="x y"` strings. */
export function splitModuleArgs(args: string): string[] {
  const out: string[] = [];
  const re = /(?:[^\s"']+|"[^"]*"|'[^']*')+/g;
  for (const m of args.matchAll(re)) out.push(m[0].replace(/(["'])(.*?)\1/g, '$2'));
  return out;
}

export function insmod(path: string, args: string, timeoutSeconds = 120): Promise<CommandResult> {
  return runCommand('insmod', [path, ...splitModuleArgs(args)], { timeoutSeconds });
}

export function rmmod(name: string, timeoutSeconds = 120): Promise<CommandResult> {
  return runCommand('rmmod', [name], { timeoutSeconds });
}

export interface UnloadIo {
  rmmod(name: string): Promise<CommandResult>;
  isLoaded(name: string): boolean;
  delayMs: number;
}

const MACHINE: UnloadIo = { rmmod: (name) => rmmod(name), isLoaded: (name) => isModuleLoaded(name), delayMs: 300 };

/**
 * Unloads `name`, retrying while it is busy: the module stays in use for a moment while a killed
 * workload's files are closed. Done when it is no longer loaded, whoever unloaded it.
 */
export async function unloadModule(name: string, attempts = 10, io: UnloadIo = MACHINE): Promise<{ ok: true } | { ok: false; why: string }> {
  let why = '';
  for (let i = 1; ; i++) {
    if (!io.isLoaded(name)) return { ok: true };
    const r = await io.rmmod(name);
    if (r.code === 0 || !io.isLoaded(name)) return { ok: true };
    why = (r.stderr || r.stdout).trim() || r.error || `exit ${r.code}`;
    if (i >= attempts) return { ok: false, why };
    await new Promise((res) => setTimeout(res, io.delayMs));
  }
}

/**
 * Section start addresses of a loaded module (`/sys/module/NAME/sections/*`). .init.text is
 * gone once init returned on most kernels; what exists is recorded as it is.
 */
export function readSections(name: string, sysModule = '/sys/module'): Record<string, string> {
  const dir = join(sysModule, name, 'sections');
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir).sort()) {
    try {
      out[entry] = readFileSync(join(dir, entry), 'utf8').trim();
    } catch {
      /* unreadable entry: skip */
    }
  }
  return out;
}

/** The module's core (text and data, without init) as /proc/modules gives it: base address and size. */
export function moduleCoreRange(procModules: string, name: string): { start: bigint; end: bigint } | null {
  const line = procModules.split('\n').find((l) => l.split(' ')[0] === name);
  const f = line?.split(/\s+/) ?? [];
  const size = Number(f[1]);
  const address = f.find((x) => /^0x[0-9a-f]+$/i.test(x));
  if (!address || !Number.isFinite(size) || size <= 0 || /^0x0+$/.test(address)) return null;
  const start = BigInt(address);
  return { start, end: start + BigInt(size) };
}

/**
 * Pure: where each named function lies in /proc/kallsyms text (`ADDR T name` lines, in address
 * order): from its address to the next symbol's. Names not found are left out.
 */
export function symbolRanges(kallsyms: string, names: string[]): { name: string; start: bigint; end: bigint }[] {
  const out: { name: string; start: bigint; end: bigint }[] = [];
  for (const name of names) {
    const m = new RegExp(`^([0-9a-f]+) [Tt] ${name}\\n([0-9a-f]+) `, 'm').exec(kallsyms);
    if (!m) continue;
    const start = BigInt(`0x${m[1]}`);
    const end = BigInt(`0x${m[2]}`);
    if (start > 0n && end > start) out.push({ name, start, end });
  }
  return out;
}
