// alloc-balance analyze --trace FILE [--trace FILE ...] --pair ALLOC:FREE [--pair ...]
//   [--stats FILE ...] [--slabinfo FILE ...] [--module NAME] [--ko FILE.ko] [--nm FILE]
//   [--sections FILE.json] [--json]
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../errors.js';
import { parsePairList } from '../core/pair-spec.js';
import { analyzeTraces } from '../core/analyze-traces.js';
import { ModuleMap } from '../core/module-map.js';
import { renderAnalysisText } from '../report/terminal.js';
import { locateCallers, moduleSymbols } from '../module-build/module-info.js';
import { readArgs } from './args.js';
import { EXIT } from './exit-codes.js';
import { usageLine } from './help.js';

const ANALYZE_USAGE = usageLine('analyze');

function readSectionsFile(path: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(
      `--sections ${path}: ${(e as NodeJS.ErrnoException).code ? 'cannot be read' : 'not JSON'}; expected {".text": "0xffffffffc0200000", ...}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === 'string')) {
    throw new UsageError(`--sections ${path}: expected a JSON object of section name to address, e.g. {".text": "0xffffffffc0200000"}`);
  }
  return parsed as Record<string, string>;
}

export async function analyzeCommand(args: string[]): Promise<number> {
  const { values: v } = readArgs('analyze', args, {
    trace: { type: 'string', multiple: true },
    pair: { type: 'string', multiple: true },
    stats: { type: 'string', multiple: true },
    slabinfo: { type: 'string', multiple: true },
    module: { type: 'string' },
    ko: { type: 'string' },
    nm: { type: 'string' },
    sections: { type: 'string' },
    json: { type: 'boolean' },
  });
  const traces = v.trace ?? [];
  if (traces.length === 0) throw new UsageError(`analyze: no trace given; ${ANALYZE_USAGE}`);
  if (traces.filter((t) => t === '-').length > 1) throw new UsageError('analyze: --trace - (standard input) can be given once');
  const pairTexts = v.pair ?? [];
  if (pairTexts.length === 0) throw new UsageError('analyze: no pair given; add --pair ALLOC:FREE, e.g. --pair alloc_netdev_mqs:free_netdev');
  let pairs;
  try {
    pairs = parsePairList(pairTexts.join(','));
  } catch (e) {
    throw new UsageError(`analyze: --pair ${(e as Error).message}`);
  }
  const module = v.module ?? '';
  const ko = v.ko;
  const nmFile = v.nm;
  // Raw addresses are resolved with both: the symbols and where the module's sections were loaded.
  if (nmFile !== undefined && v.sections === undefined)
    throw new UsageError('analyze: --nm needs --sections FILE.json too: the section addresses of the loaded module (/sys/module/NAME/sections)');
  if (v.sections !== undefined && nmFile === undefined && ko === undefined)
    throw new UsageError("analyze: --sections needs --nm FILE too (`nm -f sysv` of the module's .ko), or --ko FILE.ko");
  const sections = v.sections ? readSectionsFile(v.sections) : {};
  let nmText = '';
  if (nmFile) {
    try {
      nmText = readFileSync(nmFile, 'utf8');
    } catch (e) {
      throw new UsageError(`--nm ${nmFile}: cannot be read (${(e as NodeJS.ErrnoException).code})`);
    }
  } else if (ko) {
    try {
      nmText = await moduleSymbols(ko);
    } catch (e) {
      throw new UsageError(
        `--ko ${ko}: nm could not read it (${((e as Error).message.split('\n').find((l) => l.includes('nm:')) ?? (e as Error).message).trim()})`,
      );
    }
  }
  const moduleName = module || (ko ? ko.replace(/^.*\//, '') : '');
  let map: ModuleMap;
  try {
    map = new ModuleMap(moduleName, nmText, sections);
  } catch (e) {
    throw new UsageError(`--sections: ${(e as Error).message}`);
  }
  if ((nmFile || ko) && !map.hasSymbols)
    throw new UsageError(`${nmFile ? `--nm ${nmFile}` : `--ko ${ko}`}: no function symbol found; expected the output of nm on the module's .ko`);
  const result = await analyzeTraces({
    traces,
    pairs,
    stats: v.stats,
    slabinfo: v.slabinfo,
    moduleMap: map,
  });
  if (ko) await locateCallers(result, map, ko, dirname(ko));
  process.stdout.write(v.json ? `${JSON.stringify(result, null, 2)}\n` : renderAnalysisText(result));
  return EXIT.ok;
}
