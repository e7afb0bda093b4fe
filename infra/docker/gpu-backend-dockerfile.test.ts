import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { validate } from 'dockerfile-utils';
import { beforeAll, describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const dockerfilePath = path.join(here, 'gpu-backend.Dockerfile');

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Joins `\` continuations, drops comments and blank lines, splits `KEYWORD args`. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (buf === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) return;
    if (buf !== '' && line.trimStart().startsWith('#')) return;
    if (buf === '') start = i + 1;
    if (line.endsWith('\\')) {
      buf += `${line.slice(0, -1)} `;
      return;
    }
    buf += line;
    const m = /^\s*(\w+)\s*(.*)$/s.exec(buf)!;
    out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.replace(/\s+/g, ' ').trim(), line: start });
    buf = '';
  });
  return out;
}

let text: string;
let instructions: Instruction[];
let globalArgs: Record<string, string>;
let stages: Stage[];
let runtime: Stage;

const expand = (s: string) => s.replace(/\$\{?(\w+)\}?/g, (_, n: string) => globalArgs[n] ?? `$${n}`);
const argsOf = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

beforeAll(async () => {
  text = await readFile(dockerfilePath, 'utf8');
  instructions = parseDockerfile(text);
  globalArgs = {};
  stages = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const [image, as, name] = ins.args.split(' ');
      stages.push({ from: expand(image!), name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0 && ins.keyword === 'ARG') {
      const [k, v] = ins.args.split('=');
      globalArgs[k!] = v ?? '';
    } else {
      stages.at(-1)?.instructions.push(ins);
    }
  }
  runtime = stages.at(-1)!;
});

describe('infra/docker/gpu-backend.Dockerfile', () => {
  it('passes the dockerfile-utils linter with no diagnostics', () => {
    const diagnostics = validate(text);
    expect(diagnostics.map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
  });

  it('catches a broken instruction (the linter is live)', () => {
    expect(validate(`${text}\nHEALTHCHECK --interval=often CMD true\n`).length).toBeGreaterThan(0);
  });

  it('builds every stage from a tagged or digest-pinned image, never latest', () => {
    const external = stages.map((s) => s.from).filter((f) => !stages.some((s) => s.name === f));
    expect(external.length).toBeGreaterThan(0);
    for (const ref of external) {
      expect(ref, ref).toMatch(/^[\w./-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$/);
      expect(ref, ref).not.toMatch(/:latest$/);
    }
  });

  it('runs on a CUDA 12 + cuDNN runtime base with the Node version the repository pins', async () => {
    expect(runtime.from).toMatch(/^nvidia\/cuda:12\.\d+\.\d+-cudnn-runtime-ubuntu\d+\.\d+$/);
    const pkg = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect(globalArgs['NODE_VERSION']).toBe(pkg.devDependencies['node']);
    expect(text).toContain('sha256sum -c');
  });

  it('installs only the production dependencies of the backend workspace and forces the CUDA 12 provider of onnxruntime-node, checked', async () => {
    const runs = stages.flatMap((s) => argsOf(s, 'RUN'));
    const backend = JSON.parse(await readFile(path.join(repoRoot, 'gpu-backend/package.json'), 'utf8')) as { name: string };
    const prodInstall = runs.find((r) => /npm ci --omit=dev\b/.test(r));
    expect(prodInstall).toContain(`-w ${backend.name}`);
    const ort = runs.find((r) => r.includes('onnxruntime-node/script/install.js'));
    expect(ort).toMatch(/ONNXRUNTIME_NODE_INSTALL_CUDA=v12 /);
    expect(ort).toContain('libonnxruntime_providers_cuda.so');
    expect(ort).toMatch(/test -s/);
  });

  it('uses a flag value that onnxruntime-node maps to the cuda12 manifest, which holds the checked files', () => {
    const require = createRequire(import.meta.url);
    const ortDir = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const { parseInstallFlag } = require(path.join(ortDir, 'script/install-utils.js')) as { parseInstallFlag: () => unknown };
    const saved = { ...process.env };
    try {
      delete process.env['ONNXRUNTIME_NODE_INSTALL'];
      delete process.env['npm_config_onnxruntime_node_install'];
      process.env['ONNXRUNTIME_NODE_INSTALL_CUDA'] = 'v12';
      expect(parseInstallFlag()).toBe('cuda12');
    } finally {
      process.env = saved;
    }
    const metadata = require(path.join(ortDir, 'script/install-metadata.js')) as {
      manifests: Record<string, Record<string, unknown>>;
    };
    const files = Object.keys(metadata.manifests['linux/x64:cuda12'] ?? {}).map((f) => path.basename(f));
    for (const lib of ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so']) expect(files).toContain(lib);
  });

  it('runs as a non-root user under tini, with a health check and the model volume', () => {
    const user = argsOf(runtime, 'USER').at(-1);
    expect(user).toBeDefined();
    expect(user!.split(':')[0]).not.toMatch(/^(0|root)$/);
    expect(argsOf(runtime, 'ENTRYPOINT').at(-1)).toMatch(/tini/);
    expect(argsOf(runtime, 'HEALTHCHECK').at(-1)).toMatch(/health-probe\.mjs", "live"/);
    expect(argsOf(runtime, 'VOLUME').join(' ')).toContain('/models');
    expect(argsOf(runtime, 'ENV').join(' ')).toMatch(/\bMODEL_DIR=\/models\b/);
    expect(argsOf(runtime, 'CMD').at(-1)).toContain('/app/dist/gpu-backend.mjs');
  });

  it('declares no secrets in ENV or ARG', () => {
    const declared = instructions
      .filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG')
      .flatMap((i) => i.args.split(' ').map((kv) => kv.split('=')[0]!));
    expect(declared.filter((n) => /SECRET|PASSWORD|TOKEN|ACCESS_KEY|CREDENTIAL/i.test(n))).toEqual([]);
  });

  it('copies from the build context only paths that exist and that its .dockerignore lets through', async () => {
    const ignore = (await readFile(`${dockerfilePath}.dockerignore`, 'utf8'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1));
    const sources = instructions
      .filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) =>
        i.args
          .split(' ')
          .filter((a) => !a.startsWith('--'))
          .slice(0, -1),
      );
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources) {
      expect(existsSync(path.join(repoRoot, src)), src).toBe(true);
      expect(
        ignore.some((allowed) => src === allowed || src.startsWith(`${allowed}/`)),
        src,
      ).toBe(true);
    }
  });
});
