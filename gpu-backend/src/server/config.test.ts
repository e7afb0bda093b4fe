import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { WorkerId } from '../../../shared/fleet.js';
import { ConfigError, configEnvNames, defaultWorkerId, loadConfig } from './config.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const valid = {
  EDGE_URL: 'https://api.example.com',
  INTERNAL_SECRET: 'x'.repeat(32),
  MODELS: 'sd15-tiny-demo=models/tiny,stable-diffusion-1.5=/abs/sd15',
  MODEL_DIR: '/models',
  S3_BUCKET: 'image-outputs',
};

function errorFor(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig', () => {
  it('applies defaults and resolves model directories against MODEL_DIR', () => {
    const c = loadConfig(valid);
    expect(c.port).toBe(8790);
    expect(c.providers).toEqual(['cpu']);
    expect(c.models).toEqual([
      { id: 'sd15-tiny-demo', dir: '/models/models/tiny' },
      { id: 'stable-diffusion-1.5', dir: '/abs/sd15' },
    ]);
    expect(c.s3.credentials).toBeUndefined();
    expect(c.deepcacheBranches).toBeUndefined();
    expect(c.fleet).toMatchObject({
      edgeUrl: 'https://api.example.com',
      leaseWaitMs: 20_000,
      timeoutMs: 10_000,
      backoff: { baseDelayMs: 500, maxDelayMs: 30_000 },
    });
  });

  it('names the worker after the host and process unless WORKER_ID says otherwise', () => {
    const a = loadConfig(valid).fleet.workerId;
    const b = loadConfig(valid).fleet.workerId;
    expect(a).toMatch(new RegExp(`-${process.pid}-[0-9a-f]{6}$`));
    expect(a).not.toBe(b);
    expect(loadConfig({ ...valid, WORKER_ID: 'gpu-7.pod:1' }).fleet.workerId).toBe('gpu-7.pod:1');
    // hostnames with characters a worker id does not allow, and very long ones, still give a valid id
    for (const host of ['host name/with*odd#chars', 'h'.repeat(300), ''])
      expect(WorkerId.safeParse(defaultWorkerId(host, 42)).success).toBe(true);
    expect(defaultWorkerId('h'.repeat(300), 42)).toHaveLength(128);
  });

  it("takes LEASE_WAIT_MS up to the protocol's longest long poll", () => {
    expect(loadConfig({ ...valid, LEASE_WAIT_MS: '25000' }).fleet.leaseWaitMs).toBe(25_000);
    expect(loadConfig({ ...valid, LEASE_WAIT_MS: '0' }).fleet.leaseWaitMs).toBe(0);
    expect(errorFor({ ...valid, LEASE_WAIT_MS: '25001' }).variable).toBe('LEASE_WAIT_MS');
  });

  it('parses lists, numbers and booleans', () => {
    const c = loadConfig({
      ...valid,
      EXECUTION_PROVIDERS: 'cuda, webgpu,cpu',
      DEEPCACHE_BRANCHES: '0,3',
      QUEUE_CAPACITY: '7',
      S3_FORCE_PATH_STYLE: 'true',
      S3_ACCESS_KEY_ID: 'a',
      S3_SECRET_ACCESS_KEY: 'b',
    });
    expect(c.providers).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(c.deepcacheBranches).toEqual([0, 3]);
    expect(c.queueCapacity).toBe(7);
    expect(c.s3.forcePathStyle).toBe(true);
    expect(c.s3.credentials).toEqual({ accessKeyId: 'a', secretAccessKey: 'b' });
  });

  it.each([
    [{ QUEUE_CAPACITY: 'lots' }, 'QUEUE_CAPACITY'],
    [{ QUEUE_CAPACITY: '0' }, 'QUEUE_CAPACITY'],
    [{ EXECUTION_PROVIDERS: 'cuda,tpu' }, 'EXECUTION_PROVIDERS'],
    [{ INTRA_OP_THREADS: '0' }, 'INTRA_OP_THREADS'],
    [{ MODELS: 'no-directory' }, 'MODELS'],
    [{ MODELS: 'Bad_Id=/m' }, 'MODELS'],
    [{ S3_BUCKET: 'Not A Bucket' }, 'S3_BUCKET'],
    [{ S3_ENDPOINT: 'ftp://x' }, 'S3_ENDPOINT'],
    [{ S3_ACCESS_KEY_ID: 'only-half' }, 'S3_SECRET_ACCESS_KEY'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ OUTPUT_PREFIX: '../escape' }, 'OUTPUT_PREFIX'],
    [{ EDGE_URL: '' }, 'EDGE_URL'],
    [{ EDGE_URL: 'not a url' }, 'EDGE_URL'],
    [{ EDGE_URL: 'ftp://edge' }, 'EDGE_URL'],
    [{ WORKER_ID: 'has space' }, 'WORKER_ID'],
    [{ WORKER_ID: 'w'.repeat(129) }, 'WORKER_ID'],
    [{ LEASE_WAIT_MS: '-1' }, 'LEASE_WAIT_MS'],
    [{ FLEET_BACKOFF_BASE_MS: '1000', FLEET_BACKOFF_MAX_MS: '10' }, 'FLEET_BACKOFF_MAX_MS'],
  ])('names the variable in the error for %j', (patch, variable) => {
    const err = errorFor({ ...valid, ...patch });
    expect(err.variable).toBe(variable);
    expect(err.message).toMatch(new RegExp(`^invalid configuration: ${variable}: `));
  });

  it('reports a missing required variable and never echoes a secret', () => {
    const { INTERNAL_SECRET: _, ...rest } = valid;
    expect(errorFor(rest).message).toContain('INTERNAL_SECRET');
    const short = errorFor({ ...valid, INTERNAL_SECRET: 'tooshort-secret-value' });
    expect(short.variable).toBe('INTERNAL_SECRET');
    expect(short.message).not.toContain('tooshort-secret-value');
  });

  it('lists every variable it reads', () => {
    expect(configEnvNames).toEqual(
      expect.arrayContaining([
        'EDGE_URL',
        'WORKER_ID',
        'LEASE_WAIT_MS',
        'PORT',
        'INTERNAL_SECRET',
        'MODELS',
        'S3_BUCKET',
        'QUEUE_CAPACITY',
        'DRAIN_TIMEOUT_MS',
      ]),
    );
    expect(configEnvNames).not.toContain('RETRY_AFTER_S');
  });
});

describe('main.ts with a bad configuration', () => {
  it('prints one line naming the variable and exits non-zero', async () => {
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...valid, MAX_BATCH_SIZE: 'big' };
    const child = spawn('npx', ['tsx', 'gpu-backend/src/main.ts'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^invalid configuration: MAX_BATCH_SIZE: must be a whole number/)]);
    expect(stdout).toBe('');
  });
});
