import { UsageError } from '../settings/input-error.js';

export async function demoCommand(_args: string[]): Promise<number> {
  throw new UsageError('demo: not available yet');
}
