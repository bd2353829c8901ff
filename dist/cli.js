#!/usr/bin/env node
import { createRequire as __abCreateRequire } from 'node:module';
const require = __abCreateRequire(import.meta.url);
var __defProp = Object.defineProperty;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __esm = (fn, res, err) => function __init() {
  if (err) throw err[0];
  try {
    return fn && (res = (0, fn[__getOwnPropNames(fn)[0]])(fn = 0)), res;
  } catch (e) {
    throw err = [e], e;
  }
};
var __export = (target, all) => {
  for (var name in all)
    __defProp(target, name, { get: all[name], enumerable: true });
};

// src/settings/input-error.ts
var InputError, UsageError;
var init_input_error = __esm({
  "src/settings/input-error.ts"() {
    "use strict";
    InputError = class extends Error {
      constructor(input, value, expected) {
        super(`input "${input}": ${value === "" ? "missing" : `"${value}" is not valid`}; expected ${expected}`);
        this.input = input;
        this.value = value;
        this.expected = expected;
        this.name = "InputError";
      }
      input;
      value;
      expected;
    };
    UsageError = class extends Error {
      constructor(message) {
        super(message);
        this.name = "UsageError";
      }
    };
  }
});

// src/cli/analyze.ts
var analyze_exports = {};
__export(analyze_exports, {
  analyzeCommand: () => analyzeCommand
});
async function analyzeCommand(_args) {
  throw new UsageError("analyze: not available yet");
}
var init_analyze = __esm({
  "src/cli/analyze.ts"() {
    "use strict";
    init_input_error();
  }
});

// src/cli/compare.ts
var compare_exports = {};
__export(compare_exports, {
  compareCommand: () => compareCommand
});
async function compareCommand(_args) {
  throw new UsageError("compare: not available yet");
}
var init_compare = __esm({
  "src/cli/compare.ts"() {
    "use strict";
    init_input_error();
  }
});

// src/cli/lab.ts
var lab_exports = {};
__export(lab_exports, {
  labCommand: () => labCommand
});
async function labCommand(_args) {
  throw new UsageError("lab: not available yet");
}
var init_lab = __esm({
  "src/cli/lab.ts"() {
    "use strict";
    init_input_error();
  }
});

// src/cli/target.ts
var target_exports = {};
__export(target_exports, {
  targetCommand: () => targetCommand
});
async function targetCommand(_args) {
  throw new UsageError("target: not available yet");
}
var init_target = __esm({
  "src/cli/target.ts"() {
    "use strict";
    init_input_error();
  }
});

// src/cli/demo.ts
var demo_exports = {};
__export(demo_exports, {
  demoCommand: () => demoCommand
});
async function demoCommand(_args) {
  throw new UsageError("demo: not available yet");
}
var init_demo = __esm({
  "src/cli/demo.ts"() {
    "use strict";
    init_input_error();
  }
});

// src/cli.ts
init_input_error();
var COMMANDS = {
  analyze: { summary: "count allocations and frees in trace files", load: async () => (await Promise.resolve().then(() => (init_analyze(), analyze_exports))).analyzeCommand },
  compare: { summary: "compare a base and a PR analysis: verdict and balance table", load: async () => (await Promise.resolve().then(() => (init_compare(), compare_exports))).compareCommand },
  lab: { summary: "lab setup: install QEMU, a kernel and its headers for the VM target", load: async () => (await Promise.resolve().then(() => (init_lab(), lab_exports))).labCommand },
  target: { summary: "target run --job FILE: the kernel-side part of a run (as root)", load: async () => (await Promise.resolve().then(() => (init_target(), target_exports))).targetCommand },
  demo: { summary: "base vs PR of a small leaky module in a VM, table printed", load: async () => (await Promise.resolve().then(() => (init_demo(), demo_exports))).demoCommand }
};
function usage() {
  const lines = ["usage: alloc-balance <command> [options]", "", "commands:"];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(9)} ${c.summary}`);
  return lines.join("\n");
}
async function main(argv) {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 64;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`alloc-balance: unknown command "${name}"
${usage()}`);
    return 64;
  }
  return (await command.load())(rest);
}
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    if (error instanceof UsageError || error instanceof InputError) {
      console.error(`alloc-balance: ${error.message}`);
    } else {
      console.error(`alloc-balance: internal error: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    }
    process.exitCode = 64;
  }
);
