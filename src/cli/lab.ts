// `alloc-balance lab setup [--kernel RELEASE] [--dir DIR]`: prepares the VM target's kernel.
import { parseArgs } from 'node:util';
import { setupLab } from '../lab/setup.js';
import { defaultLabDir } from '../lab/lab-kernel.js';
import { UsageError } from '../settings/input-error.js';
import { usageLine } from './help.js';

const USAGE = usageLine('lab');

export async function labCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'setup') throw new UsageError(sub ? `lab: unknown subcommand "${sub}"; ${USAGE}` : USAGE);
  let values: { kernel?: string; dir?: string; json?: boolean };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { kernel: { type: 'string' }, dir: { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(`lab setup: ${(error as Error).message}; ${USAGE}`);
  }
  if (values.kernel !== undefined && !/^[0-9][\w.+~-]*$/.test(values.kernel)) {
    throw new UsageError(`lab setup: --kernel "${values.kernel}" is not a kernel release (like 6.1.0-56-amd64)`);
  }
  const labDir = values.dir ?? defaultLabDir();
  const entry = await setupLab({ release: values.kernel, labDir, log: (l) => console.error(`lab: ${l}`) });
  if (values.json) console.log(JSON.stringify(entry, null, 2));
  else {
    console.log(`kernel ${entry.release} (${entry.imagePackage} ${entry.imageVersion}, ${entry.bootMode} boot) ready in ${labDir}`);
    console.log(`  vmlinux   ${entry.vmlinux}\n  initrd    ${entry.initrd}\n  buildDir  ${entry.buildDir}\n  modules   ${entry.modulesDir}`);
  }
  return 0;
}
