import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cronPeriodMinutes, readCrons } from './edge-part.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('local cron driver', () => {
  it('reads the periods of every-minute and every-n-minutes triggers and refuses the rest', () => {
    expect(cronPeriodMinutes('* * * * *')).toBe(1);
    expect(cronPeriodMinutes('*/10 * * * *')).toBe(10);
    expect(cronPeriodMinutes('0 3 * * *')).toBeNull();
    expect(cronPeriodMinutes('*/5 * * * 1')).toBeNull();
  });

  it('fires every trigger the local configuration declares', async () => {
    const crons = await readCrons(path.join(repoRoot, 'wrangler.toml'));
    expect(crons.length).toBeGreaterThan(0);
    for (const cron of crons) expect(cronPeriodMinutes(cron), cron).not.toBeNull();
  });

  it('reads the top-level triggers, not an environment’s', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'crons-'));
    try {
      const file = path.join(dir, 'wrangler.toml');
      await writeFile(file, '[triggers]\ncrons = ["* * * * *", "*/10 * * * *"]\n\n[env.staging.triggers]\ncrons = ["0 * * * *"]\n');
      expect(await readCrons(file)).toEqual(['* * * * *', '*/10 * * * *']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
