/**
 * Concrete U-Net input dims for a given image size and batch, from the graph's own input shapes (symbolic
 * axes become the batch, the latent size or CLIP's 77 tokens).
 * @module
 */
import type { ModelProto } from '../../onnx/types.js';

export function unetInputDims(unet: ModelProto, height: number, width: number, batch: number): Record<string, number[]> {
  const dims: Record<string, number[]> = {};
  for (const input of unet.graph.input) {
    const shape = input.type?.tensorType?.shape?.dim ?? [];
    const name = input.name ?? '';
    dims[name] = shape.map((d, axis) => {
      if (typeof d.dimValue === 'number' && d.dimValue > 0) return d.dimValue;
      if (name === 'timestep') return 1;
      if (axis === 0) return batch;
      if (name === 'sample') return axis === 2 ? height / 8 : width / 8;
      if (name === 'encoder_hidden_states' && axis === 1) return 77;
      throw new RangeError(`cannot choose a size for ${name} axis ${axis} (${d.dimParam ?? '?'})`);
    });
  }
  return dims;
}
