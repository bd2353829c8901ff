// A preset turns a short configuration (a DPDK tree and a port mask) into what each side needs:
// how to build the module and the workload program from that side's tree, the workload, and
// what the target must prepare (hugepages).
import { join, resolve } from 'node:path';
import type { Workload } from '../inputs/workload.js';
import { existsSync } from 'node:fs';
import { nicAddresses, type VmNics } from '../lab/vm-nics.js';
import type { Preset, Target } from '../inputs/table.js';
import type { DpdkKniOptions } from './kni-options.js';
import { dpdkKniPreset, mesonOnPath } from './dpdk-kni.js';
import { describeMissing, machineProbe, missingRequirements, requirementsOf, type Probe } from './prerequisites.js';
import { UsageError } from '../errors.js';
import type { BuildSpec } from '../module-build/build-spec.js';
import type { BuildAttempt } from '../module-build/build-module.js';
import type { CachedBuild } from './userspace-caching.js';

export interface SidePreparation {
  build: BuildSpec;
  /** The cached user-space build this side runs (Actions cache key and directory, and the program in it). */
  userspace: CachedBuild;
  /** Throws a UsageError naming what the build needs and is missing (checked once the cache had its say). */
  checkPrerequisites(): void;
  workload: Workload;
  hugepages?: number;
  /** NICs bound to a user-space driver for the run (a VM's emulated NICs with dpdk-ports: nic). */
  nics?: { addresses: string[]; driver: string; driverModule: string | null };
  notes: string[];
  /** Notes the report keeps with the side (the module's compatibility edits). */
  reportNotes: string[];
}

/** The settings a preset reads (the typed Settings hold them). */
export interface PresetSettings {
  preset: Preset;
  dpdk: DpdkKniOptions | null;
  moduleDir: string;
  moduleArgs: string;
  target: Target;
  vm: { cpus: number; nics: VmNics | null };
  workload: Pick<Workload, 'holdSeconds' | 'readyTimeoutSeconds'>;
}

export interface PresetExpansion {
  prepare(treeDir: string, side: 'base' | 'pr', workDir: string): SidePreparation;
}

export function expandPreset(settings: PresetSettings, kernelBuildDir: string, probe: Probe = machineProbe()): PresetExpansion | null {
  if (settings.preset === 'none' || !settings.dpdk) return null;
  const options = settings.dpdk;
  // A user-space build that failed on the base is not run again for a PR whose user space is the same (minutes of meson, the same error).
  const attempts = new Map<string, BuildAttempt>();
  return {
    prepare(treeDir, side, workDir) {
      const dpdkDir = resolve(treeDir, settings.moduleDir);
      const moduleOutDir = join(workDir, `rte_kni-${side}`);
      const preset = dpdkKniPreset(dpdkDir, options, kernelBuildDir, {
        mesonAvailable: mesonOnPath(probe),
        moduleOutDir,
        cpus: settings.target === 'vm' ? settings.vm.cpus : undefined,
        holdSeconds: settings.workload.holdSeconds,
        readyTimeoutSeconds: settings.workload.readyTimeoutSeconds,
        // A VM's CPU is not the build machine's (under TCG it lacks e.g. RDSEED): build portable code.
        instructionSet: settings.target === 'vm' ? 'generic' : 'native',
        ...(settings.target === 'vm' && settings.vm.nics ? { nicAddresses: nicAddresses(settings.vm.nics) } : {}),
      });
      const checkPrerequisites = () => {
        const cached = existsSync(preset.userspaceBuild.program);
        const needed = requirementsOf([...(cached ? [] : [{ plan: preset.userspaceBuild, userspace: true }]), { plan: preset.moduleBuild, userspace: false }]);
        const missing = missingRequirements(needed, probe);
        if (missing.length) throw new UsageError(`preset dpdk-kni (${side}): ${describeMissing(missing)}`);
      };
      const attempt = attempts.get(preset.cache.key) ?? {};
      attempts.set(preset.cache.key, attempt);
      return {
        build: {
          moduleDir: dpdkDir,
          buildCommand: '',
          // The workload program is cached by the tree's user-space sources: built once, shared by sides that agree.
          plans: [
            { plan: preset.userspaceBuild, skipWhenPresent: preset.userspaceBuild.program, attempt },
            ...(preset.nics?.build ? [{ plan: preset.nics.build }] : []),
            { plan: preset.moduleBuild },
          ],
          moduleName: preset.moduleName,
          moduleArgs: [preset.moduleArgs, settings.moduleArgs].filter((a) => a !== '').join(' '),
          output: preset.moduleBuild.output,
          writable: [moduleOutDir, preset.cache.dir],
        },
        userspace: { ...preset.cache, program: preset.userspaceBuild.program },
        checkPrerequisites,
        workload: preset.workload,
        hugepages: preset.hugepages,
        ...(preset.nics ? { nics: { addresses: preset.nics.addresses, driver: preset.nics.driver, driverModule: preset.nics.build?.output ?? null } } : {}),
        notes: preset.notes,
        reportNotes: preset.reportNotes,
      };
    },
  };
}
