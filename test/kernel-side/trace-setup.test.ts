// The tracefs changes trace-setup.ts makes after the set-up (call-count probes, the error-path
// sweep's stack triggers and restarts), on tracefs in memory: what each writes and leaves to undo.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  addCountingProbe,
  addModuleAreaStackTriggers,
  addModuleStackTriggers,
  collectTrace,
  restartTrace,
  setupTracing,
} from '../../src/kernel-side/trace-setup.js';
import { TracefsError } from '../../src/kernel-side/tracefs.js';
import { UndoLog } from '../../src/kernel-side/undo.js';
import { kernelTracefs, MemoryTracefs } from '../support/fake-target.js';
import { useTempDir } from '../support/temp-dir.js';

const dir = useTempDir();
let n = 0;

/** Remembers every write, in order, as `rel <- text`. */
class RecordingTracefs extends MemoryTracefs {
  readonly writes: string[] = [];
  override write(p: string, text: string): void {
    super.write(p, text);
    this.writes.push(`${p.replace(`${this.root}/`, '')} <- ${text}`);
  }
}

function traced<T extends MemoryTracefs>(tfs: T) {
  const undo = new UndoLog(join(dir, `state-${++n}.json`), `r${n}`);
  const setup = setupTracing(tfs, { runId: `r${n}`, track: [{ alloc: 'kmalloc', free: 'kfree' }], traceBufferKb: 1024, stacks: true }, undo);
  return { tfs, undo, setup, stepsBefore: undo.pending.length };
}

describe('addCountingProbe', () => {
  test('defines a kprobe on MOD:function that records nothing, enables it, and leaves both to undo', () => {
    const { tfs, undo, setup, stepsBefore } = traced(kernelTracefs());
    addCountingProbe(tfs, setup, 'c0', 'kni_like:kni_open', undo);
    const event = `${setup.group}/c0`;
    expect(tfs.read('kprobe_events')).toBe(`p:${event} kni_like:kni_open\n`);
    expect(tfs.read(`${setup.instance}/events/${event}/filter`)).toBe('common_pid < 0');
    expect(tfs.read(`${setup.instance}/events/${event}/enable`)).toBe('1');
    expect(undo.pending.slice(stepsBefore)).toEqual([
      { kind: 'remove-kprobe', kprobeEvents: tfs.path('kprobe_events'), event },
      { kind: 'restore-file', path: tfs.path(`${setup.instance}/events/${event}/enable`), value: '0' },
    ]);
  });

  test('a probe the kernel refuses throws, its removal already recorded', () => {
    const { tfs, undo, setup, stepsBefore } = traced(kernelTracefs());
    tfs.refuse.add('kprobe_events');
    expect(() => addCountingProbe(tfs, setup, 'c1', 'kni_like:gone', undo)).toThrow(TracefsError);
    expect(undo.pending.slice(stepsBefore)).toEqual([{ kind: 'remove-kprobe', kprobeEvents: tfs.path('kprobe_events'), event: `${setup.group}/c1` }]);
  });
});

describe('addModuleAreaStackTriggers', () => {
  test("replaces the module's stack triggers on the allocating kmem events by one on any module's or a helper's call sites", () => {
    const { tfs, undo, setup } = traced(new RecordingTracefs(Object.fromEntries(kernelTracefs().files)));
    addModuleStackTriggers(tfs, setup, { start: 0xffffffffc0a00000n, end: 0xffffffffc0a01000n }, [], undo);
    const stepsBefore = undo.pending.length;
    tfs.writes.length = 0;
    addModuleAreaStackTriggers(tfs, setup, [{ start: 0xffffffff81000000n, end: 0xffffffff81000100n }], undo);
    const condition = 'call_site >= 0xffffffffc0000000 || (call_site >= 0xffffffff81000000 && call_site < 0xffffffff81000100)';
    const triggers = ['kmem/kmalloc', 'kmem/kmalloc_node'].map((e) => `${setup.instance}/events/${e}/trigger`);
    expect(tfs.writes).toEqual(triggers.flatMap((t) => [`${t} <- !stacktrace\n`, `${t} <- stacktrace if ${condition}\n`]));
    expect(undo.pending.slice(stepsBefore)).toEqual(triggers.map((t) => ({ kind: 'remove-trigger', path: tfs.path(t), trigger: 'stacktrace' })));
    // The module's own frees keep the stack trigger addModuleStackTriggers set.
    expect(tfs.read(`${setup.instance}/events/kmem/kfree/trigger`)).toMatch(/^stacktrace if \(call_site >= 0xffffffffc0a00000 /);
  });

  test('an event without a stack trigger only gets the new one', () => {
    const { tfs, undo, setup } = traced(new RecordingTracefs(Object.fromEntries(kernelTracefs().files)));
    for (const e of ['kmalloc', 'kmalloc_node']) tfs.write(`${setup.instance}/events/kmem/${e}/trigger`, '');
    tfs.writes.length = 0;
    addModuleAreaStackTriggers(tfs, setup, [], undo);
    expect(tfs.writes).toEqual(
      ['kmalloc', 'kmalloc_node'].map((e) => `${setup.instance}/events/kmem/${e}/trigger <- stacktrace if call_site >= 0xffffffffc0000000\n`),
    );
  });
});

describe('restartTrace', () => {
  test('empties the buffer and turns the instance back on after collectTrace stopped it', async () => {
    const { tfs, setup } = traced(kernelTracefs());
    tfs.write(`${setup.instance}/trace`, 'old events\n');
    const out = join(dir, `out-${++n}`);
    mkdirSync(out);
    await collectTrace(tfs, setup, out);
    expect(tfs.read(`${setup.instance}/tracing_on`)).toBe('0');
    restartTrace(tfs, setup);
    expect(tfs.read(`${setup.instance}/trace`)).toBe('');
    expect(tfs.read(`${setup.instance}/tracing_on`)).toBe('1');
  });
});
