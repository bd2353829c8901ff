// Turns a failed GitHub call into one line that says what to change.

/** Which write permission each output needs, as written in a workflow's `permissions:` block. */
const NEEDED_PERMISSION = {
  comment: 'pull-requests: write',
  checkRun: 'checks: write',
  read: 'pull-requests: read',
} as const;

export type Output = keyof typeof NEEDED_PERMISSION;

interface HttpFailure {
  status?: number;
  message?: string;
}

function statusOf(error: unknown): number | null {
  const status = (error as HttpFailure | null)?.status;
  return typeof status === 'number' ? status : null;
}

export function describeApiError(error: unknown, what: string, output: Output): string {
  const status = statusOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if (status === 401) return `${what} failed: the token was refused (HTTP 401); check the github-token input`;
  if (status === 403 || status === 404) {
    return (
      `${what} failed (HTTP ${status}: ${firstLine(message)}): the token lacks \`${NEEDED_PERMISSION[output]}\`. ` +
      `Add it to the job's \`permissions:\`; on pull requests from forks the token is read-only, ` +
      `so post from a workflow_run job (docs/workflows.md#fork-pull-requests)`
    );
  }
  return `${what} failed: ${firstLine(message)}`;
}

function firstLine(text: string): string {
  return text.split('\n')[0].slice(0, 300);
}
