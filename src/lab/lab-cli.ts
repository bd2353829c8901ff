// The lab's set-up run as root from an action that may not be: the bundled CLI's `lab plan` and
// `lab setup` through sudo, and what to do when sudo refuses.
import { asRoot, type Identity } from '../process/as-root.js';

interface LabCliCall {
  nodePath: string;
  cliPath: string;
  labDir: string;
  /** Empty: the release the set-up chooses. */
  release: string;
  who: Identity;
  /** `setup --qemu`: the lab's QEMU instead of a kernel. */
  qemu?: boolean;
}

/**
 * `lab plan` or `lab setup` of the bundled CLI, as root. The lab dir is an argument, not the
 * environment (sudo resets it); a set-up through sudo hands the lab back to the calling user.
 */
export function labCliArgv(sub: 'plan' | 'setup', call: LabCliCall): string[] {
  const argv = [call.nodePath, call.cliPath, 'lab', sub, '--dir', call.labDir, '--json'];
  if (call.release) argv.push('--kernel', call.release);
  if (call.qemu) argv.push('--qemu');
  if (sub === 'setup' && call.who.uid !== 0) argv.push('--owner', `${call.who.uid}:${call.who.gid}`);
  return asRoot(argv, call.who);
}

export function rootNeeded(who: Identity, refusal: string, labDir: string): string {
  return (
    `target: vm sets up its kernel lab as root (apt packages, kernel headers), but this action runs as uid ${who.uid} and ${refusal}. ` +
    'Run the runner as root or allow it passwordless sudo (GitHub-hosted runners have it), ' +
    `or prepare the lab once by hand where the action looks for it: ` +
    `sudo alloc-balance lab setup --dir ${labDir} --owner ${who.uid}:${who.gid} (docs/self-hosted-runner.md)`
  );
}
