// alloc-balance analyze --trace FILE [--trace FILE ...] --pair ALLOC:FREE [--pair ...]
//   [--stats FILE ...] [--slabinfo FILE ...] [--module NAME] [--ko FILE.ko] [--nm FILE]
//   [--sections FILE.json] [--json]
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../errors.js';
import { parsePairList } from '../core/pair-spec.js';
import { analyzeTraces } from '../core/analyze-traces.js';
import { ModuleMap } from '../core/module-map.js';
import { renderAnalysisText } from '../report/text.js';
import { locateCallers, moduleSymbols } from '../module-build/module-info.js';
import { parseArgs } from './args.js';
import { usageLine } from './help.js';

export const ANALYZE_USAGE = usageLine('analyze');

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
  const a = parseArgs('analyze', args, { values: ['trace', 'pair', 'stats', 'slabinfo', 'module', 'ko', 'nm', 'sections'], flags: ['json'] });
  if (a.positional.length > 0) throw new UsageError(`analyze: unexpected argument "${a.positional[0]}"; give traces with --trace FILE`);
  const traces = a.values.get('trace') ?? [];
  if (traces.length === 0) throw new UsageError(`analyze: no trace given; ${ANALYZE_USAGE}`);
  if (traces.filter((t) => t === '-').length > 1) throw new UsageError('analyze: --trace - (standard input) can be given once');
  const pairTexts = a.values.get('pair') ?? [];
  if (pairTexts.length === 0) throw new UsageError('analyze: no pair given; add --pair ALLOC:FREE, e.g. --pair alloc_netdev_mqs:free_netdev');
  let pairs;
  try {
    pairs = parsePairList(pairTexts.join(','));
  } catch (e) {
    throw new UsageError(`analyze: --pair ${(e as Error).message}`);
  }
  const last = (name: string) => {
    const v = a.values.get(name);
    return v ? v[v.length - 1] : undefined;
  };
  const module = last('module') ?? '';
  const ko = last('ko');
  const nmFile = last('nm');
  const sections = last('sections') ? readSectionsFile(last('sections')!) : {};
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
    stats: a.values.get('stats'),
    slabinfo: a.values.get('slabinfo'),
    moduleMap: map,
  });
  if (ko) await locateCallers(result, map, ko, dirname(ko));
  process.stdout.write(a.flags.has('json') ? `${JSON.stringify(result, null, 2)}\n` : renderAnalysisText(result));
  return 0;
}
