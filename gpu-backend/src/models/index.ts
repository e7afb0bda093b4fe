/**
 * Model directories (diffusers ONNX / Optimum layout) and pulling them from the Hugging Face Hub.
 * @module
 */
export { ModelDirectoryError } from './model-directory-error.js';
export {
  DEFAULT_VAE_SCALING_FACTOR,
  ModelDirectory,
  PIPELINE_CLASS,
  fingerprint,
  readModelDirectory,
  resolveFamilyFromUnet,
  type OnnxComponent,
  type TokenizerComponent,
} from './model-directory.js';
export { FamilySource, familyFromConfigs, familyFromUnetInputs, type FamilyEvidence, type FamilyVerdict } from './family.js';
export { PredictionType } from './config-files.js';
export { PullError, pullModel, type PullOptions, type PullProgress, type PullResult } from './pull.js';
export { pullDestination, selectPullFiles, type PullSelection } from './pull-files.js';
