import { UsageError } from '../settings/input-error.js';

export async function analyzeCommand(_args: string[]): Promise<number> {
  throw new UsageError('analyze: not available yet');
}
