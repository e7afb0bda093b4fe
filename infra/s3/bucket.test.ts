import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { readYamlDocuments } from '../manifests.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const json = async (name: string): Promise<unknown> => JSON.parse(await readFile(path.join(here, name), 'utf8'));

/** The parts of S3's PutBucketLifecycleConfiguration body this project relies on. */
const Lifecycle = z
  .object({
    Rules: z
      .array(
        z
          .object({
            ID: z.string().min(1).max(255),
            Status: z.enum(['Enabled', 'Disabled']),
            Filter: z.object({ Prefix: z.string() }).strict(),
            Expiration: z.object({ Days: z.number().int().positive() }).strict().optional(),
            NoncurrentVersionExpiration: z.object({ NoncurrentDays: z.number().int().positive() }).strict().optional(),
            AbortIncompleteMultipartUpload: z.object({ DaysAfterInitiation: z.number().int().positive() }).strict().optional(),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();
const PublicAccessBlock = z
  .object({
    BlockPublicAcls: z.literal(true),
    IgnorePublicAcls: z.literal(true),
    BlockPublicPolicy: z.literal(true),
    RestrictPublicBuckets: z.literal(true),
  })
  .strict();

let config: Record<string, string>;
let productionVars: string;

beforeAll(async () => {
  const [cm] = (await readYamlDocuments(path.join(repoRoot, 'infra/k8s/configmap.yaml'))) as Array<{ data: Record<string, string> }>;
  config = cm!.data;
  const toml = await readFile(path.join(repoRoot, 'wrangler.toml'), 'utf8');
  productionVars = /\[env\.production\.vars\]([\s\S]*?)\n\[/.exec(toml)?.[1] ?? '';
});
const wranglerVar = (name: string) => new RegExp(`^${name}\\s*=\\s*"([^"]*)"`, 'm').exec(productionVars)?.[1];

describe('infra/s3 bucket documents', () => {
  it('blocks every form of public access', async () => {
    expect(PublicAccessBlock.safeParse(await json('public-access-block.json')).success).toBe(true);
    expect(PublicAccessBlock.safeParse({ ...((await json('public-access-block.json')) as object), BlockPublicPolicy: false }).success).toBe(
      false,
    );
  });

  it('expires generated images under the backend output prefix and aborts stale multipart uploads', async () => {
    const lc = Lifecycle.parse(await json('lifecycle.json'));
    const outputs = lc.Rules.find((r) => r.Expiration !== undefined);
    expect(outputs?.Status).toBe('Enabled');
    expect(outputs?.Filter.Prefix).toBe(`${config['OUTPUT_PREFIX']}/`);
    // Presigned URLs are minted per read; objects must outlive the longest presign lifetime (7 days max in SigV4).
    expect(outputs!.Expiration!.Days).toBeGreaterThanOrEqual(Math.ceil(Number(wranglerVar('S3_URL_TTL_SECONDS') ?? '604800') / 86_400));
    expect(lc.Rules.some((r) => r.Status === 'Enabled' && r.AbortIncompleteMultipartUpload !== undefined)).toBe(true);
  });

  it('names the same bucket and prefix as the backend ConfigMap and the production edge', async () => {
    const policy = (await json('bucket-policy.json')) as { Statement: Array<{ Resource: string[]; Effect: string; Condition?: unknown }> };
    const bucket = config['S3_BUCKET'];
    expect(policy.Statement[0]!.Resource).toEqual([`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`]);
    expect(policy.Statement[0]!.Effect).toBe('Deny');
    expect(wranglerVar('S3_BUCKET')).toBe(bucket);
    const edgePrefix = wranglerVar('S3_PREFIX');
    expect(edgePrefix === config['OUTPUT_PREFIX'] || edgePrefix?.startsWith(`${config['OUTPUT_PREFIX']}/`)).toBe(true);
  });

  it('encrypts at rest and disables ACLs', async () => {
    const enc = (await json('encryption.json')) as { Rules: Array<{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: string } }> };
    expect(['AES256', 'aws:kms']).toContain(enc.Rules[0]!.ApplyServerSideEncryptionByDefault.SSEAlgorithm);
    const own = (await json('ownership-controls.json')) as { Rules: Array<{ ObjectOwnership: string }> };
    expect(own.Rules[0]!.ObjectOwnership).toBe('BucketOwnerEnforced');
  });
});

describe('production edge and GPU fleet', () => {
  it('serve the same models: the edge SERVED_MODELS lists exactly the ids in the backend ConfigMap MODELS', () => {
    const fleet = config['MODELS']!.split(',')
      .map((entry) => entry.split('=')[0]!.trim())
      .sort();
    const edge = (wranglerVar('SERVED_MODELS') ?? '')
      .split(',')
      .map((id) => id.trim())
      .sort();
    expect(fleet.length).toBeGreaterThan(0);
    expect(edge).toEqual(fleet);
  });
});
