/**
 * `pullModel`: downloads the files of an ONNX Stable Diffusion repository that the pipeline needs from the
 * Hugging Face Hub (or any server with the Hub's URL layout) into `<cacheDir>/<owner>--<name>/<revision>/`.
 *
 * Listing and downloading go through `@huggingface/hub`: `listFiles` reads `/api/models/<repo>/tree/<rev>`, and
 * `downloadFile` probes `/<repo>/resolve/<rev>/<path>` and returns a range-capable blob, whose `slice(offset)`
 * asks for `Range: bytes=offset-…`, so resuming a `.part` file needs no hand-written HTTP. What the library does
 * not do, and this module does: choosing files, writing through a `.part` file and appending to it, checking the
 * size against the listing and the content hash (SHA-256 against the LFS oid; git blob SHA-1 against the oid of
 * small non-LFS files), refusing a server that answers a range request with the whole file (appending that would
 * corrupt the file), progress, and moving a verified file into place.
 * @module
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { downloadFile, listFiles, type ListFileEntry } from '@huggingface/hub';
import { pullDestination, safeJoin, selectPullFiles, type PullSelection } from './pull-files.js';

/** A pull failed: listing, a download, a size or a hash check. `file` is the repository path concerned, if any. */
export class PullError extends Error {
  override readonly name = 'PullError';
  constructor(
    message: string,
    readonly file?: string,
    options?: { cause?: unknown },
  ) {
    super(file ? `${file}: ${message}` : message, options);
  }
}

/** Progress of a pull, reported after each chunk written and once per file that is skipped or completed. */
export interface PullProgress {
  readonly event: 'skipped' | 'progress' | 'completed';
  /** Repository path of the file concerned. */
  readonly file: string;
  readonly fileBytes: number;
  readonly fileSize: number;
  /** Bytes present locally over every selected file (skipped and resumed bytes included). */
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

/** Options for {@link pullModel}. */
export interface PullOptions extends PullSelection {
  /** `owner/name` of a model repository. */
  readonly repo: string;
  /** Branch, tag or commit (default `main`; many SD repositories keep their ONNX export on branch `onnx`). */
  readonly revision?: string;
  /** Root of the model cache. */
  readonly cacheDir: string;
  /** Hub access token (`hf_…`); defaults to env `HF_TOKEN`. Sent as `Authorization: Bearer`. */
  readonly token?: string;
  /** Hub base URL (default `https://huggingface.co`). */
  readonly hubUrl?: string;
  readonly onProgress?: (progress: PullProgress) => void;
}

/** What a pull did per file. */
export interface PullResult {
  /** The model directory, ready for `readModelDirectory`. */
  readonly dir: string;
  readonly files: readonly { readonly path: string; readonly size: number; readonly action: 'downloaded' | 'resumed' | 'skipped' }[];
}

/**
 * Wraps fetch so that a range request other than the library's `bytes=0-0` probe must be answered with 206:
 * a 200 would carry the whole file, and appending it to a `.part` file would corrupt it.
 */
function rangeCheckingFetch(base: typeof fetch): typeof fetch {
  return async function rangeCheckingFetch(input, init) {
    const response = await base(input, init);
    const range = new Headers(init?.headers).get('range');
    if (range && range !== 'bytes=0-0' && response.status === 200) {
      await response.body?.cancel();
      throw new PullError(`server ignored "Range: ${range}" (answered 200); cannot resume`);
    }
    return response;
  };
}

/** Git's object id of a blob: SHA-1 over `blob <size>\0` + content (the `oid` the Hub lists for non-LFS files). */
function gitBlobHasher(size: number): Hash {
  return createHash('sha1').update(`blob ${size}\0`);
}

interface Expected {
  readonly algorithm: 'sha256' | 'git-sha1';
  readonly digest: string;
  readonly hasher: Hash;
}

function expectedHash(entry: ListFileEntry): Expected | undefined {
  if (entry.lfs) return { algorithm: 'sha256', digest: entry.lfs.oid, hasher: createHash('sha256') };
  if (entry.oid) return { algorithm: 'git-sha1', digest: entry.oid, hasher: gitBlobHasher(entry.size) };
  return undefined;
}

async function sizeOf(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch {
    return undefined;
  }
}

async function hashExisting(file: string, hasher: Hash): Promise<void> {
  for await (const chunk of createReadStream(file)) hasher.update(chunk as Buffer);
}

/**
 * Downloads what the ONNX pipeline needs from a Hub repository (see `selectPullFiles`). Resumable: complete
 * files (right size; they were verified before being moved into place) are skipped, and a `<file>.part` left by an
 * interrupted pull is continued with an HTTP range request. Each file is checked against the listing's size and
 * hash before it is renamed into place; a file that fails is deleted, `.part` included.
 * @example await pullModel({ repo: 'owner/sd15-onnx', revision: 'onnx', cacheDir: '/models' })
 * @throws PullError on listing/download failures, a size or hash mismatch, or a repository without model_index.json
 */
export async function pullModel(options: PullOptions): Promise<PullResult> {
  const revision = options.revision ?? 'main';
  const dest = pullDestination(options.cacheDir, options.repo, revision);
  const accessToken = options.token ?? process.env.HF_TOKEN ?? undefined;
  const fetch = rangeCheckingFetch(globalThis.fetch);
  const hub = { repo: { type: 'model' as const, name: options.repo }, revision, hubUrl: options.hubUrl, accessToken, fetch };

  const entries = new Map<string, ListFileEntry>();
  try {
    for await (const entry of listFiles({ ...hub, recursive: true })) if (entry.type === 'file') entries.set(entry.path, entry);
  } catch (cause) {
    throw new PullError(`cannot list ${options.repo}@${revision}: ${(cause as Error).message}`, undefined, { cause });
  }
  const selected = selectPullFiles([...entries.keys()], options).map((p) => entries.get(p)!);
  if (!selected.some((e) => e.path === 'model_index.json')) {
    throw new PullError(`${options.repo}@${revision} has no model_index.json: not a diffusers repository`);
  }

  const bytesTotal = selected.reduce((sum, e) => sum + e.size, 0);
  let bytesDone = 0;
  const report = (event: PullProgress['event'], e: ListFileEntry, fileBytes: number): void =>
    options.onProgress?.({ event, file: e.path, fileBytes, fileSize: e.size, bytesDone, bytesTotal });

  const files: PullResult['files'][number][] = [];
  for (const entry of selected) {
    const target = safeJoin(dest, entry.path);
    if ((await sizeOf(target)) === entry.size) {
      bytesDone += entry.size;
      report('skipped', entry, entry.size);
      files.push({ path: entry.path, size: entry.size, action: 'skipped' });
      continue;
    }
    await mkdir(path.dirname(target), { recursive: true });
    const part = `${target}.part`;
    let offset = (await sizeOf(part)) ?? 0;
    if (offset > entry.size) {
      await rm(part);
      offset = 0;
    }
    const expected = expectedHash(entry);
    if (offset > 0 && expected) await hashExisting(part, expected.hasher);
    bytesDone += offset;

    if (offset < entry.size) {
      const blob = await downloadFile({ ...hub, path: entry.path, xet: false }).catch((cause: unknown) => {
        throw new PullError(`download failed: ${(cause as Error).message}`, entry.path, { cause });
      });
      if (!blob) throw new PullError('listed but not found on the server', entry.path);
      if (blob.size !== entry.size) throw new PullError(`server reports ${blob.size} bytes, the listing ${entry.size}`, entry.path);
      const handle = await open(part, 'a');
      let fileBytes = offset;
      try {
        for await (const chunk of Readable.fromWeb(
          (offset > 0 ? blob.slice(offset) : blob).stream() as import('node:stream/web').ReadableStream,
        )) {
          const bytes = chunk as Uint8Array;
          if (fileBytes + bytes.length > entry.size) throw new PullError(`server sent more than ${entry.size} bytes`, entry.path);
          await handle.write(bytes);
          expected?.hasher.update(bytes);
          fileBytes += bytes.length;
          bytesDone += bytes.length;
          report('progress', entry, fileBytes);
        }
      } catch (cause) {
        if (cause instanceof PullError) throw cause;
        throw new PullError(
          `download interrupted at byte ${fileBytes} (run the pull again to resume): ${(cause as Error).message}`,
          entry.path,
          { cause },
        );
      } finally {
        await handle.close();
      }
    } else if (entry.size === 0) {
      await writeFile(part, '');
    }

    const got = (await sizeOf(part)) ?? 0;
    const actual = expected?.hasher.digest('hex');
    if (got !== entry.size || (expected && actual !== expected.digest)) {
      await rm(part, { force: true });
      throw new PullError(
        got !== entry.size
          ? `got ${got} bytes, the listing says ${entry.size}; removed`
          : `${expected!.algorithm} ${actual} does not match the listing's ${expected!.digest}; removed`,
        entry.path,
      );
    }
    await rename(part, target);
    report('completed', entry, entry.size);
    files.push({ path: entry.path, size: entry.size, action: offset > 0 ? 'resumed' : 'downloaded' });
  }
  return { dir: dest, files };
}
