// The VM lab: prepared kernels (`lab setup`) and running a job inside a VM on one of them.
export { type LabKernel, type LabManifestEntry, type LabManifest, defaultLabDir, findLabKernel, readManifest, LAB_DIR_ENV } from './lab-kernel.js';
export { setupLab, type SetupOptions } from './setup.js';
export { runInGuest, validateJob, liveGuests, GuestError, type GuestJob, type GuestResult, type GuestOptions } from './run-in-guest.js';
export { detectAccel, type Accel } from './qemu-args.js';
