// Running the lab's set-up as root from an action that may not be: GitHub-hosted runners run the
// action as user `runner`, who has passwordless sudo.

/** The action process's user; uid 0 is root. */
export interface Identity {
  uid: number;
  gid: number;
}

export function currentIdentity(): Identity {
  return typeof process.getuid === 'function' ? { uid: process.getuid(), gid: process.getgid?.() ?? 0 } : { uid: 0, gid: 0 };
}

export function asRoot(argv: string[], who: Identity): string[] {
  return who.uid === 0 ? argv : ['sudo', '-n', ...argv];
}

export interface LabCliCall {
  nodePath: string;
  cliPath: string;
  labDir: string;
  /** Empty: the release the set-up chooses. */
  release: string;
  who: Identity;
}

/**
 * `lab plan` or `lab setup` of the bundled CLI, as root. The lab dir is an argument, not the
 * environment (sudo resets it); a set-up through sudo hands the lab back to the calling user.
 */
export function labCliArgv(sub: 'plan' | 'setup', call: LabCliCall): string[] {
  const argv = [call.nodePath, call.cliPath, 'lab', sub, '--dir', call.labDir, '--json'];
  if (call.release) argv.push('--kernel', call.release);
  if (sub === 'setup' && call.who.uid !== 0) argv.push('--owner', `${call.who.uid}:${call.who.gid}`);
  return asRoot(argv, call.who);
}

/** Why sudo would not run the command without a password, or null when it did run it. */
export function sudoRefusal(result: { spawnError?: string; stderr: string }): string | null {
  // EACCES too: execvp reports it when sudo is in no PATH directory and one of them is not searchable.
  if (result.spawnError === 'ENOENT' || result.spawnError === 'EACCES') return 'sudo is not installed (not found on PATH)';
  if (result.spawnError) return `sudo could not be started (${result.spawnError})`;
  const m =
    /^sudo: (a password is required|a terminal is required.*)$/m.exec(result.stderr) ??
    /^(?:sudo: )?(\S+ is not in the sudoers file|Sorry, user .* is not allowed to execute .*)/m.exec(result.stderr);
  return m ? `sudo -n refused: ${m[1].replace(/[.\s]+$/, '')}` : null;
}

export function rootNeeded(who: Identity, refusal: string, labDir: string): string {
  return (
    `target: vm sets up its kernel lab as root (apt packages, kernel headers), but this action runs as uid ${who.uid} and ${refusal}. ` +
    'Run the runner as root or allow it passwordless sudo (GitHub-hosted runners have it), ' +
    `or prepare the lab once by hand where the action looks for it: ` +
    `sudo alloc-balance lab setup --dir ${labDir} --owner ${who.uid}:${who.gid} (docs/self-hosted-runner.md)`
  );
}
