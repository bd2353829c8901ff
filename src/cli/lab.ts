// `alloc-balance lab setup|plan [--kernel LINE|RELEASE] [--dir DIR] [--owner UID:GID] [--json]`:
// prepares the VM target's kernel from Debian's archive; `plan` installs the tools and names the release only;
// `setup --qemu` takes a QEMU new enough for every emulated NIC (vm-nics) from Debian's backports.
import { planLab, setupLab, setupQemu } from '../lab/setup.js';
import { defaultLabDir } from '../lab/lab-kernel.js';
import { KERNEL_SPEC_HINT, parseKernelSpec } from '../lab/kernel-spec.js';
import { UsageError } from '../errors.js';
import { usageLine } from './help.js';
import { readArgs } from './args.js';
import { EXIT } from './exit-codes.js';

const USAGE = usageLine('lab');

export async function labCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'setup' && sub !== 'plan') throw new UsageError(`lab: ${sub ? `unknown subcommand "${sub}"` : 'missing subcommand'}; ${USAGE}`);
  const { values } = readArgs(`lab ${sub}`, rest, {
    kernel: { type: 'string' },
    dir: { type: 'string' },
    owner: { type: 'string' },
    json: { type: 'boolean' },
    qemu: { type: 'boolean' },
  });
  if (values.kernel !== undefined && !parseKernelSpec(values.kernel)) {
    throw new UsageError(`lab ${sub}: --kernel "${values.kernel}" is not ${KERNEL_SPEC_HINT}`);
  }
  const owner = values.owner === undefined ? undefined : parseOwner(values.owner);
  const labDir = values.dir ?? defaultLabDir();
  const log = (l: string) => console.error(`lab: ${l}`);
  if (values.qemu) {
    if (sub !== 'setup' || values.kernel !== undefined) throw new UsageError(`lab ${sub}: --qemu goes with setup alone (no --kernel); ${USAGE}`);
    const q = await setupQemu({ labDir, log, owner });
    console.log(values.json ? JSON.stringify(q, null, 2) : `QEMU ${q.version} (${q.package}) ready in ${labDir}: ${q.binary}`);
    return EXIT.ok;
  }
  if (sub === 'plan') {
    const release = await planLab({ kernel: values.kernel, labDir, log });
    console.log(values.json ? JSON.stringify({ release }) : release);
    return EXIT.ok;
  }
  const entry = await setupLab({ kernel: values.kernel, labDir, log, owner });
  if (values.json) console.log(JSON.stringify(entry, null, 2));
  else {
    console.log(`kernel ${entry.release} (${entry.imagePackage} ${entry.imageVersion}, ${entry.bootMode} boot) ready in ${labDir}`);
    console.log(`  vmlinux   ${entry.vmlinux}\n  initrd    ${entry.initrd}\n  buildDir  ${entry.buildDir}\n  modules   ${entry.modulesDir}`);
  }
  return EXIT.ok;
}

function parseOwner(text: string): { uid: number; gid: number } {
  const m = /^(\d+):(\d+)$/.exec(text);
  if (!m) throw new UsageError(`lab setup: --owner "${text}" is not UID:GID (like 1001:118)`);
  return { uid: Number(m[1]), gid: Number(m[2]) };
}
