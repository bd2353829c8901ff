// Words for a POSIX shell: the build scripts, the VM's per-run files, the preset's workload command.

/** Quotes one word for a POSIX shell; a word of only safe characters stays bare. */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A command line that runs `argv` as given. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
