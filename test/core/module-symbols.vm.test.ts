// Symbolizing against a real .ko built with Kbuild against the installed kernel headers.
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { locateCallers, lookUpLines, moduleSymbols } from '../../src/module-build/module-info.js';
import { ModuleMap } from '../../src/core/module-map.js';
import { TraceAnalyzer } from '../../src/core/trace-analyzer.js';
import { cliBundle } from '../support/cli.js';
import { useTempDir } from '../support/temp-dir.js';

const SOURCE = `#include <linux/module.h>
#include <linux/slab.h>
static void *keep;
static noinline void *leaky_alloc(void) { return kmalloc(64, GFP_KERNEL); }
static int __init leaky_init(void) { keep = leaky_alloc(); return keep ? 0 : -ENOMEM; }
static void __exit leaky_exit(void) { }
module_init(leaky_init);
module_exit(leaky_exit);
MODULE_LICENSE("GPL");
`;

/** The kernel build dir: $KDIR, else the newest /lib/modules/<ver>/build. */
function kernelBuildDir(): string {
  if (process.env.KDIR) return process.env.KDIR;
  const versions = existsSync('/lib/modules') ? readdirSync('/lib/modules').filter((v) => existsSync(join('/lib/modules', v, 'build', 'Makefile'))) : [];
  if (versions.length === 0) throw new Error('no kernel headers: install linux-headers-amd64 (or set KDIR) to run this test');
  return join('/lib/modules', versions.sort().pop()!, 'build');
}

const dir = useTempDir('alloc-balance-ko-');
let ko = '';

beforeAll(() => {
  writeFileSync(join(dir, 'leaky.c'), SOURCE);
  writeFileSync(join(dir, 'Kbuild'), 'obj-m := leaky.o\nccflags-y := -g\n');
  const r = spawnSync('make', ['-s', '-C', kernelBuildDir(), `M=${dir}`, 'modules'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building the test module failed: ${r.stderr}`);
  ko = join(dir, 'leaky.ko');
}, 120_000);

describe('symbols of a real .ko', () => {
  it('reads nm with sections, resolves module code and raw addresses', async () => {
    expect(await moduleSymbols(ko)).toMatch(/leaky_init\s*\|0+\|\s+t\s+\|\s+FUNC\|[0-9a-f]+\|\s*\|\.init\.text/);
    const map = new ModuleMap('leaky', await moduleSymbols(ko), {
      '.init.text': '0xffffffffc0210000',
      '.text.unlikely': '0xffffffffc0200000',
      '.text': '0xffffffffc0201000',
    });
    expect(map.resolve('leaky_init')).toEqual({ caller: 'leaky_init', inModule: true });
    expect(map.resolve('kmalloc_trace')).toEqual({ caller: 'kmalloc_trace', inModule: false });
    expect(map.resolve('0xffffffffc0210005')).toEqual({ caller: 'leaky_init+0x5', inModule: true });
  });

  it('fills file:line of in-module call sites from the debug info (addr2line)', async () => {
    const map = new ModuleMap('leaky', await moduleSymbols(ko), { '.init.text': '0xffffffffc0210000' });
    const offsets = map.offsets(['leaky_init+0x5', 'leaky_alloc+0x1', 'kmalloc_trace+0x10']);
    expect(offsets.map((o) => o.caller)).toEqual(['leaky_init+0x5', 'leaky_alloc+0x1']);
    const lines = await lookUpLines(ko, offsets, dirname(ko));
    expect(lines.get('leaky_init+0x5')).toBe('leaky.c:5');
    expect(lines.get('leaky_alloc+0x1')).toBe('leaky.c:4');

    const a = new TraceAnalyzer({ pairs: [{ alloc: 'kmalloc', free: 'kfree' }], moduleMap: map });
    a.push(
      '          insmod-104     [001] .....     5.100100: kmalloc: call_site=0xffffffffc0210005 ' +
        'ptr=0xffff888003a1c000 bytes_req=64 bytes_alloc=64 gfp_flags=GFP_KERNEL node=-1 accounted=false',
    );
    const result = a.finish();
    await locateCallers(result, map, ko, dirname(ko));
    expect(result.pairs[0].callers[0]).toMatchObject({ caller: 'leaky_init+0x5', inModule: true, location: 'leaky.c:5' });
    expect(result.pairs[0].objects[0]).toMatchObject({ caller: 'leaky_init+0x5', location: 'leaky.c:5' });
  });

  it('the command line symbolizes with --ko', () => {
    const trace = join(dir, 'kmem.trace');
    writeFileSync(
      trace,
      '          insmod-104     [001] .....     5.100100: kmalloc: call_site=leaky_init+0x5/0x20 [leaky] ' +
        'ptr=0xffff888003a1c000 bytes_req=64 bytes_alloc=64 gfp_flags=GFP_KERNEL node=-1 accounted=false\n',
    );
    const out = execFileSync(process.execPath, [cliBundle(), 'analyze', '--trace', trace, '--pair', 'kmalloc:kfree', '--ko', ko, '--json'], {
      encoding: 'utf8',
    });
    expect(JSON.parse(out).pairs[0].callers[0]).toMatchObject({ caller: 'leaky_init+0x5', inModule: true, location: 'leaky.c:5' });
  });
});
