// The kernel log since a point in time, read from /dev/kmsg by record sequence number so
// that older messages (earlier runs, boot) never count against this run.
import { closeSync, constants, openSync, readSync } from 'node:fs';

interface KmsgRecord {
  seq: number;
  /** Microseconds since boot. */
  usec: number;
  level: number;
  text: string;
}

/** Pure: one /dev/kmsg record, `PRI,SEQ,USEC,FLAGS;message\n KEY=value...`. */
export function parseKmsgRecord(raw: string): KmsgRecord | null {
  const semi = raw.indexOf(';');
  if (semi < 0) return null;
  const [pri, seq, usec] = raw.slice(0, semi).split(',');
  const text = raw.slice(semi + 1).split('\n')[0] ?? '';
  return { seq: Number(seq), usec: Number(usec), level: Number(pri) & 7, text };
}

/** `[    3.565782] text`, as dmesg prints it. */
export function formatKmsg(r: KmsgRecord): string {
  const s = Math.floor(r.usec / 1e6);
  const us = String(r.usec % 1e6).padStart(6, '0');
  return `[${String(s).padStart(5)}.${us}] ${r.text}`;
}

/** Every record still in the ring buffer with seq > `after` (-1: all). */
export function readKmsg(after = -1, device = '/dev/kmsg'): KmsgRecord[] {
  const fd = openSync(device, constants.O_RDONLY | constants.O_NONBLOCK);
  const buf = Buffer.alloc(16384);
  const out: KmsgRecord[] = [];
  try {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') break;
        // EPIPE: records were overwritten under us; the next read continues with the oldest left.
        if (code === 'EPIPE') continue;
        throw e;
      }
      if (n === 0) break;
      const rec = parseKmsgRecord(buf.toString('utf8', 0, n));
      if (rec && rec.seq > after) out.push(rec);
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** Sequence number of the newest record now: pass it to readKmsg later. */
export function kmsgMark(device = '/dev/kmsg'): number {
  const all = readKmsg(-1, device);
  return all.length ? all[all.length - 1].seq : -1;
}
