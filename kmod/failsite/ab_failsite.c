// SPDX-License-Identifier: GPL-2.0
/*
 * ab_failsite: makes one allocation of one module fail, as if memory ran out, on kernels built
 * without fault injection. Kretprobes on the allocators named in `allocators`; when the module
 * `target` is loaded (the module notifier, before its init runs), the call site `site`
 * ("function+0xOFF", the return address of the allocator call) is resolved in its symbols.
 * The `nth` call returning to that address is failed: the return handler gives the fresh
 * object back with the matching releaser and returns NULL (ERR_PTR(-ENOMEM) where the API
 * does). `hits` and `injected` count what happened; `pending` the releases still queued.
 *
 * At load of the target it also prints one symbol address per section of the target
 * ("ab_failsite: symbol NAME ADDR"): a target whose init failed is gone before its sections
 * can be read in sysfs, and its call sites are attributed from these.
 */
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/kprobes.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/version.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(5, 11, 0)
/* The accessor came with 5.11; before it the instance points at its kretprobe itself. */
#define get_kretprobe(ri) ((ri)->rp)
#endif

static char *target = "";
module_param(target, charp, 0444);
MODULE_PARM_DESC(target, "name of the module whose allocation is failed");
static char *site = "";
module_param(site, charp, 0644);
MODULE_PARM_DESC(site, "call site to fail, function+0xOFFSET (the allocator call's return address)");
static int nth = 1;
module_param(nth, int, 0644);
MODULE_PARM_DESC(nth, "which call at the site fails (1: the first after the target is loaded)");
static char *allocators = "";
module_param(allocators, charp, 0444);
MODULE_PARM_DESC(allocators, "comma-separated allocators to probe");
static int hits;
module_param(hits, int, 0644);
static int injected;
module_param(injected, int, 0644);
static int pending;
module_param(pending, int, 0444);
static char *unknown = "";
module_param(unknown, charp, 0444);
MODULE_PARM_DESC(unknown, "allocators asked for that this helper cannot fail or probe");

/* How a fresh object is given back. */
enum release_kind {
	R_KFREE,	/* kfree(ret) */
	R_KFREE_CONST,	/* kfree_const(ret) */
	R_CACHE,	/* kmem_cache_free(first argument, ret) */
	R_KVFREE,	/* kvfree(ret) */
	R_VFREE,	/* vfree(ret) */
	R_FREE_PAGES,	/* free_pages(ret, second argument) */
	R_FREE_PAGE0,	/* free_pages(ret, 0) */
	R_PAGES,	/* __free_pages(ret, second argument) */
	R_NETDEV,	/* free_netdev(ret) */
	R_IOUNMAP,	/* iounmap(ret) */
	R_PERCPU,	/* free_percpu(ret) */
	R_KTHREAD,	/* kthread_stop(ret); the call returns ERR_PTR(-ENOMEM) */
};

struct allocator {
	const char *name;
	enum release_kind kind;
};

static const struct allocator known[] = {
	{ "kmalloc_trace", R_KFREE },		{ "kmalloc_node_trace", R_KFREE },
	{ "__kmalloc", R_KFREE },		{ "__kmalloc_node", R_KFREE },
	{ "kmalloc_large", R_KFREE },		{ "kmalloc_large_node", R_KFREE },
	{ "__kmalloc_track_caller", R_KFREE },	{ "__kmalloc_node_track_caller", R_KFREE },
	{ "kstrdup", R_KFREE },			{ "kstrndup", R_KFREE },
	{ "kstrdup_const", R_KFREE_CONST },	{ "kmemdup", R_KFREE },
	{ "kmemdup_nul", R_KFREE },		{ "kasprintf", R_KFREE },
	{ "kvasprintf", R_KFREE },		{ "kmem_cache_alloc", R_CACHE },
	{ "kmem_cache_alloc_lru", R_CACHE },	{ "kmem_cache_alloc_node", R_CACHE },
	{ "kvmalloc_node", R_KVFREE },		{ "vmalloc", R_VFREE },
	{ "vzalloc", R_VFREE },			{ "__vmalloc", R_VFREE },
	{ "vmalloc_node", R_VFREE },		{ "vzalloc_node", R_VFREE },
	{ "vmalloc_user", R_VFREE },		{ "vmalloc_32", R_VFREE },
	{ "__get_free_pages", R_FREE_PAGES },	{ "get_zeroed_page", R_FREE_PAGE0 },
	{ "alloc_pages", R_PAGES },		{ "__alloc_pages", R_PAGES },
	{ "alloc_netdev_mqs", R_NETDEV },	{ "alloc_etherdev_mqs", R_NETDEV },
	{ "ioremap", R_IOUNMAP },		{ "ioremap_wc", R_IOUNMAP },
	{ "ioremap_cache", R_IOUNMAP },		{ "ioremap_uc", R_IOUNMAP },
	{ "ioremap_prot", R_IOUNMAP },		{ "__alloc_percpu", R_PERCPU },
	{ "__alloc_percpu_gfp", R_PERCPU },	{ "kthread_create_on_node", R_KTHREAD },
	/* What a module calls on 5.10: kmalloc() of a constant size, and alloc_pages(). */
	{ "kmem_cache_alloc_trace", R_KFREE },	{ "kmem_cache_alloc_node_trace", R_KFREE },
	{ "kmalloc_order_trace", R_KFREE },	{ "alloc_pages_current", R_PAGES },
	/* 6.10 on: the names allocation profiling gave the allocators. */
	{ "__kmalloc_cache_noprof", R_KFREE },	{ "__kmalloc_cache_node_noprof", R_KFREE },
	{ "__kmalloc_noprof", R_KFREE },	{ "__kmalloc_node_noprof", R_KFREE },
	{ "__kmalloc_large_noprof", R_KFREE },	{ "__kmalloc_large_node_noprof", R_KFREE },
	{ "__kmalloc_node_track_caller_noprof", R_KFREE }, { "kmemdup_noprof", R_KFREE },
	{ "kmem_cache_alloc_noprof", R_CACHE },	{ "kmem_cache_alloc_node_noprof", R_CACHE },
	{ "kmem_cache_alloc_lru_noprof", R_CACHE }, { "__kvmalloc_node_noprof", R_KVFREE },
	{ "vmalloc_noprof", R_VFREE },		{ "vzalloc_noprof", R_VFREE },
	{ "__vmalloc_noprof", R_VFREE },	{ "vmalloc_node_noprof", R_VFREE },
	{ "vzalloc_node_noprof", R_VFREE },	{ "vmalloc_user_noprof", R_VFREE },
	{ "vmalloc_32_noprof", R_VFREE },	{ "get_free_pages_noprof", R_FREE_PAGES },
	{ "get_zeroed_page_noprof", R_FREE_PAGE0 }, { "alloc_pages_noprof", R_PAGES },
};

#define MAX_PROBES ARRAY_SIZE(known)
static struct kretprobe probes[MAX_PROBES];
static enum release_kind probe_kind[MAX_PROBES];
static int nprobes;
static char unknown_buf[512];

/* Where the armed site lies in the loaded target (0: not loaded or not found), and its text. */
static unsigned long site_addr;
static unsigned long text_start[2], text_end[2];
static DEFINE_SPINLOCK(arm_lock);

/* What the entry handler keeps for the return handler. */
struct call_args {
	unsigned long first, second;
	int kind;
};

/*
 * Releases done from a work item: those that may sleep, and those the tracer probes (a kprobe
 * hit inside this return handler would be missed, and a missed event makes the trace
 * incomplete). kmem_cache_free is done at once: the target may destroy its cache right after
 * the failed call.
 */
struct deferred {
	int kind;
	void *ptr;
	unsigned long arg;
};
#define MAX_DEFERRED 32
static struct deferred queue[MAX_DEFERRED];
static int queued;
static DEFINE_SPINLOCK(queue_lock);

static void release_deferred(struct work_struct *work)
{
	unsigned long flags;

	for (;;) {
		struct deferred d;

		spin_lock_irqsave(&queue_lock, flags);
		if (queued == 0) {
			spin_unlock_irqrestore(&queue_lock, flags);
			return;
		}
		d = queue[--queued];
		spin_unlock_irqrestore(&queue_lock, flags);
		switch (d.kind) {
		case R_KFREE:
			kfree(d.ptr);
			break;
		case R_KFREE_CONST:
			kfree_const(d.ptr);
			break;
		case R_FREE_PAGES:
			free_pages((unsigned long)d.ptr, d.arg);
			break;
		case R_PAGES:
			__free_pages(d.ptr, d.arg);
			break;
		case R_PERCPU:
			free_percpu((void __percpu *)d.ptr);
			break;
		case R_KVFREE:
			kvfree(d.ptr);
			break;
		case R_VFREE:
			vfree(d.ptr);
			break;
		case R_NETDEV:
			free_netdev(d.ptr);
			break;
		case R_IOUNMAP:
			iounmap((void __iomem *)d.ptr);
			break;
		case R_KTHREAD:
			kthread_stop(d.ptr);
			break;
		}
		WRITE_ONCE(pending, READ_ONCE(pending) - 1);
	}
}
static DECLARE_WORK(release_work, release_deferred);

static bool defer_release(int kind, void *ptr, unsigned long arg)
{
	unsigned long flags;
	bool ok = false;

	spin_lock_irqsave(&queue_lock, flags);
	if (queued < MAX_DEFERRED) {
		queue[queued++] = (struct deferred){ .kind = kind, .ptr = ptr, .arg = arg };
		WRITE_ONCE(pending, READ_ONCE(pending) + 1);
		ok = true;
	}
	spin_unlock_irqrestore(&queue_lock, flags);
	if (ok)
		schedule_work(&release_work);
	return ok;
}

static int on_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	/* At the allocator's first instruction the return address is on top of the stack. */
	unsigned long ret = *(unsigned long *)kernel_stack_pointer(regs);
	struct call_args *args = (struct call_args *)ri->data;
	struct kretprobe *rp = get_kretprobe(ri);
	unsigned long armed = READ_ONCE(site_addr);

	if (armed == 0 || ret != armed || READ_ONCE(injected) > 0)
		return 1;
	if (__atomic_add_fetch(&hits, 1, __ATOMIC_RELAXED) != READ_ONCE(nth))
		return 1;
	args->first = regs->di;
	args->second = regs->si;
	args->kind = probe_kind[rp - probes];
	return 0;
}

static const char *known_name(int kind, struct kretprobe_instance *ri)
{
	struct kretprobe *rp = get_kretprobe(ri);

	return rp ? rp->kp.symbol_name : "an allocator";
}

static int on_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct call_args *args = (struct call_args *)ri->data;
	unsigned long ret = regs_return_value(regs);
	void *ptr = (void *)ret;

	if (args->kind == R_KTHREAD) {
		if (IS_ERR_OR_NULL(ptr) || !defer_release(R_KTHREAD, ptr, 0))
			return 0;
		regs_set_return_value(regs, (unsigned long)ERR_PTR(-ENOMEM));
		WRITE_ONCE(injected, 1);
		pr_info("ab_failsite: failed %s at %s\n", known_name(args->kind, ri), site);
		return 0;
	}
	if (ret == 0)
		return 0; /* it failed on its own */
	if (args->kind == R_CACHE) {
		kmem_cache_free((struct kmem_cache *)args->first, ptr);
	} else {
		unsigned long arg = args->kind == R_FREE_PAGES || args->kind == R_PAGES ? args->second : 0;

		if (!defer_release(args->kind == R_FREE_PAGE0 ? R_FREE_PAGES : args->kind, ptr, arg))
			return 0; /* no room to give it back later: let the call succeed */
	}
	regs_set_return_value(regs, 0);
	WRITE_ONCE(injected, 1);
	pr_info("ab_failsite: failed %s at %s\n", known_name(args->kind, ri), site);
	return 0;
}

static void target_text(struct module *mod)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
	text_start[0] = (unsigned long)mod->mem[MOD_TEXT].base;
	text_end[0] = text_start[0] + mod->mem[MOD_TEXT].size;
	text_start[1] = (unsigned long)mod->mem[MOD_INIT_TEXT].base;
	text_end[1] = text_start[1] + mod->mem[MOD_INIT_TEXT].size;
#else
	text_start[0] = (unsigned long)mod->core_layout.base;
	text_end[0] = text_start[0] + mod->core_layout.text_size;
	text_start[1] = (unsigned long)mod->init_layout.base;
	text_end[1] = text_start[1] + mod->init_layout.text_size;
#endif
}

static bool in_target_text(unsigned long a)
{
	return (a >= text_start[0] && a < text_end[0]) || (a >= text_start[1] && a < text_end[1]);
}

/* The target is coming: print a symbol per section, and resolve the armed site. */
static void target_coming(struct module *mod)
{
	struct mod_kallsyms *ks = rcu_dereference_raw(mod->kallsyms);
	const char *plus = strchr(site, '+');
	size_t fn_len = plus ? plus - site : strlen(site);
	unsigned long offset = 0, resolved = 0;
	unsigned short shown[32];
	int nshown = 0;
	unsigned int i;

	target_text(mod);
	if (plus && kstrtoul(plus + 1, 0, &offset))
		offset = ULONG_MAX;
	for (i = 0; i < ks->num_symtab; i++) {
		const Elf_Sym *sym = &ks->symtab[i];
		const char *name = ks->strtab + sym->st_name;
		int j;

		if (ELF_ST_TYPE(sym->st_info) != STT_FUNC || !in_target_text(sym->st_value))
			continue;
		for (j = 0; j < nshown && shown[j] != sym->st_shndx; j++)
			;
		if (j == nshown && nshown < ARRAY_SIZE(shown)) {
			shown[nshown++] = sym->st_shndx;
			pr_info("ab_failsite: symbol %s %lx\n", name, (unsigned long)sym->st_value);
		}
		if (fn_len > 0 && offset != ULONG_MAX && strlen(name) == fn_len && !strncmp(name, site, fn_len))
			resolved = sym->st_value + offset;
	}
	if (fn_len == 0)
		return;
	if (resolved == 0 || !in_target_text(resolved)) {
		pr_info("ab_failsite: site %s not found in %s\n", site, mod->name);
		return;
	}
	WRITE_ONCE(site_addr, resolved);
	pr_info("ab_failsite: armed %s call %d\n", site, nth);
}

static int on_module(struct notifier_block *nb, unsigned long state, void *data)
{
	struct module *mod = data;
	unsigned long flags;

	if (strcmp(mod->name, target) != 0)
		return NOTIFY_DONE;
	spin_lock_irqsave(&arm_lock, flags);
	if (state == MODULE_STATE_COMING)
		target_coming(mod);
	else if (state == MODULE_STATE_GOING)
		WRITE_ONCE(site_addr, 0);
	spin_unlock_irqrestore(&arm_lock, flags);
	return NOTIFY_DONE;
}

static struct notifier_block module_nb = { .notifier_call = on_module };

static int __init ab_failsite_init(void)
{
	char *list, *cursor, *name;
	int err;

	list = kstrdup(allocators, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	cursor = list;
	while ((name = strsep(&cursor, ",")) != NULL) {
		int k;

		if (*name == '\0')
			continue;
		for (k = 0; k < ARRAY_SIZE(known) && strcmp(known[k].name, name); k++)
			;
		if (k < ARRAY_SIZE(known) && nprobes < MAX_PROBES) {
			struct kretprobe *rp = &probes[nprobes];

			rp->kp.symbol_name = known[k].name;
			rp->entry_handler = on_entry;
			rp->handler = on_return;
			rp->data_size = sizeof(struct call_args);
			rp->maxactive = 256;
			if (register_kretprobe(rp) == 0) {
				probe_kind[nprobes++] = known[k].kind;
				continue;
			}
			memset(rp, 0, sizeof(*rp));
		}
		if (strlen(unknown_buf) + strlen(name) + 2 < sizeof(unknown_buf)) {
			if (unknown_buf[0])
				strcat(unknown_buf, ",");
			strcat(unknown_buf, name);
		}
	}
	kfree(list);
	unknown = unknown_buf;
	err = register_module_notifier(&module_nb);
	if (err) {
		int k;

		for (k = 0; k < nprobes; k++)
			unregister_kretprobe(&probes[k]);
	}
	return err;
}

static void __exit ab_failsite_exit(void)
{
	int k;

	unregister_module_notifier(&module_nb);
	for (k = 0; k < nprobes; k++)
		unregister_kretprobe(&probes[k]);
	flush_work(&release_work);
	release_deferred(NULL);
}

module_init(ab_failsite_init);
module_exit(ab_failsite_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("alloc-balance: fail one allocation at one call site of one module");
