// SPDX-License-Identifier: GPL-2.0
/*
 * ab_apiwatch: the slab objects kernel APIs allocate for a module (sk_buffs, devices, kobjects,
 * names, devres), on kernels without kmemleak or allocation profiling. Probes on the kmem
 * tracepoints; an allocation whose call site is not in the module `target` but whose stack holds
 * a frame of the module's code is remembered by address, with that frame (the module's own call
 * site) and the kernel function the module called there (the frame just inside it); a kfree, kmem_cache_free or kvfree_call_rcu of
 * the address forgets it. The allocations the module makes itself are left to the trace. With
 * `own` set it is the other way round: only the module's own allocations are remembered (their
 * allocator named by the event: kmalloc or kmem_cache_alloc), for the ones a named track leaves out.
 *
 * Objects are kept in the module, not written to the trace: a driver that makes an sk_buff per
 * packet would fill any trace buffer. /proc/ab_apiwatch prints, after an RCU barrier (so that
 * kfree_rcu'd objects are gone), the counts per site and every object still held:
 *   overflow N                       objects not remembered: the table was full
 *   site ADDR KIND allocs A frees F FUNC   per module call site and kernel function it called
 *                                          (KIND: kmalloc or cache, the event that allocated)
 *   object ADDR SITE BYTES FUNC            an object still allocated
 *
 * The probes run on every slab allocation and free in the guest, so the free path is kept cheap:
 * nothing is locked while the helper holds no object (an atomic count), the objects are hashed by
 * address into buckets that each have their own lock, and a free whose bucket is empty returns
 * without taking it. The per-site counters are atomic and the site table is read without a lock
 * (entries are only appended); a lock is taken to add a site and to take or give back an object
 * of the pool, only for the module's objects.
 */
#include <linux/atomic.h>
#include <linux/hash.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/stacktrace.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <linux/version.h>
#include <linux/vmalloc.h>

static char *target = "";
module_param(target, charp, 0444);
MODULE_PARM_DESC(target, "name of the module whose kernel-API memory is watched");
static char *skip = "";
module_param(skip, charp, 0444);
MODULE_PARM_DESC(skip, "call-site ranges left to the trace, start-end in hex, comma-separated (the helpers it attributes by stack)");
static bool own;
module_param(own, bool, 0444);
MODULE_PARM_DESC(own, "also remember allocations whose call site is in the target (the allocators a named track leaves out)");
static int max_objects = 65536;
module_param(max_objects, int, 0444);
MODULE_PARM_DESC(max_objects, "objects remembered at most; more are counted as overflow");

#define MAX_SITES 512
#define STACK_DEPTH 32

enum kind { KMALLOC, CACHE };

struct site {
	unsigned long site;
	unsigned long fn;
	enum kind kind;
	atomic_long_t allocs;
	atomic_long_t frees;
};

struct object {
	struct hlist_node node;
	unsigned long addr;
	struct site *site;
	unsigned int bytes;
};

#define BUCKET_BITS 14

struct bucket {
	spinlock_t lock;
	struct hlist_head head;
};

static struct bucket *buckets;
static struct object *pool;
/* The objects not in use, linked by node.next; under pool_lock. */
static struct object *free_list;
static DEFINE_SPINLOCK(pool_lock);
/* Appended under site_lock, an entry filled before nr_sites counts it; read without a lock. */
static struct site sites[MAX_SITES];
static int nr_sites;
static DEFINE_SPINLOCK(site_lock);
static atomic_t held = ATOMIC_INIT(0);
static atomic_long_t overflow = ATOMIC_LONG_INIT(0);

static struct bucket *bucket_of(unsigned long addr)
{
	return &buckets[hash_long(addr, BUCKET_BITS)];
}

/* The target's text: [0] core, [1] init (while its init runs). Read without the lock. */
static unsigned long text_start[2], text_end[2];

#define MAX_SKIP 16
static unsigned long skip_start[MAX_SKIP], skip_end[MAX_SKIP];
static int nr_skip;

static bool skipped(unsigned long ip)
{
	int i;

	for (i = 0; i < nr_skip; i++)
		if (ip >= skip_start[i] && ip < skip_end[i])
			return true;
	return false;
}

static int parse_skip(void)
{
	char *p = skip;

	while (*p) {
		unsigned long a, b;
		int n = 0;

		if (nr_skip == MAX_SKIP || sscanf(p, "%lx-%lx%n", &a, &b, &n) != 2 || n == 0)
			return -EINVAL;
		skip_start[nr_skip] = a;
		skip_end[nr_skip++] = b;
		p += n;
		if (*p == ',')
			p++;
		else if (*p)
			return -EINVAL;
	}
	return 0;
}

static bool in_target(unsigned long ip)
{
	return (ip >= READ_ONCE(text_start[0]) && ip < READ_ONCE(text_end[0])) ||
	       (ip >= READ_ONCE(text_start[1]) && ip < READ_ONCE(text_end[1]));
}

static struct site *find_site(int from, int to, unsigned long site, unsigned long fn, enum kind kind)
{
	int i;

	for (i = from; i < to; i++)
		if (sites[i].site == site && sites[i].fn == fn && sites[i].kind == kind)
			return &sites[i];
	return NULL;
}

/* The site's entry, added if new; NULL when the table is full. */
static struct site *site_of(unsigned long site, unsigned long fn, enum kind kind)
{
	int n = smp_load_acquire(&nr_sites);
	struct site *s = find_site(0, n, site, fn, kind);
	unsigned long flags;

	if (s)
		return s;
	spin_lock_irqsave(&site_lock, flags);
	/* Added by another CPU meanwhile? Only entries from n on can be new. */
	s = find_site(n, nr_sites, site, fn, kind);
	if (!s && nr_sites < MAX_SITES) {
		s = &sites[nr_sites];
		s->site = site;
		s->fn = fn;
		s->kind = kind;
		smp_store_release(&nr_sites, nr_sites + 1);
	}
	spin_unlock_irqrestore(&site_lock, flags);
	return s;
}

static void remember(unsigned long call_site, const void *ptr, size_t bytes, enum kind kind)
{
	unsigned long entries[STACK_DEPTH];
	unsigned long flags, site = 0, api;
	unsigned int n, i;
	struct object *o = NULL;
	struct bucket *b;
	struct site *s;

	if (!ptr || !READ_ONCE(text_end[0]))
		return;
	if (in_target(call_site)) {
		/* The module's own allocation: left to the trace, unless `own` (no stack needed: the allocator is the event's). */
		if (!own)
			return;
		site = call_site;
		api = 0;
	} else {
		if (own || skipped(call_site))
			return;
		n = stack_trace_save(entries, STACK_DEPTH, 0);
		for (i = 0; i < n; i++) {
			if (in_target(entries[i])) {
				site = entries[i];
				break;
			}
		}
		if (!site)
			return;
		/* The kernel function the module called: the frame just inside its call site. */
		api = i > 0 ? entries[i - 1] : call_site;
	}
	s = site_of(site, api, kind);
	if (s) {
		spin_lock_irqsave(&pool_lock, flags);
		o = free_list;
		if (o)
			free_list = (struct object *)o->node.next;
		spin_unlock_irqrestore(&pool_lock, flags);
	}
	if (!o) {
		atomic_long_inc(&overflow);
		return;
	}
	o->addr = (unsigned long)ptr;
	o->site = s;
	o->bytes = bytes;
	b = bucket_of(o->addr);
	spin_lock_irqsave(&b->lock, flags);
	hlist_add_head(&o->node, &b->head);
	atomic_long_inc(&s->allocs);
	atomic_inc(&held);
	spin_unlock_irqrestore(&b->lock, flags);
}

static void forget(unsigned long addr)
{
	unsigned long flags;
	struct object *o, *found = NULL;
	struct bucket *b;

	/* Without a lock: nothing held, or nothing in the address's bucket (most frees in the guest). */
	if (!addr || !atomic_read(&held))
		return;
	b = bucket_of(addr);
	if (!READ_ONCE(b->head.first))
		return;
	spin_lock_irqsave(&b->lock, flags);
	hlist_for_each_entry(o, &b->head, node) {
		if (o->addr != addr)
			continue;
		hlist_del(&o->node);
		atomic_long_inc(&o->site->frees);
		atomic_dec(&held);
		found = o;
		break;
	}
	spin_unlock_irqrestore(&b->lock, flags);
	if (!found)
		return;
	spin_lock_irqsave(&pool_lock, flags);
	found->node.next = (struct hlist_node *)free_list;
	free_list = found;
	spin_unlock_irqrestore(&pool_lock, flags);
}

/*
 * Every kmem allocation event starts (call_site, ptr, ...) and every free event (call_site, ptr,
 * ...) on 5.10 to 6.12; what follows differs, and bytes_alloc is read only where it is known.
 */
static void on_kmalloc(void *data, unsigned long call_site, const void *ptr, size_t bytes_req, size_t bytes_alloc)
{
	remember(call_site, ptr, bytes_alloc, KMALLOC);
}

static void on_cache_alloc(void *data, unsigned long call_site, const void *ptr)
{
	remember(call_site, ptr, 0, CACHE);
}

static void on_free(void *data, unsigned long call_site, const void *ptr)
{
	forget((unsigned long)ptr);
}

/* kvfree_call_rcu(head, x): x is the rcu_head's offset in the object (to 6.2) or the object (6.3 on, and head-less). */
static int on_kvfree_rcu(struct kprobe *p, struct pt_regs *regs)
{
	unsigned long head = regs->di, x = regs->si;

	forget(x < 4096 ? head - x : x);
	return 0;
}

static struct kprobe kvfree_rcu_probe = { .symbol_name = "kvfree_call_rcu", .pre_handler = on_kvfree_rcu };
static bool kvfree_rcu_probed;

struct tp_probe {
	const char *name;
	void *fn;
	struct tracepoint *tp;
};

static struct tp_probe probes[] = {
	{ "kmalloc", on_kmalloc },
	{ "kmalloc_node", on_kmalloc },
	{ "kmem_cache_alloc", on_cache_alloc },
	{ "kmem_cache_alloc_node", on_cache_alloc },
	{ "kfree", on_free },
	{ "kmem_cache_free", on_free },
};

static void find_tracepoint(struct tracepoint *tp, void *priv)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(probes); i++)
		if (!strcmp(tp->name, probes[i].name))
			probes[i].tp = tp;
}

static int on_module(struct notifier_block *nb, unsigned long state, void *data)
{
	struct module *mod = data;

	if (strcmp(mod->name, target))
		return NOTIFY_DONE;
	if (state == MODULE_STATE_COMING) {
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
		WRITE_ONCE(text_start[1], (unsigned long)mod->mem[MOD_INIT_TEXT].base);
		WRITE_ONCE(text_end[1], text_start[1] + mod->mem[MOD_INIT_TEXT].size);
		WRITE_ONCE(text_start[0], (unsigned long)mod->mem[MOD_TEXT].base);
		WRITE_ONCE(text_end[0], text_start[0] + mod->mem[MOD_TEXT].size);
#else
		WRITE_ONCE(text_start[1], (unsigned long)mod->init_layout.base);
		WRITE_ONCE(text_end[1], text_start[1] + mod->init_layout.text_size);
		WRITE_ONCE(text_start[0], (unsigned long)mod->core_layout.base);
		WRITE_ONCE(text_end[0], text_start[0] + mod->core_layout.text_size);
#endif
	} else if (state == MODULE_STATE_LIVE) {
		/* The init text is freed now and may be reused. */
		WRITE_ONCE(text_end[1], 0);
		WRITE_ONCE(text_start[1], 0);
	}
	return NOTIFY_DONE;
}

static struct notifier_block module_nb = { .notifier_call = on_module };

/* The function the module called; for its own allocations (fn 0), the allocator the event names. */
static const char *fn_name(char *buf, unsigned long fn, enum kind kind)
{
	if (!fn)
		return kind == CACHE ? "kmem_cache_alloc" : "kmalloc";
	snprintf(buf, KSYM_SYMBOL_LEN, "%ps", (void *)fn);
	return buf;
}

static int show(struct seq_file *m, void *v)
{
	char name[KSYM_SYMBOL_LEN];
	unsigned long flags;
	struct object *o;
	int i, n = smp_load_acquire(&nr_sites);

	seq_printf(m, "overflow %lu\n", (unsigned long)atomic_long_read(&overflow));
	for (i = 0; i < n; i++)
		seq_printf(m, "site %lx %s allocs %lu frees %lu %s\n", sites[i].site, sites[i].kind == CACHE ? "cache" : "kmalloc",
			   (unsigned long)atomic_long_read(&sites[i].allocs), (unsigned long)atomic_long_read(&sites[i].frees),
			   fn_name(name, sites[i].fn, sites[i].kind));
	for (i = 0; i < (1 << BUCKET_BITS); i++) {
		struct bucket *b = &buckets[i];

		if (!READ_ONCE(b->head.first))
			continue;
		spin_lock_irqsave(&b->lock, flags);
		hlist_for_each_entry(o, &b->head, node)
			seq_printf(m, "object %lx %lx %u %s\n", o->addr, o->site->site, o->bytes,
				   fn_name(name, o->site->fn, o->site->kind));
		spin_unlock_irqrestore(&b->lock, flags);
	}
	return 0;
}

static int open_report(struct inode *inode, struct file *file)
{
	/* Objects a kfree_rcu or call_rcu already gave back are freed by now. */
	rcu_barrier();
	return single_open_size(file, show, NULL, 64 * 1024 + atomic_read(&held) * 64);
}

static const struct proc_ops report_ops = {
	.proc_open = open_report,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
};

static void unregister_probes(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(probes); i++)
		if (probes[i].tp)
			tracepoint_probe_unregister(probes[i].tp, probes[i].fn, NULL);
	tracepoint_synchronize_unregister();
}

static int __init apiwatch_init(void)
{
	int i, err;

	if (!*target || max_objects < 1 || parse_skip())
		return -EINVAL;
	buckets = vmalloc(array_size(1 << BUCKET_BITS, sizeof(*buckets)));
	pool = vzalloc(array_size(max_objects, sizeof(*pool)));
	if (!buckets || !pool) {
		vfree(buckets);
		vfree(pool);
		return -ENOMEM;
	}
	for (i = 0; i < (1 << BUCKET_BITS); i++) {
		spin_lock_init(&buckets[i].lock);
		INIT_HLIST_HEAD(&buckets[i].head);
	}
	for (i = 0; i < max_objects; i++) {
		pool[i].node.next = (struct hlist_node *)free_list;
		free_list = &pool[i];
	}
	for_each_kernel_tracepoint(find_tracepoint, NULL);
	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		if (!probes[i].tp)
			continue; /* kmalloc_node and kmem_cache_alloc_node are gone from 6.2 */
		err = tracepoint_probe_register(probes[i].tp, probes[i].fn, NULL);
		if (err) {
			probes[i].tp = NULL;
			goto fail;
		}
	}
	kvfree_rcu_probed = register_kprobe(&kvfree_rcu_probe) == 0;
	err = register_module_notifier(&module_nb);
	if (err)
		goto fail_rcu;
	if (!proc_create("ab_apiwatch", 0400, NULL, &report_ops)) {
		err = -ENOMEM;
		goto fail_notifier;
	}
	return 0;
fail_notifier:
	unregister_module_notifier(&module_nb);
fail_rcu:
	if (kvfree_rcu_probed)
		unregister_kprobe(&kvfree_rcu_probe);
fail:
	unregister_probes();
	vfree(buckets);
	vfree(pool);
	return err;
}

static void __exit apiwatch_exit(void)
{
	remove_proc_entry("ab_apiwatch", NULL);
	unregister_module_notifier(&module_nb);
	if (kvfree_rcu_probed)
		unregister_kprobe(&kvfree_rcu_probe);
	unregister_probes();
	vfree(buckets);
	vfree(pool);
}

module_init(apiwatch_init);
module_exit(apiwatch_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("alloc-balance: slab objects kernel APIs allocate for a module, by stack");
