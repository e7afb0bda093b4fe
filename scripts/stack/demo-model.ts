/**
 * The default demo model: a tiny synthetic SD 1.5 directory built on first use and reused afterwards. It is
 * built in a scratch folder and renamed into place, so an interrupted build never leaves a half directory and
 * two stacks starting at once do not trip over each other.
 * @module
 */
import { access, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { makeModelDirectory } from '../../gpu-backend/src/synthetic/model-directory.js';

/** The model id the demo model is served under (it is in the catalogue, `shared/models.ts`). */
export const DEMO_MODEL_ID = 'sd15-tiny-demo';

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

/**
 * Returns `dir`, building the tiny SD 1.5 model there unless it is already complete.
 * @returns whether it was built now
 */
export async function ensureDemoModel(dir: string): Promise<{ dir: string; built: boolean }> {
  // complete = has every component, the VAE encoder included (directories built before it existed are rebuilt)
  const complete = async () =>
    (await exists(path.join(dir, 'model_index.json'))) && (await exists(path.join(dir, 'vae_encoder/model.onnx')));
  if (await complete()) return { dir, built: false };
  if (await exists(path.join(dir, 'model_index.json'))) await rm(dir, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true });
  const scratch = await mkdtemp(`${dir}.building-`);
  try {
    await makeModelDirectory({ arch: 'sd15', scale: 'tiny', out: scratch });
    try {
      await rename(scratch, dir);
    } catch (err) {
      // Another stack finished first: keep its copy.
      if (!(await complete())) throw err;
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return { dir, built: true };
}
