import { cp, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeHfTokenizerFiles } from '../tokenizer/bpe-files.js';
import { ModelDirectoryError } from './model-directory-error.js';
import { readModelDirectory, resolveFamilyFromUnet, type ModelDirectory } from './model-directory.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixtures = path.resolve(repoRoot, 'test/fixtures');
const bpeGz = path.resolve(repoRoot, 'gpu-backend/src/tokenizer/vocab/bpe_simple_vocab_16e6.txt.gz');

let tmp: string;
let tokenizerTemplate: string;
let counter = 0;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'model-dir-'));
  tokenizerTemplate = path.join(tmp, 'tokenizer-template');
  await writeHfTokenizerFiles(tokenizerTemplate, bpeGz);
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** Writes an Optimum-layout SD directory (ONNX files are placeholder bytes: the reader does not parse graphs). */
async function writeOnnxModelDir(edit: (dir: string) => Promise<void> = async () => {}): Promise<string> {
  const dir = path.join(tmp, `model-${counter++}`);
  const put = async (rel: string, content: string | Buffer): Promise<void> => {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  };
  await put(
    'model_index.json',
    json({
      _class_name: 'ORTStableDiffusionPipeline',
      scheduler: ['diffusers', 'DDIMScheduler'],
      text_encoder: ['diffusers', 'OnnxRuntimeModel'],
      tokenizer: ['transformers', 'CLIPTokenizer'],
      unet: ['diffusers', 'OnnxRuntimeModel'],
      vae_decoder: ['diffusers', 'OnnxRuntimeModel'],
      safety_checker: [null, null],
    }),
  );
  await put('scheduler/scheduler_config.json', json({ _class_name: 'DDIMScheduler', prediction_type: 'v_prediction' }));
  await put('text_encoder/model.onnx', Buffer.from([8, 7, 1, 2]));
  await put('text_encoder/config.json', json({ hidden_size: 1024, projection_dim: 512 }));
  await put('unet/model.onnx', Buffer.from([8, 8, 3]));
  await put('unet/model.onnx_data', Buffer.alloc(64, 1));
  await put('vae_decoder/model.onnx', Buffer.from([8, 8]));
  await put('vae_decoder/config.json', json({ scaling_factor: 0.2, block_out_channels: [8, 16, 16] }));
  await cp(tokenizerTemplate, path.join(dir, 'tokenizer'), { recursive: true });
  await edit(dir);
  return dir;
}

async function expectDirectoryError(dir: string, file: string, problem: RegExp): Promise<void> {
  const error = await readModelDirectory(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelDirectoryError);
  expect((error as ModelDirectoryError).file).toBe(path.join(dir, file));
  expect((error as ModelDirectoryError).problem).toMatch(problem);
}

describe('readModelDirectory', () => {
  describe('on the diffusers-exported fixtures', () => {
    it('describes deepcache-sd15-tiny as SD 1.x epsilon with its VAE decoder and no text encoder or tokenizer', async () => {
      const dir = path.join(fixtures, 'deepcache-sd15-tiny');
      const d = await readModelDirectory(dir);
      expect(d).toMatchObject({
        pipelineClass: 'StableDiffusionPipeline',
        family: 'sd15',
        familySource: 'unet-linear-projection',
        predictionType: 'epsilon',
        vaeScaleFactor: 8,
        vaeScalingFactor: 0.18215,
        vaeScalingFactorSource: 'config',
      });
      expect(Object.keys(d.components).sort()).toEqual(['scheduler', 'unet', 'vaeDecoder']);
      expect(d.components.unet).toEqual({
        dir: path.join(dir, 'unet'),
        model: path.join(dir, 'unet/model.onnx'),
        externalData: [],
        config: path.join(dir, 'unet/config.json'),
      });
      const s = await stat(path.join(dir, 'unet/model.onnx'));
      expect(d.unetFingerprint.files).toEqual([{ path: path.join(dir, 'unet/model.onnx'), size: s.size, mtimeMs: s.mtimeMs }]);
    });

    it('describes deepcache-sd21v-tiny as SD 2.x with v-prediction', async () => {
      const d = await readModelDirectory(path.join(fixtures, 'deepcache-sd21v-tiny'));
      expect([d.family, d.predictionType, d.components.textEncoder, d.components.tokenizer]).toEqual([
        'sd21',
        'v_prediction',
        undefined,
        undefined,
      ]);
    });

    it('describes deepcache-sdxl-tiny as SDXL without VAE decoder, text encoders or tokenizers, with SDXL’s default scaling', async () => {
      const d = await readModelDirectory(path.join(fixtures, 'deepcache-sdxl-tiny'));
      expect(d).toMatchObject({ family: 'sdxl', familySource: 'pipeline-class', predictionType: 'epsilon', vaeScaleFactor: 8 });
      expect([d.vaeScalingFactor, d.vaeScalingFactorSource]).toEqual([0.13025, 'family-default']);
      expect(Object.keys(d.components).sort()).toEqual(['scheduler', 'unet']);
    });
  });

  describe('on an Optimum-layout export', () => {
    it('finds every component, the external data, and reads family, prediction type and VAE factors from configs', async () => {
      const dir = await writeOnnxModelDir();
      const d = await readModelDirectory(dir);
      expect(d).toMatchObject({
        family: 'sd21',
        familySource: 'text-encoder-hidden-size',
        predictionType: 'v_prediction',
        vaeScaleFactor: 4,
        vaeScalingFactor: 0.2,
      });
      expect(d.components.unet.externalData).toEqual([path.join(dir, 'unet/model.onnx_data')]);
      expect(d.components.tokenizer).toEqual({
        dir: path.join(dir, 'tokenizer'),
        vocab: path.join(dir, 'tokenizer/vocab.json'),
        merges: path.join(dir, 'tokenizer/merges.txt'),
      });
      expect(Object.keys(d.components).sort()).toEqual(['scheduler', 'textEncoder', 'tokenizer', 'unet', 'vaeDecoder']);
    });

    it('changes the U-Net fingerprint when the external data changes', async () => {
      const dir = await writeOnnxModelDir();
      const before = (await readModelDirectory(dir)).unetFingerprint.key;
      expect((await readModelDirectory(dir)).unetFingerprint.key).toBe(before);
      await writeFile(path.join(dir, 'unet/model.onnx_data'), Buffer.alloc(65, 1));
      expect((await readModelDirectory(dir)).unetFingerprint.key).not.toBe(before);
    });

    it('treats a component listed as [null, null] as absent even when its folder exists', async () => {
      const dir = await writeOnnxModelDir(async (d) => {
        await writeFile(
          path.join(d, 'model_index.json'),
          json({
            _class_name: 'OnnxStableDiffusionPipeline',
            unet: ['diffusers', 'OnnxRuntimeModel'],
            scheduler: ['diffusers', 'PNDMScheduler'],
            text_encoder: [null, null],
          }),
        );
      });
      const d = await readModelDirectory(dir);
      expect(d.components.textEncoder).toBeUndefined();
      expect(d.components.tokenizer).toBeDefined();
    });

    it('leaves the family open without configs and completes it from the ONNX U-Net inputs', async () => {
      // As diffusers 0.6 exported ONNX pipelines: old class name, no text encoder, U-Net or VAE configs.
      const dir = await writeOnnxModelDir(async (d) => {
        await writeFile(
          path.join(d, 'model_index.json'),
          json({
            _class_name: 'StableDiffusionOnnxPipeline',
            unet: ['diffusers', 'OnnxRuntimeModel'],
            text_encoder: ['diffusers', 'OnnxRuntimeModel'],
          }),
        );
        await rm(path.join(d, 'text_encoder/config.json'));
        await rm(path.join(d, 'vae_decoder/config.json'));
      });
      const d = await readModelDirectory(dir);
      expect([d.family, d.familySource, d.vaeScalingFactorSource, d.vaeScaleFactor]).toEqual([undefined, undefined, 'family-default', 8]);
      const plain = ['sample', 'timestep', 'encoder_hidden_states'];
      expect(resolveFamilyFromUnet(d, plain, 768).family).toBe('sd15');
      expect(resolveFamilyFromUnet(d, plain, 1024).family).toBe('sd21');
      const xl: ModelDirectory = resolveFamilyFromUnet(d, [...plain, 'text_embeds', 'time_ids'], 2048);
      expect([xl.family, xl.familySource, xl.vaeScalingFactor]).toEqual(['sdxl', 'onnx-unet-inputs', 0.13025]);
      expect(() => resolveFamilyFromUnet(d, plain, 512)).toThrow(RangeError);
    });
  });

  describe('errors', () => {
    it('names model_index.json when it is missing', async () => {
      const dir = await writeOnnxModelDir((d) => rm(path.join(d, 'model_index.json')));
      await expectDirectoryError(dir, 'model_index.json', /missing/);
    });

    it('rejects a pipeline class it cannot run', async () => {
      const dir = await writeOnnxModelDir((d) =>
        writeFile(path.join(d, 'model_index.json'), json({ _class_name: 'StableDiffusion3Pipeline' })),
      );
      await expectDirectoryError(dir, 'model_index.json', /unsupported pipeline class "StableDiffusion3Pipeline"/);
    });

    it('names the scheduler config when it is not JSON', async () => {
      const dir = await writeOnnxModelDir((d) => writeFile(path.join(d, 'scheduler/scheduler_config.json'), '{"_class_name": '));
      await expectDirectoryError(dir, 'scheduler/scheduler_config.json', /not valid JSON/);
    });

    it('names the scheduler config when prediction_type is unknown', async () => {
      const dir = await writeOnnxModelDir((d) =>
        writeFile(path.join(d, 'scheduler/scheduler_config.json'), json({ _class_name: 'DDIMScheduler', prediction_type: 'flow' })),
      );
      await expectDirectoryError(dir, 'scheduler/scheduler_config.json', /prediction_type/);
    });

    it('names the U-Net graph when it is missing', async () => {
      const dir = await writeOnnxModelDir((d) => rm(path.join(d, 'unet/model.onnx')));
      await expectDirectoryError(dir, 'unet/model.onnx', /missing/);
    });

    it('names the text encoder graph when model_index.json lists a text encoder that is not there', async () => {
      const dir = await writeOnnxModelDir((d) => rm(path.join(d, 'text_encoder'), { recursive: true }));
      await expectDirectoryError(dir, 'text_encoder/model.onnx', /missing/);
    });

    it('names merges.txt when a tokenizer folder lacks it', async () => {
      const dir = await writeOnnxModelDir((d) => rm(path.join(d, 'tokenizer/merges.txt')));
      await expectDirectoryError(dir, 'tokenizer/merges.txt', /cannot read/);
    });

    it('names an unlisted but present vae_encoder folder that has no graph', async () => {
      const dir = await writeOnnxModelDir((d) => mkdir(path.join(d, 'vae_encoder')));
      await expectDirectoryError(dir, 'vae_encoder/model.onnx', /missing/);
    });

    it('names model_index.json when a component entry is malformed', async () => {
      const dir = await writeOnnxModelDir((d) =>
        writeFile(path.join(d, 'model_index.json'), json({ _class_name: 'StableDiffusionPipeline', unet: 'yes' })),
      );
      await expectDirectoryError(dir, 'model_index.json', /"unet" must be/);
    });
  });
});
