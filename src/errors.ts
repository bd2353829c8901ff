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
