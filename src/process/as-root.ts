// Running a program as root from a process that may not be: GitHub-hosted runners run the action
// as user `runner`, who has passwordless sudo.

/** The calling process's user; uid 0 is root. */
export interface Identity {
  uid: number;
  gid: number;
}

export function currentIdentity(): Identity {
  return typeof process.getuid === 'function' ? { uid: process.getuid(), gid: process.getgid?.() ?? 0 } : { uid: 0, gid: 0 };
}

/** `argv` through sudo, never waiting for a password (`sudo -n`: it fails instead). */
export function throughSudo(argv: string[]): string[] {
  return ['sudo', '-n', ...argv];
}

/** `argv` as root: as it is for root, else through sudo. */
export function asRoot(argv: string[], who: Identity = currentIdentity()): string[] {
  return who.uid === 0 ? argv : throughSudo(argv);
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
