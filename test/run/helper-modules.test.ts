// The kernel modules the action builds on the runner at run time ship with it: each is found from
// the sources, and the npm package lists its folder.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { API_WATCH } from '../../src/run/api-memory.js';
import { CANARY } from '../../src/run/canary.js';
import { FAILSITE } from '../../src/run/error-paths.js';
import { findHelperDir } from '../../src/run/helper-modules.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('helper modules', () => {
  for (const helper of [CANARY, FAILSITE, API_WATCH]) {
    it(`${helper.folder}/ is found from the sources and shipped in the package`, () => {
      expect(findHelperDir(helper)).toBe(join(ROOT, helper.folder));
      const files = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] }).files;
      expect(files).toContain(`${helper.folder}/`);
    });
  }

  it('a missing helper is named with what the checkout lacks', () => {
    expect(() => findHelperDir({ folder: 'nowhere', name: 'ab_none', what: 'the test helper' }, '/tmp')).toThrow(
      'the test helper is missing: no nowhere/ab_none.c above /tmp',
    );
  });
});
