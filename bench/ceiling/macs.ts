/**
 * MAC tables of the synthetic full-width U-Nets (shapes-only graphs, no weights): full and per-branch shallow
 * GMACs per sample at a size, and the MAC-ratio ceiling of each DeepCache case over the architecture's default
 * 50-step scheduler loop.
 * @module
 */
import { deepcacheCeiling, type BranchCeiling } from '../../gpu-backend/src/onnx/index.js';
import { schedulerFromDiffusersCase } from '../../gpu-backend/src/schedulers/registry.js';
import { SCHEDULER_CONFIGS, UNET_SPECS, buildUnet, type SyntheticArch } from '../../gpu-backend/src/synthetic/index.js';
import { DEEPCACHE_CASES, caseLabel, planCeiling, planCounts } from '../deepcache/cases.js';

/** U-Net input dims for one sample at an image side. */
function unetDims(arch: SyntheticArch, side: number): Record<string, number[]> {
  const spec = UNET_SPECS[arch].full;
  const l = side / 8;
  const dims: Record<string, number[]> = { sample: [1, 4, l, l], timestep: [1], encoder_hidden_states: [1, 77, spec.crossAttentionDim] };
  if (spec.textTime) {
    dims.text_embeds = [1, spec.textTime.textEmbedDim];
    dims.time_ids = [1, 6];
  }
  return dims;
}

/** One architecture's MAC table. */
export interface ArchCeiling {
  readonly arch: SyntheticArch;
  readonly side: number;
  readonly scheduler: string;
  readonly loopSteps: number;
  readonly branches: readonly BranchCeiling[];
  /** Per case label: ceiling with attention and in the paper's convention (undefined when the branch does not exist). */
  readonly cases: Readonly<Record<string, { withAttention: number; paper: number } | null>>;
}

/** Full/shallow MACs and the case ceilings of an architecture at a size (50 steps of its default scheduler). */
export function archCeiling(arch: SyntheticArch, side: number, steps = 50): ArchCeiling {
  const branches = deepcacheCeiling(buildUnet(arch, 'full', { weights: 'shapes-only' }), unetDims(arch, side));
  const cfg = SCHEDULER_CONFIGS[arch];
  const { name, scheduler } = schedulerFromDiffusersCase(cfg._class_name, cfg);
  scheduler.setTimesteps(steps);
  const loopSteps = scheduler.timesteps.length;
  const cases = Object.fromEntries(
    DEEPCACHE_CASES.map((c) => {
      const b = branches[c.branch];
      return [caseLabel(c), b ? planCeiling(b.full, b.shallow, planCounts(c, loopSteps, steps)) : null];
    }),
  );
  return { arch, side, scheduler: name, loopSteps, branches, cases };
}
