// SPDX-License-Identifier: GPL-2.0
/*
 * leak_shapes: one misc device, /dev/leak_shapes, whose open() acquires and release() gives
 * back. Which resources it takes, and which it forgets to give back, is chosen at build time
 * (-DBASE_* / -DPR_* through the Makefile's SHAPE): the accuracy benchmark builds a base and
 * a PR of each shape and checks the verdict and the call site named.
 *
 * Kernel APIs that allocate for the module: SHAPE_SKB (an sk_buff per open), SHAPE_PDEV (a
 * platform device per open, whose probe takes devres memory), SHAPE_KOBJ (a kobject under
 * /sys/kernel per open); LEAK_SKB, LEAK_PDEV and LEAK_KOBJ forget to give each back.
 * LEAK_CACHE never destroys the slab cache it created at init. SHAPE_KVMALLOC takes 6 MiB with
 * kvmalloc (the vmalloc path) per open; LEAK_KVMALLOC keeps it.
 *
 * MINIMAL builds a module whose only allocation is a kasprintf() label per open (with
 * -DMINIMAL_NOTHING not even that): it imports no allocator but kasprintf, or none at all.
 */
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/kobject.h>
#include <linux/miscdevice.h>
#include <linux/platform_device.h>
#include <linux/skbuff.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#if defined(MINIMAL)
static unsigned int opens;

static int leak_shapes_open(struct inode *inode, struct file *file)
{
	opens++;
#if !defined(MINIMAL_NOTHING)
	file->private_data = kasprintf(GFP_KERNEL, "open-%u", opens);
	if (!file->private_data)
		return -ENOMEM;
#endif
	return 0;
}

static int leak_shapes_release(struct inode *inode, struct file *file)
{
#if !defined(MINIMAL_NOTHING) && !defined(LEAK_LABEL)
	kfree(file->private_data);
#endif
	return 0;
}
#else
struct shape_ctx {
	struct rcu_head rcu;
	char *name;
	char *label;
	void *area;
	unsigned long page;
	struct shape_item *item;
	struct shape_item *other;
	void __iomem *regs;
	int irq;
	struct sk_buff *skb;
	struct platform_device *pdev;
	struct kobject *kobj;
	void *big;
};

struct shape_item {
	u64 payload[12];
};

static struct kmem_cache *item_cache;
static void *init_buffer;
static void **init_table;
static unsigned int opens;

#ifndef SHAPE_IRQ_LINE
#define SHAPE_IRQ_LINE 5
#endif

#if defined(RING_OF_2) || defined(KEEP_ALL)
/*
 * A cache of the last buffers for reuse: each open pushes one, the oldest is freed once the ring
 * is full, and module exit frees the ring. RING_OF_2 holds 2 (a bounded cache: no leak);
 * KEEP_ALL holds 64, more than any run opens (it grows while loaded and unload frees it).
 */
#if defined(RING_OF_2)
#define RING_SLOTS 2
#else
#define RING_SLOTS 64
#endif
static void *ring[RING_SLOTS];
static unsigned int ring_next;

static noinline void shape_ring_push(void)
{
	void *buf = kmalloc(256, GFP_KERNEL);

	if (!buf)
		return;
	kfree(ring[ring_next]);
	ring[ring_next] = buf;
	ring_next = (ring_next + 1) % RING_SLOTS;
}

static void shape_ring_free(void)
{
	unsigned int i;

	for (i = 0; i < RING_SLOTS; i++)
		kfree(ring[i]);
}
#endif

static irqreturn_t __maybe_unused shape_irq(int irq, void *dev)
{
	return IRQ_NONE;
}

/* Never succeeds: the optional buffer whose failure takes the error path. */
static void __maybe_unused *optional_buffer(void)
{
	return kmalloc(SIZE_MAX / 2, GFP_KERNEL | __GFP_NOWARN);
}

static unsigned int items_taken, others_taken;

/* Each counts what it took, so the allocation is a call from here, not a tail jump. */
static noinline struct shape_item *shape_take_item(void)
{
	struct shape_item *item = kmem_cache_alloc(item_cache, GFP_KERNEL);

	if (item)
		items_taken++;
	return item;
}

static noinline struct shape_item *shape_take_other(void)
{
	struct shape_item *item = kmem_cache_alloc(item_cache, GFP_KERNEL);

	if (item)
		others_taken++;
	return item;
}

#if defined(ERROR_PATHS)
/*
 * An open() that checks every allocation and unwinds with gotos. LEAK_UNWIND_CTX forgets the
 * context when a later allocation fails, LEAK_UNWIND_HELPER the label a helper made,
 * LEAK_UNWIND_NAME the name when either of two later allocations fails. NO_NULL_CHECK does not
 * check the context it allocates: when that allocation fails, open() writes through NULL.
 * HANG_ON_FAIL waits for ever (uninterruptibly) when it fails.
 */
static unsigned int labels_made;
static __maybe_unused DECLARE_WAIT_QUEUE_HEAD(shape_never);

static noinline char *shape_make_label(void)
{
	char *label = kasprintf(GFP_KERNEL, "open-%u", opens);

	if (label)
		labels_made++;
	return label;
}

static int leak_shapes_open(struct inode *inode, struct file *file)
{
	struct shape_ctx *ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);

#if defined(HANG_ON_FAIL)
	if (!ctx)
		wait_event(shape_never, false);
#endif
#if !defined(NO_NULL_CHECK)
	if (!ctx)
		return -ENOMEM;
#endif
	opens++;
	ctx->label = shape_make_label();
	if (!ctx->label)
		goto free_ctx;
	ctx->name = kstrdup("leak_shapes", GFP_KERNEL);
	if (!ctx->name)
		goto free_label;
	ctx->item = shape_take_item();
	if (!ctx->item)
		goto free_name;
	ctx->other = shape_take_other();
	if (!ctx->other)
		goto free_item;
	file->private_data = ctx;
	return 0;
free_item:
	kmem_cache_free(item_cache, ctx->item);
free_name:
#if !defined(LEAK_UNWIND_NAME)
	kfree(ctx->name);
#endif
free_label:
#if !defined(LEAK_UNWIND_HELPER)
	kfree(ctx->label);
#endif
free_ctx:
#if !defined(LEAK_UNWIND_CTX)
	kfree(ctx);
#endif
	return -ENOMEM;
}
#else
static int leak_shapes_open(struct inode *inode, struct file *file)
{
	struct shape_ctx *ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);

	if (!ctx)
		return -ENOMEM;
	opens++;
	ctx->name = kstrdup("leak_shapes", GFP_KERNEL);
	ctx->label = kasprintf(GFP_KERNEL, "open-%u", opens);
	ctx->item = shape_take_item();
	ctx->other = shape_take_other();
#if defined(RING_OF_2) || defined(KEEP_ALL)
	shape_ring_push();
#endif
#if defined(SHAPE_VMALLOC)
	ctx->area = vzalloc(64 * 1024);
#endif
#if defined(SHAPE_PAGES)
	ctx->page = __get_free_pages(GFP_KERNEL, 1);
#endif
#if defined(SHAPE_IOREMAP)
	ctx->regs = ioremap(0xfed00000, 0x400);
#endif
#if defined(SHAPE_IRQ)
	ctx->irq = request_irq(SHAPE_IRQ_LINE, shape_irq, IRQF_SHARED, "leak_shapes", ctx) == 0 ? SHAPE_IRQ_LINE : -1;
#endif
#if defined(SHAPE_SKB)
	ctx->skb = alloc_skb(256, GFP_KERNEL);
#endif
#if defined(SHAPE_KVMALLOC)
	ctx->big = kvmalloc(6 << 20, GFP_KERNEL);
#endif
#if defined(SHAPE_PDEV)
	/* Ids from the clock: a device left registered keeps its name after the module is reloaded. */
	ctx->pdev = platform_device_register_simple("leak_shapes_pdev", (int)(jiffies & 0xffffff) * 4 + (opens & 3), NULL, 0);
	if (IS_ERR(ctx->pdev))
		ctx->pdev = NULL;
#endif
#if defined(SHAPE_KOBJ)
	{
		char name[32];

		snprintf(name, sizeof(name), "leak_shapes_%lx_%u", jiffies, opens);
		ctx->kobj = kobject_create_and_add(name, kernel_kobj);
	}
#endif
#if defined(LEAK_ON_ERROR_PATH)
	{
		void *optional = optional_buffer();

		if (!optional) {
			/* The error path forgets the label it took above. */
			ctx->label = NULL;
		}
		kfree(optional);
	}
#endif
	file->private_data = ctx;
	return 0;
}
#endif

static void shape_free_ctx(struct shape_ctx *ctx)
{
#if !defined(LEAK_HELPER)
	kfree(ctx->name);
#endif
	kfree(ctx->label);
#if defined(KFREE_RCU)
	kfree_rcu(ctx, rcu);
#else
	kfree(ctx);
#endif
}

static int leak_shapes_release(struct inode *inode, struct file *file)
{
	struct shape_ctx *ctx = file->private_data;

#if !defined(LEAK_ITEM) && !(defined(LEAK_EVERY_3RD) )
	kmem_cache_free(item_cache, ctx->item);
#elif defined(LEAK_EVERY_3RD)
	if (opens % 3 != 0)
		kmem_cache_free(item_cache, ctx->item);
#endif
#if !defined(LEAK_OTHER)
	kmem_cache_free(item_cache, ctx->other);
#endif
#if defined(SHAPE_VMALLOC) && !defined(LEAK_AREA)
	vfree(ctx->area);
#endif
#if defined(SHAPE_PAGES) && !defined(LEAK_PAGES)
	free_pages(ctx->page, 1);
#endif
#if defined(SHAPE_IOREMAP) && !defined(LEAK_IOREMAP)
	if (ctx->regs)
		iounmap(ctx->regs);
#endif
#if defined(SHAPE_IRQ) && !defined(LEAK_IRQ)
	if (ctx->irq >= 0)
		free_irq(ctx->irq, ctx);
#endif
#if defined(SHAPE_KVMALLOC) && !defined(LEAK_KVMALLOC)
	kvfree(ctx->big);
#endif
#if defined(SHAPE_SKB) && !defined(LEAK_SKB)
	kfree_skb(ctx->skb);
#endif
#if defined(SHAPE_PDEV) && !defined(LEAK_PDEV)
	if (ctx->pdev)
		platform_device_unregister(ctx->pdev);
#endif
#if defined(SHAPE_KOBJ) && !defined(LEAK_KOBJ)
	kobject_put(ctx->kobj);
#endif
#if defined(LEAK_CTX)
	return 0;
#endif
	shape_free_ctx(ctx);
	return 0;
}

#if defined(ERROR_PATHS)
/* No command is known; LEAK_IOCTL keeps a buffer per call. The workload never calls it. */
static long leak_shapes_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
#if defined(LEAK_IOCTL)
	void *scratch = kmalloc(64, GFP_KERNEL);

	if (scratch)
		memset(scratch, 0, 64);
#endif
	return -ENOTTY;
}
#endif

static const struct file_operations leak_shapes_fops = {
	.owner = THIS_MODULE,
	.open = leak_shapes_open,
	.release = leak_shapes_release,
#if defined(ERROR_PATHS)
	.unlocked_ioctl = leak_shapes_ioctl,
#endif
};

static struct miscdevice leak_shapes_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "leak_shapes",
	.fops = &leak_shapes_fops,
};

#if defined(SHAPE_PDEV)
/* Each device's probe takes devres memory, given back when the device goes away. */
static int shape_pdev_probe(struct platform_device *pdev)
{
	void *state = devm_kzalloc(&pdev->dev, 96, GFP_KERNEL);

	if (!state)
		return -ENOMEM;
	platform_set_drvdata(pdev, state);
	return 0;
}

static struct platform_driver shape_pdev_driver = {
	.probe = shape_pdev_probe,
	.driver = { .name = "leak_shapes_pdev" },
};
#endif

static int __init leak_shapes_init(void)
{
	int err;

	item_cache = kmem_cache_create("leak_shapes_item", sizeof(struct shape_item), 0, 0, NULL);
	if (!item_cache)
		return -ENOMEM;
#if defined(ERROR_PATHS)
	/* Two allocations at init; LEAK_INIT_UNWIND forgets the first when the second fails. */
	init_table = kcalloc(16, sizeof(void *), GFP_KERNEL);
	if (!init_table) {
		kmem_cache_destroy(item_cache);
		return -ENOMEM;
	}
	init_buffer = kmalloc(512, GFP_KERNEL);
	if (!init_buffer) {
#if !defined(LEAK_INIT_UNWIND)
		kfree(init_table);
#endif
		kmem_cache_destroy(item_cache);
		return -ENOMEM;
	}
#else
	init_buffer = kmalloc(512, GFP_KERNEL);
#endif
#if defined(SHAPE_PDEV)
	err = platform_driver_register(&shape_pdev_driver);
	if (err) {
		kfree(init_buffer);
		kfree(init_table);
		kmem_cache_destroy(item_cache);
		return err;
	}
#endif
	err = misc_register(&leak_shapes_dev);
	if (err) {
#if defined(SHAPE_PDEV)
		platform_driver_unregister(&shape_pdev_driver);
#endif
		kfree(init_buffer);
		kfree(init_table);
		kmem_cache_destroy(item_cache);
	}
	return err;
}

static void __exit leak_shapes_exit(void)
{
	misc_deregister(&leak_shapes_dev);
#if defined(SHAPE_PDEV)
	platform_driver_unregister(&shape_pdev_driver);
#endif
#if !defined(LEAK_AT_INIT)
	kfree(init_buffer);
#endif
#if defined(RING_OF_2) || defined(KEEP_ALL)
	shape_ring_free();
#endif
	kfree(init_table);
	/* With items leaked the cache cannot be destroyed cleanly: leave it (the leak is the point). */
#if !defined(LEAK_ITEM) && !defined(LEAK_OTHER) && !defined(LEAK_EVERY_3RD) && !defined(LEAK_CACHE)
	kmem_cache_destroy(item_cache);
#endif
}
#endif /* MINIMAL */

#if defined(MINIMAL)
static const struct file_operations leak_shapes_fops = {
	.owner = THIS_MODULE,
	.open = leak_shapes_open,
	.release = leak_shapes_release,
};

static struct miscdevice leak_shapes_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "leak_shapes",
	.fops = &leak_shapes_fops,
};

static int __init leak_shapes_init(void)
{
	return misc_register(&leak_shapes_dev);
}

static void __exit leak_shapes_exit(void)
{
	misc_deregister(&leak_shapes_dev);
}
#endif

module_init(leak_shapes_init);
module_exit(leak_shapes_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Allocation shapes for the alloc-balance accuracy benchmark");
