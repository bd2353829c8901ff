/** A bad input value: the message names the input, the value and what it accepts. */
export class InputError extends Error {
  constructor(
    readonly input: string,
    readonly value: string,
    readonly expected: string,
  ) {
    super(`input "${input}": ${value === '' ? 'missing' : `"${value}" is not valid`}; expected ${expected}`);
    this.name = 'InputError';
  }
}

/** Any error meant for the user as one clear line (bad files, bad arguments): never a stack trace. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * The `verdict` output of a step that ended in an exception. A bad input, a refused fork or any
 * other error is no verdict on the PR: `error`, never `fail`. A cancelled run is `inconclusive`,
 * as a cancelled run that reaches its verdict is.
 */
export function verdictOnError(error: unknown, cancelled: boolean): 'error' | 'inconclusive' {
  if (error instanceof InputError || error instanceof UsageError) return 'error';
  return cancelled ? 'inconclusive' : 'error';
}
