// How the commands that run a check (demo, run) show its progress on the terminal: each step of
// the pipeline under a `== name` heading, its lines indented below.

export function stepLine(line: string): void {
  console.log(`   ${line}`);
}

export async function consoleGroup<T>(name: string, fn: () => Promise<T>): Promise<T> {
  console.log(`== ${name}`);
  return fn();
}
