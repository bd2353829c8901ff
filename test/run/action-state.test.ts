// What the main step saves for the post step, read back as the post step reads it.
import { describe, expect, test } from 'vitest';
import { readActionState, StateRecorder } from '../../src/run/action-state.js';

describe('the action state', () => {
  test('each thing to undo is saved as it is made, whole each time, and read back by the post step', () => {
    const saved = new Map<string, string>();
    const writes: string[] = [];
    const rec = new StateRecorder((k, v) => {
      saved.set(k, v);
      writes.push(k);
    });
    rec.tempDir('/tmp/alloc-balance-src-a');
    rec.tempDir('/tmp/alloc-balance-vm-b');
    rec.tempDir('/tmp/alloc-balance-vm-b');
    rec.undoFile('/out/base/cleanup-state.json');
    rec.worktrees({ repo: '/ws', dirs: ['/tmp/alloc-balance-src-a/base', '/tmp/alloc-balance-src-a/head'], root: '/tmp/alloc-balance-src-a' });
    expect(writes).toEqual(['temp-dirs', 'temp-dirs', 'undo-files', 'worktrees']);
    expect(readActionState((k) => saved.get(k) ?? '')).toEqual({
      tempDirs: ['/tmp/alloc-balance-src-a', '/tmp/alloc-balance-vm-b'],
      undoFiles: ['/out/base/cleanup-state.json'],
      worktrees: { repo: '/ws', dirs: ['/tmp/alloc-balance-src-a/base', '/tmp/alloc-balance-src-a/head'], root: '/tmp/alloc-balance-src-a' },
    });
  });

  test('nothing saved, or a value that is not JSON: nothing to undo', () => {
    expect(readActionState(() => '')).toEqual({ worktrees: undefined, undoFiles: undefined, tempDirs: undefined });
    expect(readActionState((k) => (k === 'temp-dirs' ? '[not json' : '')).tempDirs).toBeUndefined();
  });
});
