/**
 * Session-option variants measured against the project's settings (`ort-session.ts`: graph optimisation 'all',
 * sequential execution, CPU memory arena and memory pattern on, onnxruntime's default thread count).
 * @module
 */
import type * as ort from 'onnxruntime-node';

/** One variant: a name, what it changes and the options given to onnxruntime. */
export interface SessionVariant {
  readonly name: string;
  readonly change: string;
  readonly options: (provider: string, threads: number) => ort.InferenceSession.SessionOptions;
}

/** The project's current options (ort-session.ts). */
function projectOptions(provider: string, threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    enableCpuMemArena: true,
    enableMemPattern: true,
    ...(threads ? { intraOpNumThreads: threads } : {}),
  };
}

const variant = (
  name: string,
  change: string,
  patch: (o: ort.InferenceSession.SessionOptions) => ort.InferenceSession.SessionOptions,
): SessionVariant => ({ name, change, options: (p, t) => patch(projectOptions(p, t)) });

/** Every variant; `current` comes first and last (drift check). */
export const VARIANTS: readonly SessionVariant[] = [
  variant('current', 'project settings', (o) => o),
  variant('opt-disabled', 'graphOptimizationLevel disabled', (o) => ({ ...o, graphOptimizationLevel: 'disabled' })),
  variant('opt-basic', 'graphOptimizationLevel basic', (o) => ({ ...o, graphOptimizationLevel: 'basic' })),
  variant('opt-extended', 'graphOptimizationLevel extended', (o) => ({ ...o, graphOptimizationLevel: 'extended' })),
  variant('threads-1', 'intraOpNumThreads 1', (o) => ({ ...o, intraOpNumThreads: 1 })),
  variant('no-arena', 'enableCpuMemArena false', (o) => ({ ...o, enableCpuMemArena: false })),
  variant('no-mem-pattern', 'enableMemPattern false', (o) => ({ ...o, enableMemPattern: false })),
  variant('no-spin', 'intra-op threads do not spin-wait (session.intra_op.allow_spinning 0)', (o) => ({
    ...o,
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  })),
  variant('threads-1-no-spin', 'intraOpNumThreads 1, no spin-wait', (o) => ({
    ...o,
    intraOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  })),
  variant('parallel', "executionMode 'parallel'", (o) => ({ ...o, executionMode: 'parallel' })),
  variant('current-again', 'project settings (drift check)', (o) => o),
];
