import { UsageError } from '../settings/input-error.js';

export async function targetCommand(_args: string[]): Promise<number> {
  throw new UsageError('target: not available yet');
}
