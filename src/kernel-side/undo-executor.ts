// Carries out undo steps on the real machine. Each step is idempotent: undoing something
// already undone (by the runner, or by an earlier cleanup) succeeds quietly.
import { existsSync, readFileSync, rmdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { runCommand } from '../process/run.js';
import { releaseLock } from './lock.js';
import { unloadModule } from './kernel-module.js';
import { boundDriver } from './nic-binding.js';
import { groupAlive, signalGroup } from '../process/group.js';
import type { UndoExecutor, UndoStep } from './undo.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function retry(what: () => void | Promise<void>, attempts = 10, delayMs = 300): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await what();
      return;
    } catch (e) {
      if (i >= attempts) throw e;
      await sleep(delayMs);
    }
  }
}

export const machineUndo: UndoExecutor = {
  async run(step: UndoStep): Promise<void> {
    switch (step.kind) {
      case 'restore-file':
        if (existsSync(step.path)) writeFileSync(step.path, step.value);
        return;
      case 'rmdir':
        // A trace instance is busy for a moment while a reader of it closes.
        if (existsSync(step.path)) await retry(() => rmdirSync(step.path));
        return;
      case 'remove-kprobe': {
        const defined = readFileSync(step.kprobeEvents, 'utf8')
          .split('\n')
          .some((l) => l.split(/\s+/)[0]?.split(':')[1] === step.event);
        if (defined) await retry(() => appendFileSync(step.kprobeEvents, `-:${step.event}\n`));
        return;
      }
      case 'remove-trigger':
        if (
          existsSync(step.path) &&
          readFileSync(step.path, 'utf8')
            .split('\n')
            .some((l) => l.startsWith(step.trigger))
        ) {
          writeFileSync(step.path, `!${step.trigger}\n`);
        }
        return;
      case 'kill-group':
        if (!signalGroup(step.pgid, 'SIGKILL')) return;
        await retry(
          () => {
            if (groupAlive(step.pgid)) throw new Error(`process group ${step.pgid} still has processes after SIGKILL`);
          },
          50,
          100,
        );
        return;
      case 'rmmod': {
        const r = await unloadModule(step.name);
        if (!r.ok) throw new Error(`rmmod ${step.name}: ${r.why}`);
        return;
      }
      case 'umount':
        // Busy until the stopped workload's hugepage files are closed.
        await retry(async () => {
          if (
            !readFileSync('/proc/mounts', 'utf8')
              .split('\n')
              .some((l) => l.split(' ')[1] === step.path)
          )
            return;
          const r = await runCommand('umount', [step.path]);
          if (r.code !== 0) throw new Error(`umount ${step.path}: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`);
        });
        return;
      case 'unlock':
        releaseLock(step.path, step.pid);
        return;
      case 'pci-unbind': {
        const dev = `/sys/bus/pci/devices/${step.address}`;
        if (boundDriver(step.address) === step.driver) writeFileSync(`${dev}/driver/unbind`, step.address);
        if (existsSync(`${dev}/driver_override`)) writeFileSync(`${dev}/driver_override`, '\n');
        return;
      }
      case 'pci-bind':
        if (boundDriver(step.address) === null && existsSync(`/sys/bus/pci/drivers/${step.driver}/bind`)) {
          writeFileSync(`/sys/bus/pci/drivers/${step.driver}/bind`, step.address);
        }
        return;
    }
  },
};
