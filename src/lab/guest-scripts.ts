import { createHash } from 'node:crypto';

// The shell scripts the VM runs: the initramfs's /init (fixed per kernel, written by `lab setup`)
// and, per run, the job's environment and command line (read by /init from the host root share).

/** Prefix of every line /init prints for the host to read on the serial console. */
export const MARKER = 'alloc-balance-guest:';
/** Kernel command-line parameter carrying the per-run control directory (a host path). */
export const CTL_PARAM = 'alloc_balance.ctl';
/** File in the job's outDir holding the job's exit code. */
export const EXIT_CODE_FILE = 'guest-exit-code';
/** 9p mount tags. */
export const HOSTROOT_TAG = 'hostroot';
export const OUT_TAG = 'out';
export const NINEP_MSIZE = 262144;

/** Quotes a string for POSIX sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * /init of the lab's initramfs. It mounts the host root read-only over 9p, puts a tmpfs-backed
 * overlay on it (the whole tree writable in the guest, the host untouched, the host's /tmp still
 * visible), mounts the job's outDir read-write at its own path, mounts the kernel filesystems
 * inside and runs the job chrooted, then powers off. Every failure powers off too: PID 1 must
 * never exit (the kernel would panic and the run would look like a crash).
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
ctl=
for w in $(cat /proc/cmdline); do case "$w" in ${CTL_PARAM}=*) ctl="\${w#*=}";; esac; done
[ -n "$ctl" ] || fail "no ${CTL_PARAM}= on the kernel command line"
mkdir -p /mnt/host /mnt/rw /newroot
mount -t 9p -o ${opts9p},cache=loose,ro ${HOSTROOT_TAG} /mnt/host || fail "mount of the host root over 9p"
. "/mnt/host$ctl/guest.env" || fail "cannot read $ctl/guest.env"
mount -t tmpfs -o mode=0755 tmpfs /mnt/rw || fail "tmpfs"
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay overlay -o lowerdir=/mnt/host,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work /newroot || fail "overlay over the host root"
R=/newroot
mkdir -p "$R$OUT" && mount -t 9p -o ${opts9p} ${OUT_TAG} "$R$OUT" || fail "mount of $OUT over 9p"
mount -t proc proc $R/proc || fail "proc"
mount -t sysfs sysfs $R/sys || fail "sysfs"
mount -t devtmpfs devtmpfs $R/dev || fail "devtmpfs"
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts $R/dev/pts || fail "devpts"
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm || fail "/dev/shm"
mount -t tracefs tracefs $R/sys/kernel/tracing || fail "tracefs"
mount -t debugfs debugfs $R/sys/kernel/debug || fail "debugfs"
mount -t tmpfs -o mode=0755 tmpfs $R/run || fail "/run"
# The image's in-tree modules beside the host's /lib/modules/<release> (which holds the headers' build link): modprobe works.
if [ -n "$MODULES" ] && [ -d "/mnt/host$MODULES" ]; then
  rel=$(uname -r)
  mkdir -p "$R/lib/modules/$rel"
  for f in "/mnt/host$MODULES"/*; do
    [ -e "$R/lib/modules/$rel/\${f##*/}" ] || ln -s "\${f#/mnt/host}" "$R/lib/modules/$rel/\${f##*/}"
  done
fi
echo "${MARKER} $NONCE job-start $(cut -d' ' -f1 /proc/uptime)"
chroot $R /bin/sh "$ctl/job.sh" </dev/null
rc=$?
echo "$rc" > "$R$OUT/${EXIT_CODE_FILE}"
sync
echo "${MARKER} $NONCE job-exit $rc $(cut -d' ' -f1 /proc/uptime)"
halt_now
`;
}

export const DEFAULT_GUEST_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Changes whenever initScript changes. */
export function initFingerprint(): string {
  return createHash('sha256')
    .update(initScript(['MODULE']))
    .digest('hex')
    .slice(0, 16);
}

/** The per-run variables /init sources. */
export function guestEnvFile(outDir: string, nonce: string, modulesDir = ''): string {
  return `OUT=${shQuote(outDir)}\nNONCE=${shQuote(nonce)}\nMODULES=${shQuote(modulesDir)}\n`;
}

/** The job, run by the host's /bin/sh inside the chroot: a clean environment, then exec. */
export function jobScript(job: { argv: string[]; cwd: string; env?: Record<string, string> }): string {
  const env: Record<string, string> = { PATH: DEFAULT_GUEST_PATH, HOME: '/root', LANG: 'C.UTF-8', ...job.env };
  const assignments = Object.entries(env).map(([k, v]) => shQuote(`${k}=${v}`));
  return `cd ${shQuote(job.cwd)} || exit 126\nexec env -i ${assignments.join(' ')} ${job.argv.map(shQuote).join(' ')}\n`;
}
