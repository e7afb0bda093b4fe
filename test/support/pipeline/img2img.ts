/**
 * Test support: the components of a model directory the image-to-image tests drive directly (U-Net with DeepCache
 * branch 0, VAE encoder and decoder, scheduler config) and a fixed random CFG conditioning of the U-Net's shapes.
 * @module
 */
import type { ModelDirectory } from '../../../gpu-backend/src/models/model-directory.js';
import { PhiloxNoiseSource } from '../../../gpu-backend/src/noise/philox-noise.js';
import type { UnetSpec } from '../../../gpu-backend/src/synthetic/unet-config.js';
import { loadUnetWithDeepCache } from '../../../gpu-backend/src/pipeline/load-unet.js';
import type { UNetConditioning } from '../../../gpu-backend/src/pipeline/unet.js';
import { VaeDecoder } from '../../../gpu-backend/src/pipeline/vae.js';
import { VaeEncoder } from '../../../gpu-backend/src/pipeline/vae-encoder.js';

export async function load(desc: ModelDirectory, spec: UnetSpec, schedulerConfig: unknown) {
  const c = desc.components;
  if (!c.vaeEncoder || !c.vaeDecoder) throw new Error(`${desc.dir} has no VAE encoder and decoder`);
  const { unet } = await loadUnetWithDeepCache({
    unetPath: c.unet.model,
    fingerprint: desc.unetFingerprint.key,
    providers: ['cpu'],
    branches: [0],
  });
  const encoder = await VaeEncoder.create({ source: c.vaeEncoder.model, providers: ['cpu'], scalingFactor: desc.vaeScalingFactor });
  const decoder = await VaeDecoder.create({ source: c.vaeDecoder.model, providers: ['cpu'], scalingFactor: desc.vaeScalingFactor });
  const rng = new PhiloxNoiseSource(21);
  const cond: UNetConditioning = { encoderHiddenStates: rng.randn([2, 77, spec.crossAttentionDim]) };
  if (spec.textTime) {
    cond.textEmbeds = rng.randn([2, spec.textTime.textEmbedDim]);
    cond.timeIds = { data: Float32Array.from([64, 64, 0, 0, 64, 64, 64, 64, 0, 0, 64, 64]), dims: [2, 6] };
  }
  return {
    unet,
    encoder,
    decoder,
    cond,
    schedulerConfig,
    dispose: async () => {
      await Promise.all([unet.dispose(), encoder.dispose(), decoder.dispose()]);
    },
  };
}
