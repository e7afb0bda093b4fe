import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { writeHfTokenizerFiles } from './bpe-files.js';
import { ClipTokenizer, normalizeClipText } from './clip-tokenizer.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const fixtureDir = path.resolve(repoRoot, 'test/fixtures/clip-tokenizer');
const bpeGz = path.resolve(repoRoot, 'gpu-backend/src/tokenizer/vocab/bpe_simple_vocab_16e6.txt.gz');

const CasesFile = z.object({
  cases: z.array(
    z.object({
      prompt: z.string(),
      ids: z.array(z.number().int()),
      input_ids_77: z.array(z.number().int()).length(77),
    }),
  ),
});
type Case = z.infer<typeof CasesFile>['cases'][number];

async function readCases(file: string): Promise<Case[]> {
  return CasesFile.parse(JSON.parse(await readFile(file, 'utf8'))).cases;
}

// The fixture's cases, plus (when the env var CLIP_TOKENIZER_CASES names a file in the same format as
// test/fixtures/clip-tokenizer/cases.json) that file's cases too, e.g. ids produced by openai/CLIP elsewhere.
const caseFiles = [path.join(fixtureDir, 'cases.json'), ...(process.env.CLIP_TOKENIZER_CASES ? [process.env.CLIP_TOKENIZER_CASES] : [])];
const cases: { file: string; c: Case }[] = [];
for (const file of caseFiles) for (const c of await readCases(file)) cases.push({ file: path.basename(file), c });

let tmp: string;
let fromGz: ClipTokenizer;
let fromHf: ClipTokenizer;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'clip-tok-'));
  await writeHfTokenizerFiles(path.join(tmp, 'sd15'), bpeGz);
  [fromGz, fromHf] = await Promise.all([ClipTokenizer.fromBpeGz(bpeGz), ClipTokenizer.fromHfFolder(path.join(tmp, 'sd15'))]);
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('ClipTokenizer', () => {
  describe.each(['bpe gz', 'hf folder'] as const)('loaded from %s', (source) => {
    const tok = (): ClipTokenizer => (source === 'bpe gz' ? fromGz : fromHf);

    it('has CLIP’s 49408-token vocabulary with start 49406 and end 49407', () => {
      expect([tok().vocabSize, tok().startId, tok().endId]).toEqual([49408, 49406, 49407]);
    });

    it.each(cases.map(({ file, c }) => [`${file}: ${JSON.stringify(c.prompt).slice(0, 60)}`, c] as const))(
      'encodes %s like openai/CLIP',
      (_name, c) => {
        expect(tok().encode(c.prompt)).toEqual(c.ids);
        expect(Array.from(tok().encodeForModel(c.prompt, { maxLength: 77 }))).toEqual(c.input_ids_77);
      },
    );
  });

  it('pads with <|endoftext|> when built from the gz (no config names a pad token)', () => {
    expect(fromGz.padSource).toBe('default-eos');
    expect(fromHf.padSource).toBe('config');
    expect(fromHf.padId).toBe(49407);
  });

  it('pads with id 0 when the folder’s special_tokens_map.json names "!" (SD 2.x style)', async () => {
    const dir = path.join(tmp, 'sd21');
    await writeHfTokenizerFiles(dir, bpeGz, { padToken: '!' });
    const tok = await ClipTokenizer.fromHfFolder(dir);
    expect(tok.padId).toBe(0);
    const row = tok.encodeForModel('a photo of a cat');
    expect(Array.from(row.slice(0, 7))).toEqual([49406, 320, 1125, 539, 320, 2368, 49407]);
    expect(row.slice(7).every((id) => id === 0)).toBe(true);
    expect(Array.from(tok.encodeForModel('a photo of a cat', { pad: 'eos' }).slice(7, 9))).toEqual([49407, 49407]);
  });

  it('reads the pad token from tokenizer_config.json when special_tokens_map.json is absent, AddedToken form included', async () => {
    const dir = path.join(tmp, 'cfg-only');
    await writeHfTokenizerFiles(dir, bpeGz);
    await rm(path.join(dir, 'special_tokens_map.json'));
    await writeFile(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ pad_token: { content: '!', __type: 'AddedToken' } }));
    expect((await ClipTokenizer.fromHfFolder(dir)).padId).toBe(0);
  });

  it('truncates to 76 tokens plus <|endoftext|> for long prompts', () => {
    const row = fromGz.encodeForModel('castle '.repeat(200));
    expect(row.length).toBe(77);
    expect(row[0]).toBe(49406);
    expect(row[76]).toBe(49407);
    expect(row.slice(1, 76).every((id) => id === fromGz.encode('castle')[1])).toBe(true);
  });

  it('honours a custom maxLength and rejects one below 2', () => {
    expect(Array.from(fromGz.encodeForModel('a photo', { maxLength: 6, pad: 0 }))).toEqual([49406, 320, 1125, 49407, 0, 0]);
    expect(() => fromGz.encodeForModel('a', { maxLength: 1 })).toThrow(RangeError);
  });

  it('html-unescapes twice before tokenizing', () => {
    expect(normalizeClipText('Fish &amp;amp; Chips')).toBe('fish & chips');
    expect(fromGz.encode('fish &amp;amp; chips')).toEqual(fromGz.encode('fish & chips'));
  });

  it('tokenizes 1000 varied prompts in well under a second after load', () => {
    const prompts = Array.from({ length: 1000 }, (_, i) => `${cases[i % cases.length]!.c.prompt} variant ${i} detailed`);
    const start = performance.now();
    for (const p of prompts) fromGz.encodeForModel(p);
    expect(performance.now() - start).toBeLessThan(500);
  });
});
