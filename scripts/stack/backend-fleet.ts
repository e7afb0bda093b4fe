/**
 * The local stack's GPU backends: any number of backend processes, each on its own port with its own
 * `WORKER_ID`, all pulling work from the same edge. Tests and benchmarks change the fleet while it works: start
 * another backend, SIGKILL one, or drain one (SIGTERM, then wait for it to exit on its own).
 * @module
 */
import { startBackendPart, type BackendPart, type BackendPartOptions } from './backend-part.js';
import type { ChildExit } from './child.js';
import { freePort, isPortFree } from './ports.js';

/** Longest a drained backend may take to exit before it is killed (its own drain timeout is far shorter). */
const DRAIN_EXIT_DEADLINE_MS = 120_000;

/** Everything a backend needs except its port and name. */
export type FleetBackendOptions = Omit<BackendPartOptions, 'port' | 'workerId'>;

/** The backends of a stack. */
export interface BackendFleet {
  /** Every backend started so far, in start order (stopped ones included). */
  all(): readonly BackendPart[];
  /** Backends whose current process has not exited. */
  running(): BackendPart[];
  /** The backend named `workerId`. @throws Error when there is none */
  get(workerId: string): BackendPart;
  /** Starts one more backend (next port after the base if free, else any free port) and waits until READY. */
  add(): Promise<BackendPart>;
  /** SIGKILLs a backend's process group; resolves once it is gone. */
  kill(workerId: string): Promise<ChildExit>;
  /** Drains a backend: SIGTERM, then waits for it to exit by itself (killed only past a generous deadline). */
  drain(workerId: string): Promise<ChildExit>;
  /** Stops every backend still running. */
  stop(): Promise<void>;
}

/** The worker id of the `index`-th backend (0-based) of a local stack. */
export function localWorkerId(index: number): string {
  return `local-backend-${index + 1}`;
}

/**
 * Starts `count` backends on `basePort`, `basePort + 1`, … (in parallel) and returns the fleet.
 * @throws whatever a backend's start-up threw, after the others were stopped
 */
export async function startBackendFleet(options: FleetBackendOptions, basePort: number, count: number): Promise<BackendFleet> {
  const backends: BackendPart[] = [];
  let started = 0;
  const nextPort = async (index: number): Promise<number> => {
    const preferred = basePort + index;
    return preferred <= 65535 && (await isPortFree(preferred)) ? preferred : freePort();
  };
  const start = async (index: number, port: number): Promise<BackendPart> =>
    startBackendPart({ ...options, port, workerId: localWorkerId(index) });
  const get = (workerId: string): BackendPart => {
    const found = backends.find((b) => b.workerId === workerId);
    if (!found) throw new Error(`no backend ${workerId} in this stack`);
    return found;
  };
  const fleet: BackendFleet = {
    all: () => backends,
    running: () => backends.filter((b) => !b.current().hasExited()),
    get,
    async add() {
      const index = started++;
      const backend = await start(index, await nextPort(index));
      backends.push(backend);
      return backend;
    },
    async kill(workerId) {
      const child = get(workerId).current();
      child.signal('SIGKILL');
      return child.exited;
    },
    async drain(workerId) {
      return get(workerId).current().stop(DRAIN_EXIT_DEADLINE_MS);
    },
    async stop() {
      await Promise.all(backends.map((b) => b.stop()));
    },
  };
  // The first `count` take the base ports, which the caller has checked are free.
  const initial = await Promise.allSettled(Array.from({ length: count }, (_, i) => start(i, basePort + i)));
  started = count;
  for (const r of initial) if (r.status === 'fulfilled') backends.push(r.value);
  const failed = initial.find((r) => r.status === 'rejected');
  if (failed) {
    await fleet.stop();
    throw failed.reason;
  }
  return fleet;
}
