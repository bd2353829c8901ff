// What the post step must undo if the main step dies (SIGKILL, a runner that gives up): saved in
// the Actions state as each thing is made. Typed here so that the main and the post step agree.

interface ActionState {
  /** The git worktrees of base and head, the repository they belong to, and the temporary folder that holds them. */
  worktrees?: { repo: string; dirs: string[]; root?: string };
  /** The kernel-side undo files of every run on this machine's kernel (sides, canary), as they are created. */
  undoFiles?: string[];
  /** Temporary folders of the run (the sources' folder, the canary's copy, the helper modules' builds, each VM's control files), as they are made. */
  tempDirs?: string[];
}

const KEYS = { worktrees: 'worktrees', undoFiles: 'undo-files', tempDirs: 'temp-dirs' } as const;

/** The main step's side: the state is written whole each time (a step cannot read back what it saved). */
export class StateRecorder {
  private readonly undoFiles: string[] = [];
  private readonly tempDirs: string[] = [];

  constructor(private readonly save: (key: string, value: string) => void) {}

  worktrees(value: NonNullable<ActionState['worktrees']>): void {
    this.save(KEYS.worktrees, JSON.stringify(value));
  }

  undoFile(file: string): void {
    this.append(this.undoFiles, KEYS.undoFiles, file);
  }

  tempDir(dir: string): void {
    this.append(this.tempDirs, KEYS.tempDirs, dir);
  }

  private append(list: string[], key: string, item: string): void {
    if (list.includes(item)) return;
    list.push(item);
    this.save(key, JSON.stringify(list));
  }
}

/** The post step's side. */
export function readActionState(get: (key: string) => string): ActionState {
  const parse = <T>(key: string): T | undefined => {
    const raw = get(key);
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as T;
    } catch {
      return undefined;
    }
  };
  return { worktrees: parse(KEYS.worktrees), undoFiles: parse(KEYS.undoFiles), tempDirs: parse(KEYS.tempDirs) };
}
