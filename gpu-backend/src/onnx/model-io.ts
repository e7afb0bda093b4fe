/**
 * Reading and writing ONNX ModelProto files with protobufjs: bytes ⇄ {@link ModelProto}, files with external data
 * (loaded lazily or eagerly, written to a data file next to the model, or kept as references to an existing data
 * file in the same folder).
 * @module
 */
import { closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import {
  externalDataRef,
  inMemoryByteSize,
  mapModelTensors,
  readExternalBytes,
  readTensorBytes,
  withExternalRef,
} from './external-data.js';
import { modelProtoType } from './onnx-schema.js';
import type { ModelProto, TensorProto } from './types.js';

/** protobuf messages cannot exceed 2 GiB. */
const PROTOBUF_LIMIT = 2 ** 31 - 1;

/**
 * Decodes ONNX model bytes. Tensor payloads stay views into `bytes` (no copy).
 * @throws Error when the bytes are not a ModelProto with a graph
 */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const type = modelProtoType();
  const message = type.decode(bytes);
  const obj = type.toObject(message, { longs: Number, enums: Number, arrays: true, defaults: false }) as ModelProto;
  if (!obj.graph) throw new Error('ONNX model has no graph');
  return obj;
}

/** Options of {@link serializeModel}. */
export interface SerializeOptions {
  /** Allow tensors that reference external files (the bytes then only work next to those files). Default false. */
  readonly allowExternalReferences?: boolean;
}

/**
 * Encodes a model to ONNX bytes, e.g. for `InferenceSession.create(bytes)`.
 * @throws Error when a tensor references external data (unless allowed), or the result would exceed 2 GiB
 */
export function serializeModel(model: ModelProto, options: SerializeOptions = {}): Uint8Array {
  let inline = 0;
  mapModelTensors(model, (t) => {
    if (!options.allowExternalReferences && externalDataRef(t)) {
      throw new Error(`tensor ${t.name ?? ''} references external data; load it eagerly or save the model to a file`);
    }
    inline += t.rawData?.byteLength ?? 0;
    return t;
  });
  if (inline > PROTOBUF_LIMIT) {
    throw new RangeError(`model holds ${inline} bytes of tensor data, over the 2 GiB protobuf limit; save it with external data`);
  }
  const type = modelProtoType();
  return type.encode(type.fromObject(model)).finish();
}

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** `lazy` (default) keeps external references; `eager` reads their bytes into `rawData`. */
  readonly externalData?: 'lazy' | 'eager';
}

/** Reads an external tensor's bytes into `rawData` and drops the reference. */
function inlineTensor(t: TensorProto, baseDir: string): TensorProto {
  if (!externalDataRef(t)) return t;
  const { externalData: _e, dataLocation: _l, ...rest } = t;
  return { ...rest, rawData: readExternalBytes(t, baseDir) };
}

/**
 * Loads an ONNX model file. External data references resolve relative to the file's folder.
 * @example const unet = loadModel('models/sd15/unet/model.onnx'); // weights stay in model.onnx_data
 */
export function loadModel(file: string, options: LoadModelOptions = {}): ModelProto {
  const model = decodeModel(readFileSync(file));
  if (options.externalData !== 'eager') return model;
  const dir = path.dirname(path.resolve(file));
  return mapModelTensors(model, (t) => inlineTensor(t, dir));
}

/** Options of {@link saveModel}. */
export interface SaveModelOptions {
  /**
   * Write in-memory tensors of at least `sizeThreshold` bytes to this file (name relative to the model's folder,
   * e.g. `model.onnx_data`); it is created or truncated. Required above 2 GiB.
   */
  readonly externalDataFile?: string;
  /** Minimum payload size moved to the external file. Default 1024 bytes. */
  readonly sizeThreshold?: number;
  /**
   * Folder the model's existing external references are relative to (the folder it was loaded from). When it is
   * the target folder (or omitted), references are kept as they are, so several graphs share one data file;
   * otherwise their bytes are copied into `externalDataFile`.
   */
  readonly sourceDir?: string;
}

/** Large tensors start on a page boundary (lets the runtime map them), small ones on 16 bytes. */
const alignFor = (size: number): number => (size >= 65536 ? 4096 : 16);

/**
 * Writes a model file, optionally with external data.
 * @throws Error when a kept reference's file is missing in the target folder, when a reference must be copied but
 *   no `externalDataFile` is given, or when `externalDataFile` is also a kept reference (it would be truncated)
 */
export function saveModel(model: ModelProto, file: string, options: SaveModelOptions = {}): void {
  const targetDir = path.dirname(path.resolve(file));
  const sourceDir = options.sourceDir === undefined ? targetDir : path.resolve(options.sourceDir);
  const keepRefs = sourceDir === targetDir;
  const threshold = options.sizeThreshold ?? 1024;
  const dataName = options.externalDataFile;
  if (keepRefs && dataName !== undefined) {
    mapModelTensors(model, (t) => {
      const ref = externalDataRef(t);
      if (ref && path.resolve(targetDir, ref.location) === path.resolve(targetDir, dataName)) {
        throw new Error(`externalDataFile ${dataName} is referenced by tensor ${t.name ?? ''}; writing would truncate it`);
      }
      return t;
    });
  }
  const fd = dataName === undefined ? undefined : openSync(path.resolve(targetDir, dataName), 'w');
  let offset = 0;
  const append = (t: TensorProto, bytes: Uint8Array): TensorProto => {
    if (fd === undefined || dataName === undefined) throw new Error('no externalDataFile to write to');
    const align = alignFor(bytes.byteLength);
    offset = Math.ceil(offset / align) * align;
    let done = 0;
    while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done, offset + done);
    const ref = { location: dataName, offset, length: bytes.byteLength };
    offset += bytes.byteLength;
    return withExternalRef(t, ref);
  };
  try {
    const out = mapModelTensors(model, (t) => {
      const ref = externalDataRef(t);
      if (ref) {
        if (!keepRefs) return append(t, readExternalBytes(t, sourceDir));
        if (!existsSync(path.resolve(targetDir, ref.location))) {
          throw new Error(`tensor ${t.name ?? ''} references ${ref.location}, which is not in ${targetDir}`);
        }
        return t;
      }
      if (fd !== undefined && inMemoryByteSize(t) >= threshold) return append(t, readTensorBytes(t));
      return t;
    });
    writeFileSync(file, serializeModel(out, { allowExternalReferences: true }));
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
