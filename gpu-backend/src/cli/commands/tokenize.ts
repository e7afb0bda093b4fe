/** `tokenize --tokenizer <dir | bpe .txt.gz> [--max-length 77] <prompt>` → `{ids, input_ids}`. @module */
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { ClipTokenizer } from '../../tokenizer/clip-tokenizer.js';
import { numeric, parseOptions, UsageError, type Command } from '../command.js';

const Options = z.strictObject({
  tokenizer: z.string().min(1),
  'max-length': numeric(z.number().int().min(2).max(4096)).default(77),
});

export const tokenize: Command = {
  usage: 'tokenize --tokenizer <dir | bpe .txt.gz> [--max-length 77] <prompt>',
  async run(argv) {
    const { values, positionals } = parseOptions(argv, { tokenizer: { type: 'string' }, 'max-length': { type: 'string' } }, Options);
    if (positionals.length !== 1) throw new UsageError('give exactly one prompt (quote it)');
    const source = values.tokenizer;
    const tok = (await stat(source)).isDirectory() ? await ClipTokenizer.fromHfFolder(source) : await ClipTokenizer.fromBpeGz(source);
    const ids = tok.encode(positionals[0]!);
    const inputIds = Array.from(tok.encodeForModel(positionals[0]!, { maxLength: values['max-length'] }));
    return { json: { ids, input_ids: inputIds }, text: `ids: ${ids.join(' ')}\ninput_ids: ${inputIds.join(' ')}` };
  },
};
