import { UsageError } from '../settings/input-error.js';

export async function compareCommand(_args: string[]): Promise<number> {
  throw new UsageError('compare: not available yet');
}
