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
 */
#include <linux/hashtable.h>
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

struct object {
	struct hlist_node node;
	unsigned long addr;
	unsigned long site;
	unsigned long fn;
	unsigned int bytes;
	enum kind kind;
};

struct site {
	unsigned long site;
	unsigned long fn;
	enum kind kind;
	unsigned long allocs;
	unsigned long frees;
};

static DEFINE_HASHTABLE(objects, 14);
static DEFINE_SPINLOCK(lock);
static struct object *pool;
static struct object *free_list;
static struct site sites[MAX_SITES];
static int nr_sites;
static atomic_t held = ATOMIC_INIT(0);
static unsigned long overflow;

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

static struct site *site_of(unsigned long site, unsigned long fn, enum kind kind)
{
	int i;

	for (i = 0; i < nr_sites; i++)
		if (sites[i].site == site && sites[i].fn == fn && sites[i].kind == kind)
			return &sites[i];
	if (nr_sites == MAX_SITES)
		return NULL;
	sites[nr_sites].site = site;
	sites[nr_sites].fn = fn;
	sites[nr_sites].kind = kind;
	return &sites[nr_sites++];
}

static void remember(unsigned long call_site, const void *ptr, size_t bytes, enum kind kind)
{
	unsigned long entries[STACK_DEPTH];
	unsigned long flags, site = 0, api;
	unsigned int n, i;
	struct object *o;
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
	spin_lock_irqsave(&lock, flags);
	s = site_of(site, api, kind);
	o = free_list;
	if (!o || !s) {
		overflow++;
	} else {
		free_list = (struct object *)o->node.next;
		o->addr = (unsigned long)ptr;
		o->site = site;
		o->fn = api;
		o->kind = kind;
		o->bytes = bytes;
		hash_add(objects, &o->node, o->addr);
		s->allocs++;
		atomic_inc(&held);
	}
	spin_unlock_irqrestore(&lock, flags);
}

static void forget(unsigned long addr)
{
	unsigned long flags;
	struct object *o;
	struct hlist_node *tmp;

	if (!addr || !atomic_read(&held))
		return;
	spin_lock_irqsave(&lock, flags);
	hash_for_each_possible_safe(objects, o, tmp, node, addr) {
		if (o->addr != addr)
			continue;
		hash_del(&o->node);
		{
			struct site *s = site_of(o->site, o->fn, o->kind);

			if (s)
				s->frees++;
		}
		o->node.next = (struct hlist_node *)free_list;
		free_list = o;
		atomic_dec(&held);
		break;
	}
	spin_unlock_irqrestore(&lock, flags);
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
	int i, bkt;

	spin_lock_irqsave(&lock, flags);
	seq_printf(m, "overflow %lu\n", overflow);
	for (i = 0; i < nr_sites; i++)
		seq_printf(m, "site %lx %s allocs %lu frees %lu %s\n", sites[i].site, sites[i].kind == CACHE ? "cache" : "kmalloc",
			   sites[i].allocs, sites[i].frees, fn_name(name, sites[i].fn, sites[i].kind));
	hash_for_each(objects, bkt, o, node)
		seq_printf(m, "object %lx %lx %u %s\n", o->addr, o->site, o->bytes, fn_name(name, o->fn, o->kind));
	spin_unlock_irqrestore(&lock, flags);
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
	pool = vzalloc(array_size(max_objects, sizeof(*pool)));
	if (!pool)
		return -ENOMEM;
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
	vfree(pool);
}

module_init(apiwatch_init);
module_exit(apiwatch_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("alloc-balance: slab objects kernel APIs allocate for a module, by stack");
