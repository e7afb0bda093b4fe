/**
 * ONNX model tooling: protobuf I/O, builders, tensor data helpers and graph passes.
 * @module
 */
export * from './types.js';
export * from './builders.js';
export * from './tensor-data.js';
export * from './external-data.js';
export * from './model-io.js';
export { onnxDescriptor, onnxRoot } from './onnx-schema.js';
export * from './graph-index.js';
export * from './topo-sort.js';
export * from './validate.js';
export * from './promote-output.js';
export * from './cut-graph.js';
export * from './skip-concats.js';
export * from './deepcache-split.js';
export * from './mac-counter.js';
export * from './deepcache-ceiling.js';
export { inferShapes, inferShapesCached, supportedOps, type InputDims, type InferShapesOptions } from './shape/infer-shapes.js';
export type { TensorInfo } from './shape/tensor-info.js';
export { inferSymbolicDims, probeInputDims } from './shape/symbolic-dims.js';
