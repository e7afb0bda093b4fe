/**
 * Malformed create requests: mutations of a valid request derived from the request schema's JSON Schema
 * (`z.toJSONSchema(CreatePredictionRequest)`) and drawn with fast-check (a fixed seed, so a failure
 * reproduces), plus hand-written hostile bodies.
 * @module
 */
import fc from 'fast-check';
import { z } from 'zod';
import { CreatePredictionRequest } from '../../../shared/prediction.js';

/** One request to send: a raw body and its content type. */
export interface HostileCase {
  name: string;
  body: string;
  contentType: string;
}

interface JsonSchemaNode {
  type?: string;
  properties?: Record<string, JsonSchemaNode>;
  required?: string[];
  anyOf?: JsonSchemaNode[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  enum?: unknown[];
}

interface Field {
  path: string[];
  node: JsonSchemaNode;
  required: boolean;
}

function fieldsOf(node: JsonSchemaNode, path: string[] = []): Field[] {
  const out: Field[] = [];
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const here = [...path, name];
    out.push({ path: here, node: child, required: node.required?.includes(name) ?? false });
    const object = child.type === 'object' ? child : child.anyOf?.find((c) => c.type === 'object');
    if (object) out.push(...fieldsOf(object, here));
  }
  return out;
}

/** Values that break `node`'s rules (wrong type, out of range, non-finite spelled as strings or huge numbers). */
function badValues(node: JsonSchemaNode): unknown[] {
  const bad: unknown[] = [null, [], { nested: { deeper: true } }];
  // Non-finite numbers spelled as strings break every field except a free-form string, where they are plain text
  // (a prompt may say "NaN").
  if (node.type !== 'string' || node.enum) bad.push('NaN', 'Infinity', '-Infinity');
  if (node.type === 'integer' || node.type === 'number') {
    bad.push('12', true, 1e308, -1e308);
    if (node.maximum !== undefined) bad.push(node.maximum + 1, node.maximum * 1000);
    if (node.minimum !== undefined) bad.push(node.minimum - 1);
    if (node.type === 'integer') bad.push(1.5);
  } else if (node.type === 'string') {
    bad.push(12, false);
    if (node.maxLength !== undefined) bad.push('x'.repeat(node.maxLength + 1));
    if (node.enum) bad.push('not-a-valid-choice', '<script>alert(1)</script>');
  } else if (node.type === 'object' || node.anyOf) {
    bad.push('{}', 42, true);
  } else if (node.type === 'array') {
    bad.push([], 'start', [1, 2]);
  }
  return bad;
}

function setAt(target: Record<string, unknown>, path: string[], value: unknown, remove = false): void {
  let at = target;
  for (const key of path.slice(0, -1)) {
    if (typeof at[key] !== 'object' || at[key] === null) at[key] = {};
    at = at[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1]!;
  if (remove) delete at[last];
  else at[last] = value;
}

/**
 * `count` schema-derived mutations of `valid`: a field set to a bad value, a required field removed, or an
 * unknown field added at some level.
 */
export function schemaMutations(valid: Record<string, unknown>, count: number, seed = 20261127): HostileCase[] {
  const schema = z.toJSONSchema(CreatePredictionRequest, { io: 'input', unrepresentable: 'any' }) as JsonSchemaNode;
  const fields = fieldsOf(schema);
  const mutation = fc.oneof(
    fc.constantFrom(...fields).chain((f) => fc.constantFrom(...badValues(f.node)).map((v) => ({ kind: 'bad' as const, f, v }))),
    fc.constantFrom(...fields.filter((f) => f.required)).map((f) => ({ kind: 'missing' as const, f, v: undefined })),
    fc
      .constantFrom([], ['input'], ['input', 'deepcache'])
      .map((p) => ({ kind: 'unknown' as const, f: { path: [...p, 'surprise'], node: {}, required: false }, v: 1 })),
  );
  return fc.sample(mutation, { numRuns: count, seed }).map(({ kind, f, v }) => {
    const body = structuredClone(valid);
    // DeepCache settings given as an object so that nested mutations land inside it.
    if (f.path[1] === 'deepcache' && f.path.length > 2) setAt(body, ['input', 'deepcache'], { cache_interval: 3, cache_branch_id: 0 });
    setAt(body, f.path, v, kind === 'missing');
    return {
      name: `${kind} ${f.path.join('.')} = ${JSON.stringify(v)?.slice(0, 40)}`,
      body: JSON.stringify(body),
      contentType: 'application/json',
    };
  });
}

/** Hand-written hostile requests. */
export function handWrittenCases(valid: Record<string, unknown>): HostileCase[] {
  const json = (name: string, body: unknown): HostileCase => ({ name, body: JSON.stringify(body), contentType: 'application/json' });
  const input = valid.input as Record<string, unknown>;
  const nested = `${'['.repeat(5_000)}1${']'.repeat(5_000)}`;
  return [
    {
      name: 'huge body (1 MiB)',
      body: JSON.stringify({ ...valid, input: { ...input, prompt: 'x'.repeat(1 << 20) } }),
      contentType: 'application/json',
    },
    { name: 'deeply nested JSON', body: `{"model":"sd15-tiny-demo","input":${nested}}`, contentType: 'application/json' },
    { name: 'truncated JSON', body: JSON.stringify(valid).slice(0, 30), contentType: 'application/json' },
    { name: 'empty body', body: '', contentType: 'application/json' },
    { name: 'JSON null', body: 'null', contentType: 'application/json' },
    { name: 'JSON array', body: '[1,2,3]', contentType: 'application/json' },
    { name: 'form-encoded body', body: 'model=sd15-tiny-demo&input=x', contentType: 'application/x-www-form-urlencoded' },
    { name: 'text/plain body', body: JSON.stringify(valid), contentType: 'text/plain' },
    { name: 'bare NaN literal', body: '{"model":"sd15-tiny-demo","input":{"prompt":"a","width":NaN}}', contentType: 'application/json' },
    json('unknown model', { ...valid, model: 'gpt-image-1' }),
    json('neither model nor version', { input }),
    json('both model and version', { ...valid, version: 'deepcache/sd15-tiny-demo' }),
    json('version of another owner', { input, version: 'someone-else/sd15-tiny-demo' }),
    json('version id that names no model', { input, version: '0'.repeat(64) }),
    json('SQL injection in the model id', { ...valid, model: "sd15'; DROP TABLE predictions;--" }),
    json('path traversal in the model id', { ...valid, model: '../../etc/passwd' }),
    json('prototype pollution keys', JSON.parse('{"model":"sd15-tiny-demo","input":{"prompt":"a","__proto__":{"admin":true}}}')),
    json('unicode prompt over the limit', { ...valid, input: { ...input, prompt: '🦊'.repeat(2001) } }),
    json('zero-width and right-to-left characters in the model id', { ...valid, model: 'sd15\u200b-tiny\u202e-demo' }),
    json('size not a multiple of 64 for this model', { ...valid, input: { ...input, width: 72 } }),
    json('branch beyond the model range', { ...valid, input: { ...input, deepcache: { cache_interval: 3, cache_branch_id: 12 } } }),
    json('private webhook address', { ...valid, webhook: 'http://169.254.169.254/latest/meta-data' }),
    json('javascript: webhook', { ...valid, webhook: 'javascript:alert(1)' }),
  ];
}
