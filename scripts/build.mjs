// Bundles the action and the CLI into dist/ with esbuild. `--check` rebuilds into a
// temporary folder and fails when the committed dist/ differs from it, or when dist/cli.js
// (the package's bin) is not executable.
//
// Third-party notices: esbuild's legal comments keep only `/*!` and @license comments, which most
// bundled packages lack; dist/licenses.txt instead holds the licence file (or, without one, the
// package.json licence) of every package the bundles contain, sorted, so that it is the same on
// every build.
import { build } from 'esbuild';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const entries = {
  index: 'src/index.ts',
  post: 'src/post.ts',
  cli: 'src/cli.ts',
};

/** node_modules/<name>/ or node_modules/@scope/<name>/ of a bundled input path. */
function packageDirOf(input) {
  const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  return m ? m[1] : null;
}

const LICENCE_FILE = /^(licen[cs]e|copying)(\.(md|txt))?$/i;

/** The licences of the bundled packages: one block each, sorted by name and version. */
export function licencesText(inputs) {
  const blocks = new Map();
  for (const dir of new Set(inputs.map(packageDirOf).filter(Boolean))) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const key = `${pkg.name}@${pkg.version}`;
    if (blocks.has(key)) continue;
    const file = readdirSync(dir)
      .filter((f) => LICENCE_FILE.test(f))
      .sort()[0];
    const text = file ? readFileSync(join(dir, file), 'utf8').trim() : `License: ${pkg.license ?? 'not stated'} (no licence file in the package)`;
    blocks.set(key, `${key} (${pkg.license ?? '?'})\n\n${text}`);
  }
  const sorted = [...blocks.entries()].sort(([a], [b]) => a.localeCompare(b, 'en'));
  const head = 'Third-party software bundled in dist/*.js, with the licence each is distributed under.';
  return `${[head, ...sorted.map(([, block]) => block)].join(`\n\n${'-'.repeat(78)}\n\n`)}\n`;
}

async function bundle(outdir) {
  const result = await build({
    entryPoints: entries,
    outdir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    splitting: false,
    sourcemap: false,
    legalComments: 'none',
    metafile: true,
    // Module paths as seen from the checkout, also where node_modules is a link to another
    // checkout's: the bundle's comments name them, and dist/ must not depend on where it was built.
    preserveSymlinks: true,
    logLevel: 'warning',
    // A CommonJS dependency of @actions/http-client calls require('net').
    banner: {
      js: "#!/usr/bin/env node\nimport { createRequire as __abCreateRequire } from 'node:module';\nconst require = __abCreateRequire(import.meta.url);",
    },
  });
  writeFileSync(join(outdir, 'licenses.txt'), licencesText(Object.keys(result.metafile.inputs)));
  // The package's bin: `npx alloc-balance` and `./dist/cli.js` run it directly.
  chmodSync(join(outdir, 'cli.js'), 0o755);
}

const check = process.argv.includes('--check');
// `--outdir DIR`: the same bundle into another folder (tests run it without touching dist/).
const outdirAt = process.argv.indexOf('--outdir');
if (outdirAt > 0) {
  if (!process.argv[outdirAt + 1]) throw new Error('--outdir needs a folder');
  await bundle(process.argv[outdirAt + 1]);
} else if (!check) {
  rmSync('dist', { recursive: true, force: true });
  await bundle('dist');
} else {
  const tmp = mkdtempSync(join(tmpdir(), 'alloc-balance-dist-'));
  try {
    await bundle(tmp);
    const fresh = readdirSync(tmp).sort();
    const committed = existsSync('dist') ? readdirSync('dist').sort() : [];
    const stale = [];
    for (const f of new Set([...fresh, ...committed])) {
      const a = existsSync(join(tmp, f)) ? readFileSync(join(tmp, f)) : null;
      const b = existsSync(join('dist', f)) ? readFileSync(join('dist', f)) : null;
      if (!a || !b || !a.equals(b)) stale.push(f);
    }
    const cliMode = existsSync('dist/cli.js') ? statSync('dist/cli.js').mode & 0o111 : 0;
    if (stale.length) {
      console.error(`dist/ is stale (${stale.join(', ')}): run "npm run build" and commit dist/.`);
      process.exitCode = 1;
    } else if (!cliMode) {
      console.error('dist/cli.js is not executable: run "npm run build" (or chmod +x dist/cli.js) and commit dist/ with its mode.');
      process.exitCode = 1;
    } else {
      console.log('dist/ is up to date');
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
