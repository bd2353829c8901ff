// An action step with `target: host` on the emulated self-hosted runner: this machine cannot load
// modules, so the runner's kernel is a lab VM's. The step's main and post entry points run INSIDE
// the VM, against the kernel it runs, as root, with the host's files shared (the run's folder
// read-write): the action builds against that kernel's headers and loads the module into it, as on
// a root runner. The VM has no network, so its GitHub API (127.0.0.1 in the guest) is a relay
// through files in the shared folder to the GitHub server in this process.
// One VM per step: the post step runs in the same VM right after the main step, not at the job's
// end (the only difference to the runner's order; the steps between do not touch what it undoes).
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { defaultLabDir, findLabKernel, type LabKernel, type LabManifestEntry, readManifest } from '../../../src/lab/lab-kernel.js';
import { compareReleases } from '../../../src/lab/kernel-spec.js';
import { runInGuest } from '../../../src/lab/run-in-guest.js';
import { installPrefix } from '../../../src/sandbox/system-view.js';

const RELAY_PORT = 18_080;

/**
 * The lab kernel that stands for a self-hosted runner's: one whose headers are installed where a
 * runner has them (/lib/modules/<release>/build), as `target: host` builds against them. Throws
 * when the lab has none.
 */
export function runnerKernel(): LabManifestEntry {
  const releases = Object.keys(readManifest(defaultLabDir()).kernels)
    .filter((r) => existsSync(`/lib/modules/${r}/build`))
    .sort(compareReleases);
  if (releases.length === 0) throw new Error(`no lab kernel has its headers in /lib/modules/<release>/build (lab ${defaultLabDir()})`);
  return findLabKernel(releases[releases.length - 1]);
}

/** The guest's side of the relay: an HTTP server whose requests become files, answered by files. */
const GUEST_RELAY = `import { createServer } from 'node:http';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
const [dir, port] = process.argv.slice(2);
let n = 0;
createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const id = String(n++).padStart(5, '0');
  writeFileSync(dir + '/req-' + id + '.tmp', JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }));
  renameSync(dir + '/req-' + id + '.tmp', dir + '/req-' + id + '.json');
  const file = dir + '/res-' + id + '.json';
  while (!existsSync(file)) await new Promise((r) => setTimeout(r, 20));
  const r = JSON.parse(readFileSync(file, 'utf8'));
  res.writeHead(r.status, r.headers);
  res.end(r.body);
}).listen(Number(port), '127.0.0.1', () => writeFileSync(dir + '/listening', ''));
`;

/** Answers the guest's requests (files in `dir`) from `apiUrl` until stopped. */
function serveRelay(dir: string, apiUrl: string): () => Promise<void> {
  const handled = new Set<string>();
  const pending: Promise<void>[] = [];
  const answer = async (name: string) => {
    const q = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { method: string; url: string; headers: Record<string, string>; body: string };
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(q.headers)) if (!['host', 'content-length', 'connection'].includes(k)) headers[k] = v;
    const r = await fetch(`${apiUrl}${q.url}`, { method: q.method, headers, body: q.body === '' ? undefined : q.body });
    const back: Record<string, string> = {};
    r.headers.forEach((v, k) => {
      if (!['content-encoding', 'transfer-encoding', 'content-length', 'connection', 'keep-alive'].includes(k)) back[k] = v;
    });
    const id = name.slice(4, -5);
    writeFileSync(join(dir, `res-${id}.tmp`), JSON.stringify({ status: r.status, headers: back, body: await r.text() }));
    renameSync(join(dir, `res-${id}.tmp`), join(dir, `res-${id}.json`));
  };
  const timer = setInterval(() => {
    for (const name of readdirSync(dir)) {
      if (!/^req-\d+\.json$/.test(name) || handled.has(name)) continue;
      handled.add(name);
      pending.push(answer(name));
    }
  }, 25);
  return async () => {
    clearInterval(timer);
    await Promise.all(pending);
  };
}

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface GuestActionCall {
  kernel: LabKernel;
  node: string;
  bundle: { index: string; post: string };
  /** The run's folder: shared read-write with the VM; the workspace and the runner's files are in it. */
  shared: string;
  /** A folder of its own for this step, inside `shared`. */
  dir: string;
  workspace: string;
  /** Host folders the VM shows read-only besides the system and `shared` (the repository the workspace fetches from). */
  shares: string[];
  env: Record<string, string>;
  stateFile: string;
  apiUrl: string;
  timeoutSeconds: number;
}

export interface GuestActionResult {
  mainCode: number | null;
  postCode: number | null;
  log: string;
  postLog: string;
  vm: { exitCode: number | null; timedOut: boolean; kernelPanic: boolean; console: string; shared: string[]; seconds: number };
}

export async function runActionInGuest(c: GuestActionCall): Promise<GuestActionResult> {
  // The VM sees node's install folder, not the links that lead to it.
  c = { ...c, node: realpathSync(c.node) };
  const relay = join(c.dir, 'relay');
  mkdirSync(relay, { recursive: true });
  writeFileSync(join(c.dir, 'relay.mjs'), GUEST_RELAY);
  // The DPDK build's cache on the guest's own disk: on the shared folder that holds the runner's
  // home, files carry the host's clock, which runs ahead of the guest's, and meson refuses to
  // configure over what it takes for clock skew.
  const env = { ...c.env, GITHUB_API_URL: `http://127.0.0.1:${RELAY_PORT}`, ALLOC_BALANCE_CACHE: '/var/tmp/alloc-balance-cache' };
  const envLine = `env -i ${Object.entries(env)
    .map(([k, v]) => sh(`${k}=${v}`))
    .join(' ')}`;
  // The runner hands the main step's saved state to the post step as STATE_<name> variables.
  writeFileSync(
    join(c.dir, 'post.mjs'),
    `import { readFileSync } from 'node:fs'; import { spawnSync } from 'node:child_process';
const env = { ...process.env };
for (const m of readFileSync(${JSON.stringify(c.stateFile)}, 'utf8').matchAll(/^([\\w-]+)<<(\\S+)\\n([\\s\\S]*?)\\n\\2$/gm)) env['STATE_' + m[1]] = m[3];
process.exitCode = spawnSync(process.execPath, [${JSON.stringify(c.bundle.post)}], { env, stdio: 'inherit' }).status ?? 1;
`,
  );
  const script = join(c.dir, 'step.sh');
  writeFileSync(
    script,
    `ip link set lo up
${sh(c.node)} ${sh(join(c.dir, 'relay.mjs'))} ${sh(relay)} ${RELAY_PORT} > ${sh(join(c.dir, 'relay.log'))} 2>&1 &
relay=$!
i=0; while [ ! -e ${sh(join(relay, 'listening'))} ]; do i=$((i + 1)); [ $i -gt 600 ] && echo 'the GitHub relay did not start' > ${sh(join(c.dir, 'main.log'))} && exit 0; sleep 0.1; done
cd ${sh(c.workspace)}
${envLine} ${sh(c.node)} ${sh(c.bundle.index)} > ${sh(join(c.dir, 'main.log'))} 2>&1; echo $? > ${sh(join(c.dir, 'main.code'))}
${envLine} ${sh(c.node)} ${sh(join(c.dir, 'post.mjs'))} > ${sh(join(c.dir, 'post.log'))} 2>&1; echo $? > ${sh(join(c.dir, 'post.code'))}
kill $relay
exit 0
`,
  );
  const stop = serveRelay(relay, c.apiUrl);
  const start = Date.now();
  let vm: Awaited<ReturnType<typeof runInGuest>>;
  try {
    // The tool (node and the bundle) is shown to the VM as the runner's own files are.
    const shares = [dirname(c.bundle.index), installPrefix(c.node), ...c.shares];
    vm = await runInGuest(
      c.kernel,
      { argv: ['/bin/sh', script], cwd: c.workspace, outDir: c.shared, shares, timeoutSeconds: c.timeoutSeconds },
      { bootTimeoutSeconds: 180 },
    );
  } finally {
    await stop();
  }
  const read = (f: string) => (existsSync(join(c.dir, f)) ? readFileSync(join(c.dir, f), 'utf8') : '');
  const code = (f: string) => (read(f).trim() === '' ? null : Number(read(f).trim()));
  return {
    mainCode: code('main.code'),
    postCode: code('post.code'),
    log: read('main.log') + (read('relay.log') ? `\n[GitHub relay]\n${read('relay.log')}` : ''),
    postLog: read('post.log'),
    vm: {
      exitCode: vm.exitCode,
      timedOut: vm.timedOut,
      kernelPanic: vm.kernelPanic,
      console: vm.console.slice(-3000),
      shared: vm.shared,
      seconds: (Date.now() - start) / 1000,
    },
  };
}
