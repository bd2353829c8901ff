// Bundles the action and the CLI into dist/ with esbuild. `--check` rebuilds into a
// temporary folder and fails when the committed dist/ differs from it.
import { build } from 'esbuild';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const entries = {
  index: 'src/index.ts',
  post: 'src/post.ts',
  cli: 'src/cli.ts',
};

async function bundle(outdir) {
  await build({
    entryPoints: entries,
    outdir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    splitting: false,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
    // A CommonJS dependency of @actions/http-client calls require('net').
    banner: {
      js: "#!/usr/bin/env node\nimport { createRequire as __abCreateRequire } from 'node:module';\nconst require = __abCreateRequire(import.meta.url);",
    },
  });
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
    if (stale.length) {
      console.error(`dist/ is stale (${stale.join(', ')}): run "npm run build" and commit dist/.`);
      process.exitCode = 1;
    } else {
      console.log('dist/ is up to date');
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
