import { UsageError } from '../settings/input-error.js';

export async function labCommand(_args: string[]): Promise<number> {
  throw new UsageError('lab: not available yet');
}
