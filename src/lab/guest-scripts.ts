import { createHash } from 'node:crypto';
import { shellQuote } from '../shell-quote.js';

// The shell scripts the VM runs: the initramfs's /init (fixed per kernel, written by `lab setup`)
// and, per run, the job's environment, its view of the host and its command line (read by /init
// from the control folder share).

/** Prefix of every line /init prints for the host to read on the serial console. */
export const MARKER = 'alloc-balance-guest:';
/** File in the job's outDir holding the job's exit code. */
export const EXIT_CODE_FILE = 'guest-exit-code';
/** 9p mount tags: the run's control folder, the job's outDir, and `s0`, `s1`, ... for the shared folders. */
export const CTL_TAG = 'ctl';
export const OUT_TAG = 'out';
export const SHARE_TAG_PREFIX = 's';
const NINEP_MSIZE = 262144;
/** Where the job script lies in the guest's root. */
const GUEST_JOB = '/.alloc-balance-job.sh';

/**
 * /init of the lab's initramfs. The guest sees no more of the host than the run shares: it builds
 * its root on a tmpfs from the control folder's copy of /etc, the system's links (`/bin -> usr/bin`)
 * and each shared folder mounted read-only over 9p at its own path, with a tmpfs-backed overlay on
 * it (writable in the guest, the host untouched); the job's outDir is mounted read-write. Then it
 * mounts the kernel filesystems inside, runs the job chrooted and powers off. Every failure powers
 * off too: PID 1 must never exit (the kernel would panic and the run would look like a crash).
 */
export function initScript(modules: string[]): string {
  const opts9p = `trans=virtio,version=9p2000.L,msize=${NINEP_MSIZE}`;
  return `#!/bin/sh
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
export PATH=/bin
halt_now() { sync; poweroff -f; reboot -f; echo o > /proc/sysrq-trigger; sleep 60; }
fail() { echo "${MARKER} setup-failed $*"; halt_now; }
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "${MARKER} init $(cut -d' ' -f1 /proc/uptime)"
for m in ${modules.join(' ')}; do insmod "$m" || fail "insmod $m"; done
mkdir -p /mnt/ctl /mnt/ro /mnt/rw /newroot
mount -t 9p -o ${opts9p},ro ${CTL_TAG} /mnt/ctl || fail "mount of the control folder over 9p"
. /mnt/ctl/guest.env || fail "cannot read guest.env"
R=/newroot
mount -t tmpfs -o mode=0755 tmpfs $R || fail "tmpfs root"
mount -t tmpfs -o mode=0755 tmpfs /mnt/rw || fail "tmpfs"
for l in $LINKS; do ln -s "\${l#*:}" "$R\${l%%:*}" || fail "link \${l%%:*}"; done
i=0
while [ "$i" -lt "$SHARE_COUNT" ]; do
  eval "p=\\$SHARE_$i"
  mkdir -p "/mnt/ro/$i" "/mnt/rw/u$i" "/mnt/rw/w$i" "$R$p"
  mount -t 9p -o ${opts9p},cache=loose,ro ${SHARE_TAG_PREFIX}$i "/mnt/ro/$i" || fail "mount of $p over 9p"
  mount -t overlay overlay -o "lowerdir=/mnt/ro/$i,upperdir=/mnt/rw/u$i,workdir=/mnt/rw/w$i" "$R$p" || fail "overlay over $p"
  i=$((i + 1))
done
mkdir -p $R/etc $R/tmp $R/var/tmp $R/root $R/proc $R/sys $R/dev $R/run $R/mnt
chmod 1777 $R/tmp $R/var/tmp
ln -s /run $R/var/run
cp -a /mnt/ctl/etc/. $R/etc/ || fail "copy of /etc"
cp /mnt/ctl/job.sh $R${GUEST_JOB} || fail "copy of the job"
mkdir -p "$R$OUT" && mount -t 9p -o ${opts9p} ${OUT_TAG} "$R$OUT" || fail "mount of $OUT over 9p"
# The guest's clock starts from the RTC's whole second and runs slow under emulation: set it from
# the host's (the time the host gives a file it creates on the share), rounded up, so that files the
# host writes are never in the guest's future (meson and make refuse what looks like clock skew).
: > "$R$OUT/.clock" && now=$(stat -c %Y "$R$OUT/.clock") && date -s "@$((now + 1))" > /dev/null
rm -f "$R$OUT/.clock"
mount -t proc proc $R/proc || fail "proc"
mount -t sysfs sysfs $R/sys || fail "sysfs"
mount -t devtmpfs devtmpfs $R/dev || fail "devtmpfs"
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts $R/dev/pts || fail "devpts"
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm || fail "/dev/shm"
mount -t tracefs tracefs $R/sys/kernel/tracing || fail "tracefs"
mount -t debugfs debugfs $R/sys/kernel/debug || fail "debugfs"
mount -t tmpfs -o mode=0755 tmpfs $R/run || fail "/run"
# The image's in-tree modules beside the headers' build link of /lib/modules/<release>: modprobe works.
if [ -n "$MODULES" ] && [ -d "$R$MODULES" ]; then
  rel=$(uname -r)
  mkdir -p "$R/lib/modules/$rel"
  for f in "$R$MODULES"/*; do
    [ -e "$R/lib/modules/$rel/\${f##*/}" ] || ln -s "\${f#$R}" "$R/lib/modules/$rel/\${f##*/}"
  done
fi
echo "${MARKER} $NONCE job-start $(cut -d' ' -f1 /proc/uptime)"
chroot $R /bin/sh ${GUEST_JOB} </dev/null
rc=$?
echo "$rc" > "$R$OUT/${EXIT_CODE_FILE}"
sync
echo "${MARKER} $NONCE job-exit $rc $(cut -d' ' -f1 /proc/uptime)"
halt_now
`;
}

const DEFAULT_GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Changes whenever initScript changes. */
export function initFingerprint(): string {
  return createHash('sha256')
    .update(initScript(['MODULE']))
    .digest('hex')
    .slice(0, 16);
}

/** What the guest's root is made of: links as on the host, folders shared read-only at their own path. */
export interface GuestRoot {
  links: { path: string; target: string }[];
  shares: string[];
}

/** The per-run variables /init sources. */
export function guestEnvFile(outDir: string, nonce: string, root: GuestRoot, modulesDir = ''): string {
  const lines = [`OUT=${shellQuote(outDir)}`, `NONCE=${shellQuote(nonce)}`, `MODULES=${shellQuote(modulesDir)}`];
  lines.push(`LINKS=${shellQuote(root.links.map((l) => `${l.path}:${l.target}`).join(' '))}`);
  lines.push(`SHARE_COUNT=${root.shares.length}`);
  for (const [i, p] of root.shares.entries()) lines.push(`SHARE_${i}=${shellQuote(p)}`);
  return `${lines.join('\n')}\n`;
}

/** The job, run by the host's /bin/sh inside the chroot: a clean environment, then exec. */
export function jobScript(job: { argv: string[]; cwd: string; env?: Record<string, string> }): string {
  const env: Record<string, string> = { PATH: DEFAULT_GUEST_PATH, HOME: '/root', LANG: 'C.UTF-8', ...job.env };
  const assignments = Object.entries(env).map(([k, v]) => shellQuote(`${k}=${v}`));
  return `cd ${shellQuote(job.cwd)} || exit 126\nexec env -i ${assignments.join(' ')} ${job.argv.map(shellQuote).join(' ')}\n`;
}
