// The error-path sweep on real modules: the bundled action in the VM against demo/leak-shapes
// built with its checked open() and init (-DERROR_PATHS), no track input, error-paths: auto (the default, asked for since the test harness leaves it off). Each PR forgets one
// release on an unwind; the sweep must fail the check naming the site that failed and the
// site that leaked, and must find nothing on the balanced builds. AB_KEEP=1 keeps the runs' folders.
import { describe, expect, test } from 'vitest';
import { useShapesRepo } from '../support/shapes-action.js';

const VARIANTS = [
  '-DERROR_PATHS',
  '-DERROR_PATHS -DLEAK_UNWIND_CTX',
  '-DERROR_PATHS -DLEAK_UNWIND_HELPER',
  '-DERROR_PATHS -DLEAK_UNWIND_NAME',
  '-DERROR_PATHS -DLEAK_INIT_UNWIND',
  '-DERROR_PATHS -DKFREE_RCU',
  '-DERROR_PATHS -DLEAK_IOCTL',
  '-DERROR_PATHS -DNO_NULL_CHECK',
  '-DERROR_PATHS -DNO_NULL_CHECK -DKFREE_RCU',
  '-DERROR_PATHS -DHANG_ON_FAIL',
] as const;
const shapes = useShapesRepo('ab-error-paths-', VARIANTS, 2);
const { sha } = shapes;

/** The base is the checked module unless named; the sweep on by default. */
function run(name: string, head: (typeof VARIANTS)[number], base: (typeof VARIANTS)[number] = '-DERROR_PATHS', inputs: Record<string, string> = {}) {
  return shapes.run(name, sha[base], sha[head], { 'error-paths': 'auto', ...inputs });
}

const LINE = '\\d+';

describe('error-paths: auto on the leak_shapes module', () => {
  test('open() forgets its context when a later allocation fails: fail, naming the failed site and the leaked one', () => {
    const r = run('ctx', '-DERROR_PATHS -DLEAK_UNWIND_CTX');
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    const texts = r.report!.comparison.errorPaths!.map((f) => f.text);
    expect(texts).toContainEqual(
      expect.stringMatching(new RegExp(`^when the kasprintf at shape_make_label:${LINE} fails, the object from leak_shapes_open:${LINE} is never freed$`)),
    );
    expect(texts).toContainEqual(
      expect.stringMatching(new RegExp(`^when the kstrdup at leak_shapes_open:${LINE} fails, the object from leak_shapes_open:${LINE} is never freed$`)),
    );
    expect(r.report!.comparison.headline).toMatch(/^❌ fail: when the /);
    for (const side of [r.report!.base, r.report!.pr]) expect(side.errorPaths?.skipped).toBeUndefined();
    expect(r.report!.base.errorPaths!.sites.every((s) => s.leaks.length === 0)).toBe(true);
    expect(r.report!.base.errorPaths!.sites.filter((s) => s.injected).length).toBeGreaterThanOrEqual(5);
    const [open] = r.report!.pr.changed!.functions;
    expect(open.name).toBe('leak_shapes_open');
    expect(open.calls).toBeGreaterThanOrEqual(2);
  });

  test('the goto unwind no longer frees the label a helper made: fail, naming the helper as the leaked site', () => {
    const r = run('helper', '-DERROR_PATHS -DLEAK_UNWIND_HELPER');
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    const texts = r.report!.comparison.errorPaths!.map((f) => f.text);
    expect(texts).toContainEqual(
      expect.stringMatching(new RegExp(`^when the kstrdup at leak_shapes_open:${LINE} fails, the object from shape_make_label:${LINE} is never freed$`)),
    );
    expect(texts.every((t) => /from shape_make_label:/.test(t))).toBe(true);
  });

  test('several failure points in one function forget the same name: one finding per failed site', () => {
    const r = run('name', '-DERROR_PATHS -DLEAK_UNWIND_NAME');
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    const failed = r.report!.comparison.errorPaths!.map((f) => f.site.split('+')[0]).sort();
    expect(failed).toEqual(['shape_take_item', 'shape_take_other']);
    for (const f of r.report!.comparison.errorPaths!) expect(f.text).toMatch(new RegExp(`the object from leak_shapes_open:${LINE} is never freed$`));
  });

  test('module_init returns -ENOMEM without freeing its table when its second allocation fails: fail, insmod failure expected', () => {
    const r = run('init', '-DERROR_PATHS -DLEAK_INIT_UNWIND');
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    const [f, ...rest] = r.report!.comparison.errorPaths!;
    expect(rest).toEqual([]);
    expect(f.text).toMatch(new RegExp(`^when the kmalloc at leak_shapes_init:${LINE} fails, the object from leak_shapes_init:${LINE} is never freed$`));
    const site = r.report!.pr.errorPaths!.sites.find((s) => s.site === f.site)!;
    expect(site.loaded).toBe(false);
    expect(r.report!.pr.status).toBe('ok');
  });

  test('balanced code with kfree_rcu: pass, no leak from the sweep on either side', () => {
    const r = run('balanced', '-DERROR_PATHS -DKFREE_RCU');
    expect(r.outputs.verdict, r.stdout).toBe('pass');
    for (const side of [r.report!.base, r.report!.pr]) {
      expect(side.errorPaths!.sites.length).toBeGreaterThanOrEqual(6);
      expect(side.errorPaths!.sites.flatMap((s) => s.leaks)).toEqual([]);
      expect(side.errorPaths!.sites.every((s) => s.injected)).toBe(true);
    }
    expect(r.report!.comparison.errorPaths).toBeUndefined();
  });

  test('a PR that makes the ioctl handler leak while the workload only opens and closes: pass, naming the changed function that never ran', () => {
    const r = run('ioctl', '-DERROR_PATHS -DLEAK_IOCTL');
    expect(r.outputs.verdict, r.stdout).toBe('pass');
    expect(r.report!.pr.changed).toEqual({ functions: [{ name: 'leak_shapes_ioctl', calls: 0 }] });
    expect(r.report!.comparison.headline).toMatch(/ — but the changed function leak_shapes_ioctl never ran$/);
    expect(r.summary).toContain('Changed: leak_shapes_ioctl (never ran)');
  });

  test('open() does not check the context it allocates: failing that kzalloc crashes the guest; the PR keeps its cycles and fails on the crash', () => {
    const r = run('crash', '-DERROR_PATHS -DNO_NULL_CHECK');
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    const [f, ...rest] = r.report!.comparison.errorPaths!;
    expect(rest).toEqual([]);
    expect(f.text).toMatch(
      new RegExp(`^failing the kzalloc at leak_shapes_open:${LINE} crashed the kernel \\(NULL pointer dereference in leak_shapes_open\\+0x[0-9a-f]+\\)$`),
    );
    expect(r.report!.comparison.headline).toBe(`❌ fail: ${f.text}`);
    const pr = r.report!.pr;
    expect(pr.status).toBe('ok');
    expect(pr.analysis?.complete).toBe(true);
    expect(pr.errorPaths!.sites.at(-1)!.breakage?.kind).toBe('crash');
    expect(pr.errorPaths!.notSwept!.length).toBeGreaterThan(0);
    expect(r.report!.base.errorPaths!.notSwept).toBeUndefined();
  });

  test("base and PR both crash at the same unchecked kzalloc: pass, the crash is the base's too", () => {
    const r = run('crash-both', '-DERROR_PATHS -DNO_NULL_CHECK -DKFREE_RCU', '-DERROR_PATHS -DNO_NULL_CHECK');
    expect(r.outputs.verdict, r.stdout).toBe('pass');
    for (const side of [r.report!.base, r.report!.pr]) {
      expect(side.status).toBe('ok');
      expect(side.errorPaths!.sites.at(-1)!.breakage?.kind).toBe('crash');
    }
    expect(r.report!.comparison.errorPaths).toBeUndefined();
  });

  test('open() sleeps for ever when its kzalloc fails: the module cannot be unloaded, the sweep stops there, the PR keeps its cycles and fails on it', () => {
    // The workload never gets out of open() (not even SIGKILL ends it): the module stays in use.
    const r = run('hang', '-DERROR_PATHS -DHANG_ON_FAIL', '-DERROR_PATHS', { 'ready-timeout': '5', grace: '2' });
    expect(r.outputs.verdict, r.stdout).toBe('fail');
    const [f, ...rest] = r.report!.comparison.errorPaths!;
    expect(rest).toEqual([]);
    expect(f.text).toMatch(new RegExp(`^failing the kzalloc at leak_shapes_open:${LINE} left leak_shapes unable to unload$`));
    const pr = r.report!.pr;
    expect(pr.status).toBe('ok');
    expect(pr.errorPaths!.sites.at(-1)!.breakage?.kind).toBe('stuck');
    expect(pr.errorPaths!.notSwept!.length).toBeGreaterThan(0);
    expect(pr.notes?.join('\n')).toMatch(/error paths: failing the kzalloc at leak_shapes_open:\d+ left leak_shapes unable to unload; \d+ sites? not swept/);
    // The kernel side ended although the workload could not be: the VM did not wait for the run's deadline.
    expect(pr.timings.run).toBeLessThan(300);
  });
});
