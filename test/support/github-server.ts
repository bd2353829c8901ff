// A GitHub REST server on 127.0.0.1 for tests: serves the routes alloc-balance uses, keeps
// their state in memory, and checks every request against GitHub's OpenAPI description. A
// request the real API would refuse is answered 404/422 AND recorded as a violation: each test
// asserts that `violations` is empty.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, beforeEach, expect } from 'vitest';
import type { AddressInfo } from 'node:net';
import { checkRequest } from './github-openapi.js';

type Json = Record<string, any>;

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  operationId: string | null;
  at: number;
}

export interface InjectedResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface ServerState {
  /** `owner/repo#number` -> comments, oldest first. */
  comments: Map<string, Json[]>;
  checkRuns: Json[];
  /** `owner/repo#number` -> pull request object (as `GET /pulls/{n}` returns it). */
  pulls: Map<string, Json>;
  /** `owner/repo#number` -> issue events, oldest first. */
  issueEvents: Map<string, Json[]>;
}

export interface GitHubServer {
  url: string;
  state: ServerState;
  requests: RecordedRequest[];
  violations: string[];
  /** The next requests to `operationId` (e.g. `issues/create-comment`) get these answers, in order. */
  inject(operationId: string, ...responses: InjectedResponse[]): void;
  /** Requests to one operation. */
  calls(operationId: string): RecordedRequest[];
  addComments(owner: string, repo: string, issue: number, bodies: string[], user?: string): Json[];
  close(): Promise<void>;
}

const USER_BOT = { login: 'github-actions[bot]', id: 41898282, node_id: 'MDM6Qm90NDE4OTgyODI=', type: 'Bot', site_admin: false };

function key(owner: string, repo: string, n: number | string): string {
  return `${owner}/${repo}#${n}`;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startGitHubServer(): Promise<GitHubServer> {
  const state: ServerState = { comments: new Map(), checkRuns: [], pulls: new Map(), issueEvents: new Map() };
  const requests: RecordedRequest[] = [];
  const violations: string[] = [];
  const injected = new Map<string, InjectedResponse[]>();
  let nextId = 1_000_000;
  let url = '';

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-github-api-version-selected': '2022-11-28',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      ...headers,
    });
    res.end(text);
  };

  const paginate = (res: ServerResponse, path: string, query: URLSearchParams, items: Json[]) => {
    const perPage = Math.min(100, Math.max(1, Number(query.get('per_page') ?? 30)));
    const page = Math.max(1, Number(query.get('page') ?? 1));
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (p: number, rel: string) => {
      const q = new URLSearchParams(query);
      q.set('per_page', String(perPage));
      q.set('page', String(p));
      return `<${url}${path}?${q.toString()}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page > 1) links.push(link(page - 1, 'prev'), link(1, 'first'));
    if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
    send(res, 200, items.slice((page - 1) * perPage, page * perPage), links.length ? { link: links.join(', ') } : {});
  };

  const comment = (owner: string, repo: string, issue: number, body: string, user: Json = USER_BOT): Json => {
    const id = nextId++;
    const now = new Date().toISOString();
    return {
      id,
      node_id: `IC_kwDO${id}`,
      url: `${url}/repos/${owner}/${repo}/issues/comments/${id}`,
      html_url: `https://github.com/${owner}/${repo}/pull/${issue}#issuecomment-${id}`,
      issue_url: `${url}/repos/${owner}/${repo}/issues/${issue}`,
      body,
      user,
      created_at: now,
      updated_at: now,
      author_association: 'NONE',
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    const parsed = new URL(req.url ?? '/', url);
    const path = parsed.pathname;
    const query = parsed.searchParams;
    const raw = await readBody(req);
    let body: unknown;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        violations.push(`${method} ${path}: body is not JSON`);
        return send(res, 400, { message: 'Problems parsing JSON' });
      }
    }
    const check = checkRequest(method, path, query, body);
    const operationId = check.operation?.operationId ?? null;
    requests.push({ method, path, query: Object.fromEntries(query), body, operationId, at: Date.now() });
    if (!/^(token|Bearer) \S+/.test(req.headers.authorization ?? '')) {
      violations.push(`${method} ${path}: no Authorization header`);
      return send(res, 401, { message: 'Requires authentication' });
    }
    if (!check.operation) {
      violations.push(`${method} ${path}: ${check.errors.join('; ')}`);
      return send(res, 404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
    }
    if (check.errors.length > 0) {
      violations.push(`${method} ${path} (${operationId}): ${check.errors.join('; ')}`);
      return send(res, 422, { message: 'Invalid request.', errors: check.errors });
    }
    const queue = injected.get(operationId!);
    if (queue && queue.length > 0) {
      const next = queue.shift()!;
      return send(res, next.status, next.body ?? { message: `HTTP ${next.status}` }, next.headers);
    }
    const p = check.operation.params;
    const b = (body ?? {}) as Json;
    switch (operationId) {
      case 'issues/list-comments':
        return paginate(res, path, query, state.comments.get(key(p.owner, p.repo, p.issue_number)) ?? []);
      case 'issues/create-comment': {
        const k = key(p.owner, p.repo, p.issue_number);
        const c = comment(p.owner, p.repo, Number(p.issue_number), b.body);
        state.comments.set(k, [...(state.comments.get(k) ?? []), c]);
        return send(res, 201, c, { location: c.url });
      }
      case 'issues/update-comment': {
        for (const list of state.comments.values()) {
          const c = list.find((x) => String(x.id) === p.comment_id);
          if (c) {
            c.body = b.body;
            c.updated_at = new Date().toISOString();
            return send(res, 200, c);
          }
        }
        return send(res, 404, { message: 'Not Found' });
      }
      case 'checks/create': {
        const id = nextId++;
        const run: Json = {
          id,
          node_id: `CR_kwDO${id}`,
          head_sha: b.head_sha,
          name: b.name,
          status: b.status ?? 'queued',
          conclusion: b.conclusion ?? null,
          details_url: b.details_url ?? null,
          url: `${url}/repos/${p.owner}/${p.repo}/check-runs/${id}`,
          html_url: `https://github.com/${p.owner}/${p.repo}/runs/${id}`,
          started_at: b.started_at ?? new Date().toISOString(),
          completed_at: b.completed_at ?? null,
          output: { title: b.output?.title ?? null, summary: b.output?.summary ?? null, text: b.output?.text ?? null, annotations_count: 0 },
          annotations: [...(b.output?.annotations ?? [])],
          requests: 1,
        };
        run.output.annotations_count = run.annotations.length;
        state.checkRuns.push(run);
        const { annotations: _a, requests: _r, ...visible } = run;
        return send(res, 201, visible);
      }
      case 'checks/update': {
        const run = state.checkRuns.find((r) => String(r.id) === p.check_run_id);
        if (!run) return send(res, 404, { message: 'Not Found' });
        if (b.output) {
          run.output.title = b.output.title ?? run.output.title;
          run.output.summary = b.output.summary ?? run.output.summary;
          // GitHub appends the annotations of each update to the run's.
          run.annotations.push(...(b.output.annotations ?? []));
          run.output.annotations_count = run.annotations.length;
        }
        if (b.conclusion) run.conclusion = b.conclusion;
        if (b.status) run.status = b.status;
        if (b.completed_at) run.completed_at = b.completed_at;
        if (b.details_url) run.details_url = b.details_url;
        run.requests += 1;
        const { annotations: _a, requests: _r, ...visible } = run;
        return send(res, 200, visible);
      }
      case 'checks/list-for-ref': {
        // The ref is a commit SHA here (what alloc-balance asks for); filter=latest keeps the newest run per name.
        let runs = state.checkRuns.filter((r) => r.head_sha === p.ref);
        if (query.get('check_name')) runs = runs.filter((r) => r.name === query.get('check_name'));
        if (query.get('status')) runs = runs.filter((r) => r.status === query.get('status'));
        if ((query.get('filter') ?? 'latest') === 'latest') runs = runs.filter((r) => !runs.some((o) => o.name === r.name && o.id > r.id));
        const perPage = Math.min(100, Math.max(1, Number(query.get('per_page') ?? 30)));
        const page = Math.max(1, Number(query.get('page') ?? 1));
        const visible = [...runs]
          .sort((x, y) => y.id - x.id)
          .slice((page - 1) * perPage, page * perPage)
          .map(({ annotations: _a, requests: _r, ...v }) => v);
        return send(res, 200, { total_count: runs.length, check_runs: visible });
      }
      case 'pulls/get': {
        const pull = state.pulls.get(key(p.owner, p.repo, p.pull_number));
        return pull ? send(res, 200, pull) : send(res, 404, { message: 'Not Found' });
      }
      case 'issues/list-events':
        return paginate(res, path, query, state.issueEvents.get(key(p.owner, p.repo, p.issue_number)) ?? []);
      default:
        violations.push(`${method} ${path}: ${operationId} is a real GitHub operation, but this test server does not serve it`);
        return send(res, 404, { message: 'Not Found' });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      violations.push(`${req.method} ${req.url}: server error ${(error as Error).stack ?? String(error)}`);
      if (!res.headersSent) send(res, 500, { message: 'test server error' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    state,
    requests,
    violations,
    inject(operationId, ...responses) {
      injected.set(operationId, [...(injected.get(operationId) ?? []), ...responses]);
    },
    calls(operationId) {
      return requests.filter((r) => r.operationId === operationId);
    },
    addComments(owner, repo, issue, bodies, user = 'octocat') {
      const k = key(owner, repo, issue);
      const made = bodies.map((b) => comment(owner, repo, issue, b, { login: user, id: 583231, type: 'User', site_admin: false }));
      state.comments.set(k, [...(state.comments.get(k) ?? []), ...made]);
      return made;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      });
    },
  };
}

/**
 * A fresh server for every test of the calling file, closed after it; each test ends by asserting
 * that no request broke GitHub's OpenAPI description. The returned object stands for the current one.
 */
export function useGitHubServer(): GitHubServer {
  let current: GitHubServer | null = null;
  beforeEach(async () => {
    current = await startGitHubServer();
  });
  afterEach(async () => {
    const server = current!;
    current = null;
    expect(server.violations).toEqual([]);
    await server.close();
  });
  return new Proxy({} as GitHubServer, {
    get(_, key) {
      if (!current) throw new Error('the GitHub test server exists only inside a test');
      const value = (current as unknown as Record<PropertyKey, unknown>)[key];
      return typeof value === 'function' ? value.bind(current) : value;
    },
  });
}
