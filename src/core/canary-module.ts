// The canary module (kmod/canary/ab_canary.c): its name, the call site of its planted leak, the pair
// it leaks through and the cycles it runs. The run, the verdict and the report all name it.

export const CANARY_MODULE = 'ab_canary';
export const CANARY_SITE = 'ab_canary_open';
export const CANARY_PAIR = { alloc: 'alloc_netdev_mqs', free: 'free_netdev' };
export const CANARY_CYCLES = 2;
