// The Actions cache service on 127.0.0.1 for tests, as @actions/cache speaks to it on
// github.com (cache service v2, ACTIONS_CACHE_SERVICE_V2): the twirp JSON routes
// CreateCacheEntry / FinalizeCacheEntryUpload / GetCacheEntryDownloadURL under
// ACTIONS_RESULTS_URL, an Azure-Blob-shaped upload (Put Blob, or Put Block + Put Block List for
// archives over 128 MiB) at the signed upload URL, a plain GET at the signed download URL.
// Entries are files in `dir`. A request outside these routes is answered 404 and recorded.
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll } from 'vitest';

const TWIRP = '/twirp/github.actions.results.api.v1.CacheService/';

export interface CacheEntry {
  key: string;
  version: string;
  finalized: boolean;
  sizeBytes: number;
}

export interface CacheServer {
  url: string;
  /** Environment under which @actions/cache uses this server. */
  env: Record<string, string>;
  entries: CacheEntry[];
  /** `METHOD path` of every request, in order. */
  requests: string[];
  /** Requests no route answered. */
  unknown: string[];
  close(): Promise<void>;
}

export async function startCacheServer(dir: string, token = 'cache-test-token'): Promise<CacheServer> {
  mkdirSync(dir, { recursive: true });
  const entries: CacheEntry[] = [];
  const requests: string[] = [];
  const unknown: string[] = [];
  let base = '';
  const blobFile = (id: number) => join(dir, `entry-${id}.bin`);
  const blockFile = (id: number, block: string) => join(dir, `entry-${id}.block-${Buffer.from(block, 'base64').toString('hex')}`);

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };

  const twirp = async (method: string, req: IncomingMessage, res: ServerResponse) => {
    if (req.headers.authorization !== `Bearer ${token}`) return json(res, 401, { code: 'unauthenticated', msg: 'bad token' });
    const body = JSON.parse((await readBody(req)).toString() || '{}') as Record<string, any>;
    const find = (key: string, version: string) => entries.findIndex((e) => e.key === key && e.version === version);
    if (method === 'CreateCacheEntry') {
      if (find(body.key, body.version) >= 0) return json(res, 409, { code: 'already_exists', msg: 'cache entry already exists' });
      entries.push({ key: body.key, version: body.version, finalized: false, sizeBytes: 0 });
      return json(res, 200, { ok: true, signed_upload_url: `${base}/devstoreaccount1/cache/entry-${entries.length - 1}?sig=upload` });
    }
    if (method === 'FinalizeCacheEntryUpload') {
      const i = find(body.key, body.version);
      if (i < 0 || !existsSync(blobFile(i))) return json(res, 200, { ok: false, message: 'no upload for this entry' });
      entries[i].finalized = true;
      entries[i].sizeBytes = Number(body.size_bytes);
      return json(res, 200, { ok: true, entry_id: String(i + 1) });
    }
    if (method === 'GetCacheEntryDownloadURL') {
      const keys: string[] = [body.key, ...(body.restore_keys ?? [])];
      for (const key of keys) {
        const i = entries.findIndex((e) => e.finalized && e.version === body.version && (e.key === key || (key !== body.key && e.key.startsWith(key))));
        if (i >= 0)
          return json(res, 200, { ok: true, signed_download_url: `${base}/devstoreaccount1/cache/entry-${i}?sig=download`, matched_key: entries[i].key });
      }
      return json(res, 200, { ok: false });
    }
    return null;
  };

  const blob = async (id: number, url: URL, req: IncomingMessage, res: ServerResponse) => {
    const comp = url.searchParams.get('comp');
    const azureHeaders = { 'x-ms-request-id': `req-${requests.length}`, 'x-ms-version': '2025-01-05', etag: `"${Date.now()}"` };
    if (req.method === 'PUT' && !comp) {
      if (req.headers['x-ms-blob-type'] !== 'BlockBlob') return false;
      await pipeline(req, createWriteStream(blobFile(id)));
      res.writeHead(201, azureHeaders).end();
      return true;
    }
    if (req.method === 'PUT' && comp === 'block') {
      await pipeline(req, createWriteStream(blockFile(id, url.searchParams.get('blockid') ?? '')));
      res.writeHead(201, azureHeaders).end();
      return true;
    }
    if (req.method === 'PUT' && comp === 'blocklist') {
      const xml = (await readBody(req)).toString();
      const ids = [...xml.matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]+)</g)].map((m) => m[1]);
      writeFileSync(blobFile(id), '');
      for (const block of ids) {
        writeFileSync(blobFile(id), readFileSync(blockFile(id, block)), { flag: 'a' });
        rmSync(blockFile(id, block));
      }
      res.writeHead(201, azureHeaders).end();
      return true;
    }
    if (req.method === 'GET' && !comp && entries[id]?.finalized) {
      const size = statSync(blobFile(id)).size;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
      const file = createReadStream(blobFile(id));
      let sent = 0;
      file.on('data', (chunk) => {
        sent += chunk.length;
      });
      await pipeline(file, res).catch((e: NodeJS.ErrnoException) => {
        // The client may hang up once the whole file is on its way, before the stream has ended here;
        // whether what it got is whole, the tests check on the restored files.
        if (!(e.code === 'ERR_STREAM_PREMATURE_CLOSE' && sent === size)) throw e;
      });
      return true;
    }
    return false;
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    const line = `${req.method} ${url.pathname}${url.searchParams.get('comp') ? `?comp=${url.searchParams.get('comp')}` : ''}`;
    requests.push(line);
    const handled = async (): Promise<boolean> => {
      if (req.method === 'POST' && url.pathname.startsWith(TWIRP)) return (await twirp(url.pathname.slice(TWIRP.length), req, res)) !== null;
      const m = /^\/devstoreaccount1\/cache\/entry-(\d+)$/.exec(url.pathname);
      return m ? blob(Number(m[1]), url, req, res) : false;
    };
    handled().then(
      (ok) => {
        if (ok) return;
        unknown.push(line);
        if (!res.headersSent) json(res, 404, { code: 'not_found', msg: `no route ${line}` });
      },
      (error: Error) => {
        unknown.push(`${line}: ${error.message}`);
        if (!res.headersSent) json(res, 500, { code: 'internal', msg: error.message });
      },
    );
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    env: { ACTIONS_CACHE_SERVICE_V2: 'true', ACTIONS_RESULTS_URL: `${base}/`, ACTIONS_RUNTIME_TOKEN: token },
    entries,
    requests,
    unknown,
    close: () => new Promise((resolveClose) => server.close(() => resolveClose())),
  };
}

/**
 * The cache service for the tests of one file: started before them with a runner's folders under
 * `work` and the environment @actions/cache reads set (ACTIONS_CACHE_URL unset: the v2 service
 * only); stopped after them, the environment as it was. `server()` is the running service.
 */
export function useCacheService(work: string): { server: () => CacheServer } {
  let server: CacheServer | undefined;
  const before: Record<string, string | undefined> = {};
  beforeAll(async () => {
    server = await startCacheServer(join(work, 'service'));
    const env = { ...server.env, RUNNER_TEMP: join(work, 'runner-temp'), GITHUB_WORKSPACE: join(work, 'workspace'), ACTIONS_CACHE_URL: undefined };
    mkdirSync(env.RUNNER_TEMP, { recursive: true });
    mkdirSync(env.GITHUB_WORKSPACE, { recursive: true });
    for (const [k, v] of Object.entries(env)) {
      before[k] = process.env[k];
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  afterAll(async () => {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await server?.close();
  });
  return {
    server: () => {
      if (!server) throw new Error('the cache service is started before the tests, not while they are collected');
      return server;
    },
  };
}
