/**
 * The JSON files of a synthetic model directory that are not graphs: `model_index.json` (pipeline and component
 * classes as diffusers writes them) and `scheduler/scheduler_config.json` (the values of the official repos, as the
 * reference fixtures record them: SD 1.5 PNDM, SD 2.1 DDIM v-prediction, SDXL Euler "leading").
 * @module
 */
import type { SyntheticArch } from './unet-config.js';

const NULL_ENTRY = [null, null] as const;

/** model_index.json for an architecture: every shipped component listed with its library and class. */
export function modelIndexJson(arch: SyntheticArch): Record<string, unknown> {
  const common = {
    _diffusers_version: '0.30.3',
    feature_extractor: NULL_ENTRY,
    image_encoder: NULL_ENTRY,
    scheduler: ['diffusers', SCHEDULER_CONFIGS[arch]._class_name],
    text_encoder: ['transformers', 'CLIPTextModel'],
    tokenizer: ['transformers', 'CLIPTokenizer'],
    unet: ['diffusers', 'UNet2DConditionModel'],
    vae: ['diffusers', 'AutoencoderKL'],
  };
  if (arch === 'sdxl') {
    return {
      _class_name: 'StableDiffusionXLPipeline',
      ...common,
      force_zeros_for_empty_prompt: true,
      text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
      tokenizer_2: ['transformers', 'CLIPTokenizer'],
    };
  }
  return { _class_name: 'StableDiffusionPipeline', ...common, requires_safety_checker: false, safety_checker: NULL_ENTRY };
}

const SD_BETAS = { beta_end: 0.012, beta_schedule: 'scaled_linear', beta_start: 0.00085 } as const;

/** scheduler_config.json per architecture. */
export const SCHEDULER_CONFIGS = {
  sd15: {
    _class_name: 'PNDMScheduler',
    _diffusers_version: '0.30.3',
    ...SD_BETAS,
    clip_sample: false,
    num_train_timesteps: 1000,
    prediction_type: 'epsilon',
    set_alpha_to_one: false,
    skip_prk_steps: true,
    steps_offset: 1,
    timestep_spacing: 'leading',
    trained_betas: null,
  },
  sd21: {
    _class_name: 'DDIMScheduler',
    _diffusers_version: '0.30.3',
    ...SD_BETAS,
    clip_sample: false,
    num_train_timesteps: 1000,
    prediction_type: 'v_prediction',
    set_alpha_to_one: false,
    skip_prk_steps: true,
    steps_offset: 1,
    timestep_spacing: 'leading',
    trained_betas: null,
  },
  sdxl: {
    _class_name: 'EulerDiscreteScheduler',
    _diffusers_version: '0.30.3',
    ...SD_BETAS,
    clip_sample: false,
    final_sigmas_type: 'zero',
    interpolation_type: 'linear',
    num_train_timesteps: 1000,
    prediction_type: 'epsilon',
    rescale_betas_zero_snr: false,
    sample_max_value: 1.0,
    set_alpha_to_one: false,
    sigma_max: null,
    sigma_min: null,
    skip_prk_steps: true,
    steps_offset: 1,
    timestep_spacing: 'leading',
    timestep_type: 'discrete',
    trained_betas: null,
    use_karras_sigmas: false,
  },
} as const satisfies Record<
  SyntheticArch,
  { readonly _class_name: string; readonly prediction_type: string; readonly [key: string]: unknown }
>;

/** VAE latent scaling factors (diffusers' AutoencoderKL configs of the official repos). */
export const VAE_SCALING_FACTOR = { sd15: 0.18215, sd21: 0.18215, sdxl: 0.13025 } as const satisfies Record<SyntheticArch, number>;

/** Default image side of each architecture (U-Net `sample_size` × 8). */
export const DEFAULT_IMAGE_SIDE = { sd15: 512, sd21: 768, sdxl: 1024 } as const satisfies Record<SyntheticArch, number>;
