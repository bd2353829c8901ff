// Throughput and peak memory of `alloc-balance analyze` (the bundled dist/cli.js) on a synthetic
// function-tracer trace, side by side with an awk pipeline counting the same pairs in the same
// run. Usage: node scripts/bench.mjs [--lines N] [--keep]
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

const args = process.argv.slice(2);
const lines = Number(args[args.indexOf('--lines') + 1] ?? NaN) || 10_000_000;
const cli = join(process.cwd(), 'dist', 'cli.js');
if (!existsSync(cli)) {
  console.error('bench: dist/cli.js is missing: run "npm run build" first');
  process.exit(1);
}
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

/** Writes the trace: 3 cycles, allocations from two module call sites and one outside caller. */
async function generate(path, total) {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  const comms = ['kni-11436', 'leaky worker-121', 'kworker/u4:1-56', '<...>-2001'];
  const cycles = 3;
  const body = total - 2 - cycles * 2;
  let written = 0;
  let buf = '# tracer: function\n# entries-in-buffer/entries-written: 0/0   #P:2\n';
  written += 2;
  let ts = 1000;
  const flush = async () => {
    if (!out.write(buf)) await once(out, 'drain');
    buf = '';
  };
  for (let c = 1; c <= cycles; c++) {
    buf += `           <...>-120     [000] .....  ${ts.toFixed(6)}: tracing_mark_write: alloc-balance cycle=${c} start\n`;
    written++;
    const perCycle = Math.floor(body / cycles) + (c <= body % cycles ? 1 : 0);
    for (let k = 0; k < perCycle; k++) {
      ts += 0.000013;
      const comm = comms[k & 3];
      const head = `${comm.padStart(16)} [00${k & 1}] ${k & 4 ? '....' : '.....'} ${ts.toFixed(6)}: `;
      const r = k % 10;
      // 4 in 10 allocations, 4 in 10 frees (one fewer per 100k: a slow leak), 2 in 10 other functions.
      if (r < 2) buf += `${head}alloc_netdev_mqs <-kni_ioctl_create\n`;
      else if (r < 4) buf += `${head}alloc_netdev_mqs <-alloc_etherdev_mqs\n`;
      else if (r < 8) buf += k % 100_000 === 5 ? `${head}kfree <-kni_dev_remove\n` : `${head}free_netdev <-kni_dev_remove\n`;
      else if (r === 8) buf += `${head}kmalloc_trace <-kni_ioctl_create\n`;
      else buf += `${head}netif_rx <-kni_net_rx_normal+0x1a2/0x370 [rte_kni]\n`;
      written++;
      if (buf.length > 1 << 20) await flush();
    }
    buf += `           <...>-120     [000] .....  ${ts.toFixed(6)}: tracing_mark_write: alloc-balance cycle=${c} end\n`;
    written++;
  }
  await flush();
  out.end();
  await once(out, 'finish');
  return written;
}

function measure(label, cmd, argv) {
  const full = timeBin ? [timeBin, ['-v', cmd, ...argv]] : [cmd, argv];
  const start = process.hrtime.bigint();
  const r = spawnSync(full[0], full[1], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) {
    console.error(`bench: ${label} failed (exit ${r.status}): ${r.stderr.slice(-2000)}`);
    process.exit(1);
  }
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  return { label, seconds, rssMb: rss ? Number(rss[1]) / 1024 : NaN, stdout: r.stdout };
}

const dir = mkdtempSync(join(tmpdir(), 'alloc-balance-bench-'));
const cleanup = () => rmSync(dir, { recursive: true, force: true });
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});
try {
  const trace = join(dir, 'synthetic.trace');
  const t0 = Date.now();
  const written = await generate(trace, lines);
  const mb = statSync(trace).size / 1e6;
  console.log(`generated ${written.toLocaleString('en-US')} lines (${mb.toFixed(0)} MB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const awkProgram = '/ alloc_netdev_mqs <-/ { a++ } / free_netdev <-/ { f++ } END { print a + 0, f + 0 }';
  const awk = measure('awk', 'awk', [awkProgram, trace]);
  const node = measure('alloc-balance analyze', process.execPath, [cli, 'analyze', '--trace', trace, '--pair', 'alloc_netdev_mqs:free_netdev', '--json']);

  const [awkAllocs, awkFrees] = awk.stdout.trim().split(/\s+/).map(Number);
  const result = JSON.parse(node.stdout);
  const pair = result.pairs[0];
  const agree = pair.allocs === awkAllocs && pair.frees === awkFrees;
  const awkName = spawnSync('readlink', ['-f', spawnSync('sh', ['-c', 'command -v awk'], { encoding: 'utf8' }).stdout.trim()], {
    encoding: 'utf8',
  }).stdout.trim();

  const row = (m) =>
    `${m.label.padEnd(24)} ${m.seconds.toFixed(2).padStart(7)} s ${(written / m.seconds / 1e6).toFixed(2).padStart(7)} M lines/s ` +
    `${Number.isNaN(m.rssMb) ? '      ?' : m.rssMb.toFixed(0).padStart(7)} MB peak RSS`;
  console.log(`${row(awk)}   (${awkName})`);
  console.log(`${row(node)}   (node ${process.version})`);
  console.log(`counts: analyze ${pair.allocs} allocs / ${pair.frees} frees, awk ${awkAllocs} / ${awkFrees}: ${agree ? 'agree' : 'DIFFER'}`);
  console.log(`leaked per cycle: ${pair.leakedPerCycle}; speed vs awk: ${(awk.seconds / node.seconds).toFixed(2)}x`);
  if (!agree) process.exitCode = 1;
} finally {
  if (!args.includes('--keep')) cleanup();
}
