/**
 * The fixtures' exported U-Net (`unet/model.onnx`) run with onnxruntime-node on CPU as a `GuidedNoisePredictor`.
 * One session per model path is cached for the life of the process.
 * @module
 */
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { tensor, type Tensor } from '../../../gpu-backend/src/tensor/tensor.js';
import type { GuidedNoisePredictor } from './sampling-loop.js';
import { fixtureTensor } from '../fixtures.js';
import type { SamplingInputs } from './sampling-fixture.js';

const sessions = new Map<string, Promise<ort.InferenceSession>>();

/** The cached CPU session of `<fixtureDir>/unet/model.onnx`. */
function unetSession(fixtureDir: string): Promise<ort.InferenceSession> {
  const file = path.join(fixtureDir, 'unet/model.onnx');
  let s = sessions.get(file);
  if (s === undefined) {
    s = ort.InferenceSession.create(file, { executionProviders: ['cpu'] });
    sessions.set(file, s);
  }
  return s;
}

/** Concatenates `[neg; pos]` along axis 0. */
function cat0(neg: Tensor, pos: Tensor): Tensor {
  const data = new Float32Array(neg.data.length + pos.data.length);
  data.set(neg.data, 0);
  data.set(pos.data, neg.data.length);
  return tensor(data, [neg.dims[0]! + pos.dims[0]!, ...neg.dims.slice(1)]);
}

const ortTensor = (t: Tensor): ort.Tensor => new ort.Tensor('float32', t.data, t.dims);

/**
 * A noise predictor over the fixture U-Net with the fixture's fixed prompt embeddings (CFG batch
 * `[negative; positive]`; SDXL also feeds `text_embeds` = `[negative_pooled; pooled]` and `time_ids` twice).
 * @throws Error when the graph needs SDXL inputs the fixture lacks
 */
export async function fixtureNoisePredictor(fixtureDir: string, inputs: SamplingInputs): Promise<GuidedNoisePredictor> {
  const session = await unetSession(fixtureDir);
  const feeds: Record<string, ort.Tensor> = {
    encoder_hidden_states: ortTensor(cat0(fixtureTensor(inputs.negative_prompt_embeds), fixtureTensor(inputs.prompt_embeds))),
  };
  if (session.inputNames.includes('text_embeds')) {
    if (!inputs.pooled_prompt_embeds || !inputs.negative_pooled_prompt_embeds || !inputs.add_time_ids) {
      throw new Error('the U-Net needs text_embeds/time_ids but the fixture inputs have no pooled embeddings or time ids');
    }
    feeds['text_embeds'] = ortTensor(cat0(fixtureTensor(inputs.negative_pooled_prompt_embeds), fixtureTensor(inputs.pooled_prompt_embeds)));
    const ids = fixtureTensor(inputs.add_time_ids);
    feeds['time_ids'] = ortTensor(cat0(ids, ids));
  }
  return async function predictNoise(sample: Tensor, timestep: number): Promise<Tensor> {
    const results = await session.run({
      ...feeds,
      sample: ortTensor(sample),
      timestep: new ort.Tensor('float32', Float32Array.of(timestep), [1]),
    });
    const out = results['out_sample'];
    if (out === undefined) throw new Error('U-Net returned no out_sample');
    const data = out.data;
    if (!(data instanceof Float32Array)) throw new Error(`out_sample has type ${out.type}, expected float32`);
    return tensor(Float32Array.from(data), out.dims);
  };
}
