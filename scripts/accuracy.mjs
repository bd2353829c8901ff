// Accuracy of the detector on a corpus of allocation shapes (not part of the test suite).
// Each case is a base and a PR of demo/leak-shapes (one misc device; open() acquires, release()
// gives back; the shape is chosen by -D flags in the Makefile), committed to a git repository and
// run through the action's pipeline in the lab VM: build both, load, cycle the workload (hold the
// device open, then kill), trace, compare. Each case states the verdict, pair, call site and rate
// it must give. Cases with `input` check that a wrong track input is refused before anything runs.
// Usage: node scripts/accuracy.mjs [--kernel LINE|RELEASE] [--only NAME,...] [--no-write]
// --kernel: a kernel the lab holds (5.10, 6.1, 6.12 or an exact release; default 6.1; set it up
// first with `lab setup --kernel`). Prints a table; without --no-write it also replaces that
// kernel line's accuracy section of docs/measurements.md (with --only, those cases' rows; the
// others keep the row of the run that last measured them).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { importSource } from './import-source.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const SHAPES = join(ROOT, 'demo', 'leak-shapes');
const { values } = parseArgs({ options: { kernel: { type: 'string' }, only: { type: 'string' }, 'no-write': { type: 'boolean' }, keep: { type: 'boolean' } } });
if (!existsSync(join(ROOT, 'dist', 'cli.js'))) {
  console.error('accuracy: dist/cli.js is missing: run "npm run build" first');
  process.exit(2);
}

const ALL = '-DSHAPE_VMALLOC -DSHAPE_PAGES -DSHAPE_IOREMAP -DSHAPE_IRQ';
/** verdict, and for a fail the pair, call site and objects per cycle the headline must name. */
const CASES = [
  { name: 'kmalloc leak, no track input', base: '', pr: '-DLEAK_CTX', expect: { verdict: 'fail', pair: 'kmalloc:kfree', site: 'leak_shapes_open', rate: 3 } },
  {
    name: 'own kmem_cache, kmem_cache_free forgotten',
    base: '',
    pr: '-DLEAK_ITEM',
    expect: { verdict: 'fail', pair: 'kmalloc:kfree', site: 'shape_take_item', rate: 1 },
  },
  {
    name: 'kmem_cache pair named in track',
    base: '',
    pr: '-DLEAK_ITEM',
    track: 'kmem_cache_alloc:kmem_cache_free',
    expect: { verdict: 'fail', pair: 'kmem_cache_alloc:kmem_cache_free', site: 'shape_take_item', rate: 1 },
  },
  { name: 'balanced, frees with kfree_rcu', base: '', pr: '-DKFREE_RCU', expect: { verdict: 'pass' } },
  {
    name: 'leak fixed at one site, added at another',
    base: '-DLEAK_ITEM',
    pr: '-DLEAK_OTHER',
    expect: { verdict: 'fail', pair: 'kmalloc:kfree', site: 'shape_take_other', rate: 1 },
  },
  { name: 'buffer from module init never freed', base: '', pr: '-DLEAK_AT_INIT', expect: { verdict: 'fail', pair: 'kmalloc:kfree', site: 'leak_shapes_init' } },
  {
    name: 'leak only on an error path',
    base: '',
    pr: '-DLEAK_ON_ERROR_PATH',
    expect: { verdict: 'fail', pair: 'kmalloc:kfree', site: 'leak_shapes_open', rate: 1 },
  },
  {
    name: 'leak every 3rd cycle (6 cycles)',
    base: '',
    pr: '-DLEAK_EVERY_3RD',
    cycles: 6,
    expect: { verdict: 'fail', pair: 'kmalloc:kfree', site: 'shape_take_item', rate: 0.33 },
  },
  { name: 'leak via a helper (kstrdup)', base: '', pr: '-DLEAK_HELPER', expect: { verdict: 'fail', pair: 'kmalloc:kfree', site: 'leak_shapes_open', rate: 1 } },
  {
    name: 'pages (__get_free_pages)',
    base: '-DSHAPE_PAGES',
    pr: '-DSHAPE_PAGES -DLEAK_PAGES',
    // 6.10 on, the allocator a module calls is get_free_pages_noprof (allocation profiling's renames): that is what is traced.
    expect: { verdict: 'fail', pair: ['__get_free_pages:free_pages', 'get_free_pages_noprof:free_pages'], site: 'leak_shapes_open', rate: 1 },
  },
  {
    name: 'vmalloc area (vzalloc)',
    base: '-DSHAPE_VMALLOC',
    pr: '-DSHAPE_VMALLOC -DLEAK_AREA',
    expect: { verdict: 'fail', pair: ['vzalloc:vfree', 'vzalloc_noprof:vfree'], site: 'leak_shapes_open', rate: 1 },
  },
  {
    name: 'I/O mapping (ioremap)',
    base: '-DSHAPE_IOREMAP',
    pr: '-DSHAPE_IOREMAP -DLEAK_IOREMAP',
    expect: { verdict: 'fail', pair: 'ioremap:iounmap', site: 'leak_shapes_open', rate: 1 },
  },
  {
    name: 'interrupt handler (request_irq)',
    base: '-DSHAPE_IRQ',
    pr: '-DSHAPE_IRQ -DLEAK_IRQ',
    // Counted by calls (the allocator returns a status): the verdict is read on the pair's total, no site.
    expect: { verdict: 'fail', pair: 'request_threaded_irq:free_irq', rate: 1 },
  },
  { name: 'every shape, balanced', base: ALL, pr: `${ALL} -DKFREE_RCU`, expect: { verdict: 'pass' } },
  { name: 'ring of the last 2 buffers, evicted one freed (6 cycles)', base: '', pr: '-DRING_OF_2', cycles: 6, expect: { verdict: 'pass' } },
  {
    name: 'buffers kept until unload frees them',
    base: '',
    pr: '-DKEEP_ALL',
    expect: { verdict: 'fail', pair: 'kmalloc:kfree', site: 'shape_ring_push', rate: 1 },
  },
  {
    name: 'only kasprintf, its label never freed',
    base: '-DMINIMAL',
    pr: '-DMINIMAL -DLEAK_LABEL',
    expect: { verdict: 'fail', pair: 'kmalloc:kfree', site: 'leak_shapes_open', rate: 1 },
  },
  {
    name: 'sk_buff never freed (alloc_skb)',
    base: '-DSHAPE_SKB',
    pr: '-DSHAPE_SKB -DLEAK_SKB',
    // The head from skbuff_head_cache and the data from kmalloc: two objects a cycle.
    expect: { verdict: 'fail', pair: /^__alloc_skb:/, site: 'leak_shapes_open', rate: 2 },
    // 5.10's __alloc_skb asks for the data with its own caller's return address (kmalloc_reserve is a
    // macro there): the data's kmem event names the module's call site, so the data is the module's
    // kmalloc (1 a cycle) and only the head is __alloc_skb's (1 a cycle); the worst row is either.
    byKernel: { '5.10': { pair: /^(__alloc_skb:|kmalloc:kfree$)/, rate: 1 } },
  },
  {
    name: 'platform device never unregistered, devres in its probe',
    base: '-DSHAPE_PDEV',
    pr: '-DSHAPE_PDEV -DLEAK_PDEV',
    expect: { verdict: 'fail', pair: /^platform_device_register/, site: 'leak_shapes_open' },
  },
  {
    name: 'kobject never put',
    base: '-DSHAPE_KOBJ',
    pr: '-DSHAPE_KOBJ -DLEAK_KOBJ',
    expect: { verdict: 'fail', pair: /^kobject_create_and_add:/, site: 'leak_shapes_open' },
  },
  {
    name: 'sk_buff, platform device and kobject, balanced',
    base: '-DSHAPE_SKB -DSHAPE_PDEV -DSHAPE_KOBJ',
    pr: '-DSHAPE_SKB -DSHAPE_PDEV -DSHAPE_KOBJ',
    expect: { verdict: 'pass' },
  },
  { name: 'slab cache never destroyed at exit', base: '', pr: '-DLEAK_CACHE', expect: { verdict: 'fail', site: 'leak_shapes_init' } },
  { name: 'kvmalloc of 6 MiB per open (the vmalloc path), balanced', base: '-DSHAPE_KVMALLOC', pr: '-DSHAPE_KVMALLOC', expect: { verdict: 'pass' } },
  {
    name: 'kvmalloc of 6 MiB per open, kept',
    base: '-DSHAPE_KVMALLOC',
    pr: '-DSHAPE_KVMALLOC -DLEAK_KVMALLOC',
    expect: { verdict: 'fail', pair: /^(kvmalloc_node|__kvmalloc_node_noprof|kmalloc):/, site: 'leak_shapes_open', rate: 1 },
  },
  {
    name: 'own kmem_cache leaks, track names only kmalloc:kfree',
    base: '',
    pr: '-DLEAK_ITEM',
    track: 'kmalloc:kfree',
    // The trace cannot see kmem_cache_alloc; the apiwatch helper counts the left-out allocator's objects.
    expect: { verdict: 'fail', pair: 'kmem_cache_alloc:kmem_cache_free', site: 'shape_take_item', rate: 1 },
  },
  { name: 'allocates nothing', base: '-DMINIMAL -DMINIMAL_NOTHING', pr: '-DMINIMAL -DMINIMAL_NOTHING', expect: { verdict: 'pass' } },
  { name: 'nonsense pair kmalloc:free_netdev', input: 'kmalloc:free_netdev', expect: { refused: /write kmalloc:kfree/ } },
  { name: 'the same pair twice', input: 'kmalloc:kfree,kmalloc:kfree', expect: { refused: /listed twice/ } },
  // The error-path sweep (error-paths: auto, the default): leak_shapes with a checked open() and
  // init (-DERROR_PATHS). `errorPaths`: the findings the check must fail on, by the function whose
  // allocation was failed and the one whose object leaked (or a crash); `changed`: whether each
  // changed function ran.
  {
    name: 'error path: open() forgets its context when a later allocation fails',
    base: '-DERROR_PATHS',
    pr: '-DERROR_PATHS -DLEAK_UNWIND_CTX',
    expect: {
      verdict: 'fail',
      errorPaths: [
        { failed: 'shape_make_label', leaked: 'leak_shapes_open' },
        { failed: 'leak_shapes_open', leaked: 'leak_shapes_open' },
      ],
      changed: { leak_shapes_open: true },
    },
  },
  {
    name: 'error path: the unwind no longer frees what a helper made',
    base: '-DERROR_PATHS',
    pr: '-DERROR_PATHS -DLEAK_UNWIND_HELPER',
    expect: { verdict: 'fail', errorPaths: [{ failed: 'leak_shapes_open', leaked: 'shape_make_label' }] },
  },
  {
    name: 'error path: two failure points in one function forget the same name',
    base: '-DERROR_PATHS',
    pr: '-DERROR_PATHS -DLEAK_UNWIND_NAME',
    expect: {
      verdict: 'fail',
      errorPaths: [
        { failed: 'shape_take_item', leaked: 'leak_shapes_open' },
        { failed: 'shape_take_other', leaked: 'leak_shapes_open' },
      ],
    },
  },
  {
    name: 'error path: module_init returns -ENOMEM without freeing its table',
    base: '-DERROR_PATHS',
    pr: '-DERROR_PATHS -DLEAK_INIT_UNWIND',
    expect: { verdict: 'fail', errorPaths: [{ failed: 'leak_shapes_init', leaked: 'leak_shapes_init' }] },
  },
  { name: 'error paths swept, balanced (kfree_rcu)', base: '-DERROR_PATHS', pr: '-DERROR_PATHS -DKFREE_RCU', expect: { verdict: 'pass', swept: true } },
  {
    name: 'changed function never reached (ioctl leaks, workload only opens)',
    base: '-DERROR_PATHS',
    pr: '-DERROR_PATHS -DLEAK_IOCTL',
    expect: { verdict: 'pass', swept: true, changed: { leak_shapes_ioctl: false } },
  },
  {
    name: 'no NULL check: the failed kzalloc crashes the kernel',
    base: '-DERROR_PATHS',
    pr: '-DERROR_PATHS -DNO_NULL_CHECK',
    expect: { verdict: 'fail', errorPaths: [{ failed: 'leak_shapes_open', crash: true }] },
  },
  {
    name: 'no NULL check in base and PR alike',
    base: '-DERROR_PATHS -DNO_NULL_CHECK',
    pr: '-DERROR_PATHS -DNO_NULL_CHECK -DKFREE_RCU',
    expect: { verdict: 'pass' },
  },
  // A named track that leaves a vmalloc or ioremap allocator out: its areas are counted in /proc/vmallocinfo.
  {
    name: 'vmalloc area kept, track names only kmalloc:kfree',
    base: '-DSHAPE_VMALLOC',
    pr: '-DSHAPE_VMALLOC -DLEAK_AREA',
    track: 'kmalloc:kfree',
    expect: { verdict: 'fail', pair: ['vzalloc:vfree', 'vzalloc_noprof:vfree'], site: 'leak_shapes_open', rate: 1 },
  },
  {
    name: 'I/O mapping kept, track names only kmalloc:kfree',
    base: '-DSHAPE_IOREMAP',
    pr: '-DSHAPE_IOREMAP -DLEAK_IOREMAP',
    track: 'kmalloc:kfree',
    expect: { verdict: 'fail', pair: 'ioremap:iounmap', site: 'leak_shapes_open', rate: 1 },
  },
  {
    name: 'vmalloc area and I/O mapping given back, track names only kmalloc:kfree',
    base: '-DSHAPE_VMALLOC -DSHAPE_IOREMAP',
    pr: '-DSHAPE_VMALLOC -DSHAPE_IOREMAP -DKFREE_RCU',
    track: 'kmalloc:kfree',
    expect: { verdict: 'pass' },
  },
];

// The project's own modules: the same code the action runs.
const L = await importSource(`
      export { findLabKernel } from './src/lab/lab-kernel.ts';
      export { releaseLine } from './src/lab/kernel-spec.ts';
      export { parseSettings } from './src/settings/settings.ts';
      export { prepareWorktrees } from './src/sources/worktrees.ts';
      export { VmTargetRunner } from './src/run/launcher.ts';
      export { measure } from './src/run/pipeline.ts';
      export { createShapesRepo, SHAPES_WORKLOAD } from './src/demo/shapes-repo.ts';
      export { cancelOnSignals } from './src/run/cancellation.ts';
    `);
const lab = L.findLabKernel(values.kernel ?? '');
const line = L.releaseLine(lab.release);
const log = (s) => console.error(`accuracy: ${s}`);

function inputs(c, outDir) {
  const table = {
    workload: L.SHAPES_WORKLOAD,
    'ready-pattern': '^ready',
    hold: '0.3',
    cycles: String(c.cycles ?? 3),
    'output-dir': outDir,
    'github-token': '',
    track: c.track ?? c.input ?? '',
  };
  return (name) => table[name] ?? '';
}

/** The fail row the verdict is read on: the PR's worst new leak at a module call site. */
function worstRow(comparison) {
  const bad = (r) => ['new-leak', 'worse'].includes(r.status);
  const rows = comparison.rows.filter((r) => !r.total && r.inModule !== false && bad(r));
  rows.sort((a, b) => b.change - a.change);
  // A pair counted by calls has its leak on the total row only.
  return rows[0] ?? comparison.rows.find((r) => r.total && bad(r));
}

/** What a case must give on this kernel line. */
const expectationOf = (c) => ({ ...c.expect, ...(c.byKernel?.[line] ?? {}) });

function judge(c, got) {
  const e = expectationOf(c);
  if (e.refused) return got.refused && e.refused.test(got.refused) ? 'ok' : `expected a refusal matching ${e.refused}`;
  if (got.verdict !== e.verdict) return `verdict ${got.verdict}, expected ${e.verdict}`;
  const changed = judgeChanged(e, got);
  if (changed) return changed;
  if (e.verdict !== 'fail') {
    if (got.leaks.length > 0) return `leaks on a side: ${got.leaks.join('; ')}`;
    if (got.errorPaths.length > 0) return `error-path findings on a pass: ${got.errorPaths.map((f) => f.text).join('; ')}`;
    if (e.swept && !got.swept) return `not swept: ${got.sweepNotes.join('; ') || 'no sweep ran'}`;
    return 'ok';
  }
  if (e.errorPaths) {
    const missing = e.errorPaths.filter(
      (x) => !got.errorPaths.some((f) => f.site.startsWith(x.failed) && (x.crash ? f.breakage === 'crash' : f.leaked?.startsWith(x.leaked))),
    );
    return missing.length === 0
      ? 'ok'
      : `no finding ${missing.map(expectedFinding).join(', ')}; found: ${got.errorPaths.map((f) => f.text).join('; ') || 'none'}`;
  }
  if (e.badFree) {
    const b = got.badFree;
    return b?.kind === e.badFree && b.caller.startsWith(e.site)
      ? 'ok'
      : `bad free ${b ? `${b.kind} at ${b.caller}` : 'none'}, expected ${e.badFree} at ${e.site}`;
  }
  const pairRight = e.pair === undefined || (e.pair instanceof RegExp ? e.pair.test(got.pair ?? '') : [e.pair].flat().includes(got.pair));
  if (!pairRight) return `pair ${got.pair}, expected ${[e.pair].flat().join(' or ')}`;
  if (e.site !== undefined && !got.site?.startsWith(e.site)) return `site ${got.site}, expected ${e.site}`;
  if (e.rate !== undefined && Math.abs(got.rate - e.rate) > 0.05) return `rate ${got.rate}, expected ${e.rate}`;
  return 'ok';
}

function judgeChanged(e, got) {
  for (const [name, ran] of Object.entries(e.changed ?? {})) {
    const f = got.changed.find((x) => x.name === name);
    if (!f) return `changed function ${name} not named (named: ${got.changed.map((x) => x.name).join(', ') || 'none'})`;
    if ((f.calls > 0 || f.lifecycle !== undefined) !== ran) return `changed function ${name}: ${f.calls} calls, expected ${ran ? 'some' : 'none'}`;
  }
  return null;
}

const expectedFinding = (x) => (x.crash ? `crash when ${x.failed} fails` : `${x.failed} → ${x.leaked}`);

const only = values.only ? new Set(values.only.split(',').map((x) => x.trim())) : null;
const unknown = [...(only ?? [])].filter((x) => !CASES.some((c, i) => x === String(i + 1) || x === c.name));
if (unknown.length > 0) {
  console.error(`accuracy: --only ${unknown.join(', ')}: no such case; give case numbers 1-${CASES.length} (names with a comma cannot be given by name)`);
  process.exit(2);
}
const results = [];
// Ctrl-C or SIGTERM ends the case's VM; the cases stop and the work folder is removed.
const cancellation = L.cancelOnSignals();
const { signal } = cancellation;
const work = mkdtempSync(join(tmpdir(), 'alloc-balance-accuracy-'));
try {
  for (const [i, c] of CASES.entries()) {
    if (signal.aborted) break;
    if (only && !only.has(String(i + 1)) && !only.has(c.name)) continue;
    const started = Date.now();
    const outDir = join(work, `case-${i + 1}`);
    const got = { leaks: [], errorPaths: [], changed: [], sweepNotes: [] };
    let settings;
    try {
      settings = L.parseSettings(inputs(c, outDir));
    } catch (e) {
      got.refused = e.message;
    }
    if (settings && !c.input) {
      const repo = join(work, `repo-${i + 1}`);
      const shas = L.createShapesRepo(SHAPES, repo, [c.base, c.pr]);
      const trees = await L.prepareWorktrees(
        repo,
        {
          event: 'workflow_dispatch',
          action: '',
          repository: 'local/leak_shapes',
          base: { ref: 'base', sha: shas[0] },
          head: { ref: 'pr', sha: shas[1] },
          prNumber: null,
          isFork: false,
          headRepo: 'local/leak_shapes',
        },
        join(work, `trees-${i + 1}`),
      );
      const runner = new L.VmTargetRunner(lab, settings, { cliPath: join(ROOT, 'dist', 'cli.js'), nodePath: process.execPath, signal });
      try {
        const m = await L.measure(
          settings,
          { base: { side: 'base', ref: 'base', sha: trees.baseSha, dir: trees.base }, pr: { side: 'pr', ref: 'pr', sha: trees.headSha, dir: trees.head } },
          runner,
          { log: () => {}, group: async (_n, fn) => fn(), signal },
          outDir,
        );
        const row = worstRow(m.comparison);
        got.verdict = m.comparison.verdict;
        got.headline = m.comparison.headline;
        got.pair = row?.pair;
        got.site = row?.caller;
        got.location = row?.location;
        got.rate = row?.pr?.leakedPerCycle ?? 0;
        got.badFree = (m.comparison.badFrees ?? []).find((b) => b.isNew);
        got.misses = [m.base, m.pr].map((s) => s.analysis?.lostBy?.probes ?? 0).reduce((a, b) => a + b, 0);
        got.errorPaths = (m.comparison.errorPaths ?? []).map((f) => ({ site: f.site, leaked: f.leak?.caller, breakage: f.breakage?.kind, text: f.text }));
        got.changed = m.pr.changed?.functions ?? [];
        got.swept = [m.base, m.pr].every((s) => s.errorPaths && !s.errorPaths.skipped && s.errorPaths.sites.some((x) => x.injected));
        // Sites each side's sweep recorded, and those it never reached (a crash ends a sweep).
        got.sites = [m.base, m.pr].map((s) => {
          const left = s.errorPaths?.notSwept?.length ?? 0;
          return `${s.errorPaths?.sites.length ?? 0}${left > 0 ? ` (+${left} not swept)` : ''}`;
        });
        got.sweepNotes = [m.base, m.pr].flatMap((s) => (s.notes ?? []).filter((n) => n.startsWith('error paths')));
        for (const s of [m.base, m.pr]) {
          if (s.status !== 'ok') got.leaks.push(`${s.side}: ${s.status} ${s.reason ?? ''}`);
          for (const p of s.analysis?.pairs ?? []) if (p.leakedPerCycle !== 0) got.leaks.push(`${s.side} ${p.alloc}:${p.free} ${p.leakedPerCycle}/cycle`);
        }
      } finally {
        await trees.dispose();
      }
    }
    if (signal.aborted) break;
    const outcome = judge(c, got);
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    results.push({ n: i + 1, c, got, outcome, seconds });
    log(`${i + 1}. ${c.name}: ${outcome} (${got.refused ? `refused: ${got.refused}` : got.headline}) ${seconds} s`);
  }
} finally {
  cancellation.dispose();
  if (values.keep) log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
if (signal.aborted) {
  log(`cancelled (${signal.reason.message}); nothing written`);
  process.exit(130);
}

/** What the sweep and the changed-code count add to a row: asked for, and as measured. */
const expectMore = (e) =>
  [e.swept ? 'every site swept, no finding' : '', ...Object.entries(e.changed ?? {}).map(([n, ran]) => `${n} ${ran ? 'ran' : 'never ran'}`)].filter((x) => x);
const gotMore = (g) =>
  [
    g.sites ? `swept ${g.sites.join(' / ')} sites` : '',
    ...g.changed.map((f) => `${f.name} ${f.calls > 0 || f.lifecycle ? `ran (${f.calls} calls)` : 'never ran'}`),
  ].filter((x) => x);
const withMore = (text, more) => (more.length > 0 ? `${text} (${more.join('; ')})` : text);
const expectText = (e) => withMore(expectBase(e), expectMore(e));
const gotText = (g) => withMore(gotBase(g), g.refused ? [] : gotMore(g));
const expectBase = (e) =>
  e.errorPaths
    ? `fail: ${e.errorPaths.map(expectedFinding).join(', ')}`
    : e.refused
      ? 'input refused'
      : e.badFree
        ? `fail: ${e.badFree} at ${e.site}`
        : e.verdict === 'fail'
          ? `fail: ${e.pair === undefined ? 'any pair' : [e.pair].flat().join(' or ')}${e.site ? ` at ${e.site}` : ''}${e.rate !== undefined ? `, ${e.rate}/cycle` : ''}`
          : e.verdict;
const gotBase = (g) =>
  g.errorPaths.length > 0 && g.verdict === 'fail'
    ? `fail: ${g.errorPaths.map((f) => f.text).join('; ')}`
    : g.refused
      ? `refused: ${g.refused.replace(/^input "track": /, '')}`
      : g.verdict === 'fail' && g.badFree
        ? `fail: ${g.badFree.kind} at ${g.badFree.caller}${g.badFree.location ? ` (${g.badFree.location})` : ''}, ${g.badFree.pr} on the PR`
        : g.verdict === 'fail'
          ? `fail: ${g.pair}${g.site && !g.site.startsWith('all module') ? ` at ${g.site}` : ' (counted by calls, no site)'}` +
            `${g.location ? ` (${g.location})` : ''}, ${g.rate}/cycle`
          : `${g.verdict}${g.leaks.length ? ` (${g.leaks.join('; ')})` : ''}`;
const right = results.filter((r) => r.outcome === 'ok').length;
const rowOf = (r) =>
  `| ${r.n} | ${r.c.name} | ${expectText(expectationOf(r.c))} | ${gotText(r.got).replaceAll('|', '\\|')} | ` +
  `${r.outcome === 'ok' ? 'yes' : `**no**: ${r.outcome}`} | ${r.seconds} |`;
const HEADER = ['| # | shape | expected | measured | right | s |', '|---|---|---|---|---|---|'];
const summary = (ok, all) => `${ok} of ${all} cases right; kernel ${lab.release}, \`node scripts/accuracy.mjs --kernel ${line}\``;
console.log([...HEADER, ...results.map(rowOf), '', `${summary(right, results.length)}.`].join('\n'));

/**
 * The kernel line's table: this run's rows; with --only, the other cases keep the row of the run
 * that last measured them (matched by shape name, renumbered in the corpus' order).
 */
function tableFor(previous) {
  if (!only) return [...HEADER, ...results.map(rowOf), '', `${summary(right, results.length)}.`].join('\n');
  const kept = new Map();
  for (const l of previous.split('\n')) {
    const m = /^\| \d+ \| (.+?) \| (.*)$/.exec(l);
    if (m) kept.set(m[1], m[2]);
  }
  const rows = [];
  CASES.forEach((c, i) => {
    const now = results.find((r) => r.c === c);
    if (now) rows.push({ text: rowOf(now), ok: now.outcome === 'ok' });
    else if (kept.has(c.name)) rows.push({ text: `| ${i + 1} | ${c.name} | ${kept.get(c.name)}`, ok: / \| yes \| [^|]* \|$/.test(kept.get(c.name)) });
  });
  const ok = rows.filter((r) => r.ok).length;
  const measured = results.map((r) => r.n).join(',');
  return [
    ...HEADER,
    ...rows.map((r) => r.text),
    '',
    `${summary(ok, rows.length)}; rows ${measured} by \`--only ${measured}\`, the others by an earlier run.`,
  ].join('\n');
}

if (!values['no-write']) {
  const file = join(ROOT, 'docs', 'measurements.md');
  const doc = readFileSync(file, 'utf8');
  // 6.1 keeps the section it always had; every other line has its own.
  const tag = line === '6.1' ? 'accuracy' : `accuracy-${line}`;
  const start = `<!-- ${tag}:start -->`;
  const end = `<!-- ${tag}:end -->`;
  const previous = new RegExp(`${start}([\\s\\S]*?)${end}`).exec(doc)?.[1] ?? '';
  const section = `${start}\n${tableFor(previous)}\n${end}`;
  writeFileSync(
    file,
    doc.includes(start) ? doc.replace(new RegExp(`${start}[\\s\\S]*?${end}`), section) : `${doc.trimEnd()}\n\n### Linux ${line}\n\n${section}\n`,
  );
  log(`written to ${file}`);
}
process.exit(right === results.length ? 0 : 1);
