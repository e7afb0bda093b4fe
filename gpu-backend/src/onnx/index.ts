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
