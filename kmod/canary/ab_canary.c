// SPDX-License-Identifier: GPL-2.0
/*
 * ab_canary: a known leak, to prove that the detector works on a given kernel. Each open() of
 * /dev/ab_canary allocates one netdev (alloc_netdev) that close() does not free: one object
 * leaked per open, at ab_canary_open. The netdevs are kept on a list and freed when the module
 * is unloaded, so that a run on a real machine leaves no memory behind; while the module is
 * loaded they grow by one per open, which is what a leak check measures.
 */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/list.h>

struct ab_canary_priv {
	struct list_head list;
	struct net_device *dev;
};

static LIST_HEAD(held);
static DEFINE_MUTEX(held_lock);

static noinline int ab_canary_open(struct inode *inode, struct file *file)
{
	struct net_device *dev = alloc_netdev(sizeof(struct ab_canary_priv), "abc%d",
					      NET_NAME_UNKNOWN, ether_setup);
	struct ab_canary_priv *priv;

	if (!dev)
		return -ENOMEM;
	priv = netdev_priv(dev);
	priv->dev = dev;
	mutex_lock(&held_lock);
	list_add_tail(&priv->list, &held);
	mutex_unlock(&held_lock);
	return 0;
}

static int ab_canary_release(struct inode *inode, struct file *file)
{
	return 0; /* the planted leak: the netdev of this open is not freed here */
}

static const struct file_operations ab_canary_fops = {
	.owner = THIS_MODULE,
	.open = ab_canary_open,
	.release = ab_canary_release,
};

static struct miscdevice ab_canary_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "ab_canary",
	.fops = &ab_canary_fops,
};

static int __init ab_canary_init(void)
{
	return misc_register(&ab_canary_misc);
}

static void __exit ab_canary_exit(void)
{
	struct ab_canary_priv *priv, *n;

	misc_deregister(&ab_canary_misc);
	list_for_each_entry_safe(priv, n, &held, list) {
		list_del(&priv->list);
		free_netdev(priv->dev); /* priv lives inside the netdev: nothing of it is used after */
	}
}

module_init(ab_canary_init);
module_exit(ab_canary_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("alloc-balance canary: leaks one netdev per open until unloaded");
