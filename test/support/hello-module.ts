// Builds a hello-world module with Kbuild against a lab kernel's headers (for the VM tests).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const HELLO_SOURCE = `#include <linux/module.h>
#include <linux/init.h>
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("alloc-balance lab check");
static int __init ab_hello_init(void) { pr_warn("ab_hello: loaded\\n"); return 0; }
static void __exit ab_hello_exit(void) { pr_warn("ab_hello: unloaded\\n"); }
module_init(ab_hello_init);
module_exit(ab_hello_exit);
`;

/** Returns the path of ab_hello.ko, built in a new folder under `parent`. */
export function buildHelloModule(buildDir: string, parent: string): { dir: string; ko: string } {
  const dir = mkdtempSync(join(parent, 'hello-'));
  writeFileSync(join(dir, 'ab_hello.c'), HELLO_SOURCE);
  writeFileSync(join(dir, 'Kbuild'), 'obj-m := ab_hello.o\n');
  execFileSync('make', ['-s', '-C', buildDir, `M=${dir}`, 'modules'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return { dir, ko: join(dir, 'ab_hello.ko') };
}
