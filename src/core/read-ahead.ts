// A file read ahead by a worker thread into a ring of shared buffers: copying the bytes out of the
// kernel (a tenth of the time the analysis of a long trace takes) runs on another core while the
// chunks before are being analyzed. Memory stays what the ring holds, however long the file.
import { getSystemErrorName } from 'node:util';
import { Worker } from 'node:worker_threads';

const SLOTS = 16;
/** Words of the control array: chunks filled by the reader, chunks freed by the analyzer, then each slot's length (-errno when the read failed, 0 at the end). */
const FILLED = 0;
const FREED = 1;
const LENGTHS = 2;
/** The reader is woken once half the ring is free again, not for every chunk. */
const WAKE_EVERY = SLOTS / 2;

// The worker's code is evaluated on its own (the bundle is one file): it opens the file itself,
// so that the file is not closed under a read in flight when the reading stops early.
const READER = `
const { readSync, openSync, closeSync } = require('node:fs');
const { path, from, slotSize, data, control } = require('node:worker_threads').workerData;
const words = new Int32Array(control);
let fd = -1;
let position = from;
for (let filled = 0; ; ) {
  const freed = Atomics.load(words, ${FREED});
  if (filled - freed >= ${SLOTS}) {
    Atomics.wait(words, ${FREED}, freed);
    continue;
  }
  const slot = filled % ${SLOTS};
  let n;
  try {
    if (fd < 0) fd = openSync(path, 'r');
    n = readSync(fd, new Uint8Array(data, slot * slotSize, slotSize), 0, slotSize, position);
    position += n;
  } catch (e) {
    n = typeof e.errno === 'number' && e.errno < 0 ? e.errno : -5;
  }
  words[${LENGTHS} + slot] = n;
  Atomics.store(words, ${FILLED}, ++filled);
  Atomics.notify(words, ${FILLED});
  if (n <= 0) break;
}
if (fd >= 0) closeSync(fd);
`;

/**
 * The bytes of the file at `path` from byte `from` on, read by a worker thread from the moment
 * this is made. stop() ends the thread when the chunks are not read to the end.
 */
export class ReadAhead {
  private readonly data: SharedArrayBuffer;
  private readonly words: Int32Array;
  private readonly worker: Worker;
  private finished = false;

  constructor(
    private readonly path: string,
    from: number,
    private readonly slotSize: number,
  ) {
    this.data = new SharedArrayBuffer(SLOTS * slotSize);
    const control = new SharedArrayBuffer((LENGTHS + SLOTS) * 4);
    this.words = new Int32Array(control);
    this.worker = new Worker(READER, { eval: true, workerData: { path, from, slotSize, data: this.data, control } });
    this.worker.unref();
  }

  /** The chunks in order, of up to `slotSize` bytes; each a view of a slot of the ring, valid until the next is asked for. */
  *chunks(): Generator<Buffer> {
    const words = this.words;
    for (let taken = 0; ; ) {
      while (Atomics.load(words, FILLED) === taken) Atomics.wait(words, FILLED, taken);
      const slot = taken % SLOTS;
      const n = words[LENGTHS + slot];
      if (n < 0) {
        const code = getSystemErrorName(n);
        throw Object.assign(new Error(`${code}: cannot read ${this.path}`), { code, errno: n });
      }
      if (n === 0) break;
      yield Buffer.from(this.data, slot * this.slotSize, n);
      Atomics.store(words, FREED, ++taken);
      if (taken % WAKE_EVERY === 0) Atomics.notify(words, FREED);
    }
    this.finished = true;
  }

  stop(): void {
    if (!this.finished) void this.worker.terminate();
  }
}
