// The kernel modules the action builds on the runner at run time ship with it: each is found in
// kmod/ from the sources and the bundle, the npm package lists kmod/, and a copy of a module's
// folder alone is what Kbuild needs. A run's builds of them are its own: their folders are gone
// when the run ends, however it ends (the build itself is faked here).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_WATCH } from '../../src/run/api-memory.js';
import { CANARY } from '../../src/run/canary.js';
import { FAILSITE } from '../../src/run/error-paths.js';
import { useTempDir } from '../support/temp-dir.js';
import { findHelperDir, HelperBuilds, type HelperBuildsOptions, KMOD_DIR, withHelperBuilds } from '../../src/run/helper-modules.js';

const ROOT = join(import.meta.dirname, '..', '..');
const work = useTempDir('ab-helper-modules-');

describe('helper modules', () => {
  const HELPERS = [CANARY, FAILSITE, API_WATCH];

  for (const helper of HELPERS) {
    it(`kmod/${helper.folder} is found from the sources and from the bundle`, () => {
      expect(findHelperDir(helper)).toBe(join(ROOT, KMOD_DIR, helper.folder));
      expect(findHelperDir(helper, join(ROOT, 'dist'))).toBe(join(ROOT, KMOD_DIR, helper.folder));
    });
  }

  it('kmod/ is shipped in the package and holds the helpers and the Makefile fragment they share, nothing else', () => {
    const files = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] }).files;
    expect(files).toContain(`${KMOD_DIR}/`);
    expect(readdirSync(join(ROOT, KMOD_DIR)).sort()).toEqual([...HELPERS.map((h) => h.folder), 'module.mk'].sort());
  });

  // The modules whose Makefile includes kmod/module.mk: the helpers and the noise fixture.
  const modules = [...HELPERS.map((h) => ({ dir: join(KMOD_DIR, h.folder), name: h.name })), { dir: 'test/fixtures/noise', name: 'ab_noise' }];
  const make = (dir: string, args: string[]) => {
    const r = spawnSync('make', ['-s', '-C', dir, ...args], { encoding: 'utf8', env: { ...process.env, MAKEFLAGS: '' } });
    return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
  };
  for (const m of modules) {
    it(`${m.dir}: make there runs Kbuild for KDIR through kmod/module.mk; a copy of the folder alone still gives Kbuild its module`, () => {
      const dir = join(ROOT, m.dir);
      // MAKE=echo: the recursive make the target would run, printed instead.
      expect(make(dir, ['KDIR=/kernel', 'MAKE=echo'])).toEqual({ ok: true, out: `-C /kernel M=${dir} modules` });
      expect(make(dir, ['KDIR=/kernel', 'MAKE=echo', 'clean'])).toEqual({ ok: true, out: `-C /kernel M=${dir} clean` });
      // Kbuild's pass (KERNELRELEASE set) over a copy without ../module.mk, as a run builds a helper.
      const copy = join(work, basename(m.dir));
      cpSync(dir, copy, { recursive: true });
      expect(make(copy, ['KERNELRELEASE=9.9.9', '--eval', 'show-obj-m: ; @echo $(obj-m)', 'show-obj-m'])).toEqual({ ok: true, out: `${m.name}.o` });
    });
  }

  it('a missing helper is named with what the checkout lacks', () => {
    expect(() => findHelperDir({ folder: 'nowhere', name: 'ab_none', what: 'the test helper' })).toThrow(
      `the test helper is missing: no kmod/nowhere/ab_none.c in ${ROOT}`,
    );
    expect(() => findHelperDir(CANARY, '/tmp')).toThrow('the canary module is missing: no kmod/canary/ab_canary.c above /tmp');
  });
});

/** A module build that writes the helper's .ko (or fails) without a kernel; `gate` holds it until released. */
function fakeBuild(outcome: 'ok' | 'fails', gate?: Promise<void>): NonNullable<HelperBuildsOptions['build']> & { calls: string[] } {
  const calls: string[] = [];
  const build = async (req: { moduleDir: string; kernelBuildDir: string }) => {
    calls.push(req.moduleDir);
    await gate;
    const name = readFileSync(join(req.moduleDir, 'Makefile'), 'utf8').match(/obj-m\s*[+:]?=\s*(\w+)\.o/)?.[1] ?? 'none';
    if (outcome === 'fails') return { ok: false, modules: [], log: 'error', excerpt: 'error: no', reason: 'make failed', seconds: 0 };
    const path = join(req.moduleDir, `${name}.ko`);
    writeFileSync(path, '');
    return { ok: true, modules: [{ name, path }], log: '', excerpt: '', seconds: 0 };
  };
  return Object.assign(build, { calls });
}

describe("a run's helper builds", () => {
  it('are built once per helper and kernel, told to the post step, and removed when the run succeeds', async () => {
    const told: string[] = [];
    const build = fakeBuild('ok');
    const kos = await withHelperBuilds({ onTempDir: (d) => told.push(d), build }, async (helpers) => {
      const [a, b, f] = await Promise.all([helpers.module(API_WATCH, '/kernel'), helpers.module(API_WATCH, '/kernel'), helpers.module(FAILSITE, '/kernel')]);
      expect(a).toBe(b);
      for (const ko of [a, f]) expect(existsSync(ko)).toBe(true);
      return [a, f];
    });
    expect(kos.map((ko) => dirname(ko))).toEqual(told);
    expect(build.calls).toEqual(told);
    expect(told.map((d) => d.replace(/-[^-]+$/, '').replace(/.*\//, ''))).toEqual(['alloc-balance-apiwatch', 'alloc-balance-failsite']);
    for (const dir of told) expect(existsSync(dir)).toBe(false);
  });

  it('are removed when the run fails after building them', async () => {
    const told: string[] = [];
    await expect(
      withHelperBuilds({ onTempDir: (d) => told.push(d), build: fakeBuild('ok') }, async (helpers) => {
        await helpers.module(API_WATCH, '/kernel');
        throw new Error('the side failed');
      }),
    ).rejects.toThrow('the side failed');
    expect(told).toHaveLength(1);
    expect(existsSync(told[0])).toBe(false);
  });

  it('a build that fails: its folder is removed too, and the next side builds again', async () => {
    const told: string[] = [];
    const errors = await withHelperBuilds({ onTempDir: (d) => told.push(d), build: fakeBuild('fails') }, async (helpers) => {
      const first = await helpers.module(FAILSITE, '/kernel').catch((e: Error) => e.message);
      const second = await helpers.module(FAILSITE, '/kernel').catch((e: Error) => e.message);
      return [first, second];
    });
    expect(errors).toEqual(['the error-path helper did not build: make failed\nerror: no', 'the error-path helper did not build: make failed\nerror: no']);
    expect(told).toHaveLength(2);
    for (const dir of told) expect(existsSync(dir)).toBe(false);
  });

  it('a build still running when the run ends (the other side failed, or the run was cancelled) is waited for, then removed', async () => {
    const told: string[] = [];
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let ended = false;
    const run = withHelperBuilds({ onTempDir: (d) => told.push(d), build: fakeBuild('ok', gate) }, async (helpers) => {
      void helpers.module(API_WATCH, '/kernel');
      throw new Error('cancelled');
    }).finally(() => {
      ended = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(ended).toBe(false);
    release();
    await expect(run).rejects.toThrow('cancelled');
    expect(existsSync(told[0])).toBe(false);
  });

  it("shared builds are the caller's run's: kept until it ends, then removed and not built again", async () => {
    const shared = new HelperBuilds({ build: fakeBuild('ok') });
    const ko = await withHelperBuilds(shared, (helpers) => helpers.module(API_WATCH, '/kernel'));
    expect(existsSync(ko)).toBe(true);
    await shared.dispose();
    expect(existsSync(dirname(ko))).toBe(false);
    await expect(shared.module(API_WATCH, '/kernel')).rejects.toThrow('the kernel-API memory helper was asked for after its run ended');
  });
});
