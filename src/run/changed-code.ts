// The host's part of "changed code reached": the PR's changed functions from the two builds'
// disassembly, and their calls as the kernel side counted them.
import { aliasNames, changedFunctions } from '../core/changed-code.js';
import type { ChangedCode } from '../core/model.js';
import { callerKey } from '../core/frames.js';
import type { TargetStatus } from '../kernel-side/status.js';
import { disassemble, moduleSymbols } from '../module-build/module-info.js';

export async function findChangedFunctions(baseKo: string, prKo: string): Promise<string[]> {
  const [baseDump, prDump, baseNm, prNm] = await Promise.all([disassemble(baseKo), disassemble(prKo), moduleSymbols(baseKo), moduleSymbols(prKo)]);
  return changedFunctions(baseDump, prDump, { base: aliasNames(baseNm), pr: aliasNames(prNm) });
}

/** Pure: each changed function with its calls, summed over its probed entries (`f`, `f.constprop.0`). */
export function changedCalls(functions: string[], calls: TargetStatus['calls'], lifecycle: { load?: string; unload?: string } = {}): ChangedCode {
  const sum = (counts: Record<string, number> | undefined, fn: string): number | null => {
    if (!counts) return null;
    const entries = Object.entries(counts).filter(([sym]) => callerKey(sym) === fn);
    return entries.length === 0 ? null : entries.reduce((s, [, n]) => s + n, 0);
  };
  const out: ChangedCode = {
    functions: functions.map((name) => {
      const cycles = sum(calls?.cycles, name);
      const sweep = sum(calls?.sweep, name);
      const at = name === lifecycle.load ? 'load' : name === lifecycle.unload ? 'unload' : undefined;
      return { name, calls: cycles, ...(sweep ? { sweepCalls: sweep } : {}), ...(at ? { lifecycle: at } : {}) };
    }),
  };
  if (!calls) out.problem = 'the kernel side counted no call';
  else if (calls.refused?.length) out.problem = `not counted: ${calls.refused.join(', ')}`;
  return out;
}
