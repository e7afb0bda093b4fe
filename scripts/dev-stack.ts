/**
 * `npm start`: runs the local stack in the foreground (S3 server, GPU backends on the CPU pulling work from the
 * edge, edge in `wrangler dev`), prints the URLs, the development API key and a ready-to-paste curl line,
 * streams every part's log with a prefix, and stops everything on Ctrl-C / SIGTERM. Settings come from the
 * environment: EDGE_PORT (8787), BACKEND_PORT (8790; backend i listens on BACKEND_PORT + i), BACKENDS_COUNT (1),
 * S3_PORT (9000), INSPECTOR_PORT (9230), DEV_API_KEY, DEV_CREDITS (100000), MODEL_DIR + MODEL_ID (a real model
 * instead of the demo), ADMIN_TOKEN (random), LOCAL_STATE_DIR (.local).
 * @module
 */
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_DEV_API_KEY } from './stack/seed.js';
import { DEFAULT_PORTS, REPO_ROOT, startStack, type Stack } from './stack/start-stack.js';

const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);

const DevEnv = z.object({
  EDGE_PORT: port(DEFAULT_PORTS.edge),
  BACKEND_PORT: port(DEFAULT_PORTS.backend),
  BACKENDS_COUNT: z.coerce.number().int().min(1).max(16).default(1),
  S3_PORT: port(DEFAULT_PORTS.s3),
  INSPECTOR_PORT: port(DEFAULT_PORTS.inspector),
  DEV_API_KEY: z.string().default(DEFAULT_DEV_API_KEY),
  DEV_CREDITS: z.coerce.number().int().min(0).max(1_000_000_000).default(100_000),
  MODEL_DIR: z.string().min(1).optional(),
  MODEL_ID: z.string().min(1).optional(),
  ADMIN_TOKEN: z.string().min(16).optional(),
  LOCAL_STATE_DIR: z.string().min(1).default('.local'),
});

/** The curl line printed for the user (also what the end-to-end test runs). */
function exampleCurl(edgeUrl: string, apiKey: string, modelId: string): string {
  const body = JSON.stringify({
    model: modelId,
    input: { prompt: 'a red fox in the snow', width: 64, height: 64, num_inference_steps: 8 },
  });
  return `curl -s ${edgeUrl}/v1/predictions -H 'Authorization: Bearer ${apiKey}' -H 'Content-Type: application/json' -H 'Prefer: wait' -d '${body}'`;
}

function banner(stack: Stack): string {
  return [
    '',
    'Local stack is ready.',
    `  playground  ${stack.edgeUrl}/`,
    `  API         ${stack.edgeUrl}/v1   (docs ${stack.edgeUrl}/docs)`,
    ...stack.backends.all().map((b) => `  backend     ${b.url}   (${b.workerId}, model ${stack.modelId})`),
    `  S3          ${stack.s3Endpoint}   (bucket ${stack.bucket})`,
    `  API key     ${stack.apiKey}`,
    `  admin token ${stack.adminToken}`,
    '',
    'Try:',
    `  ${exampleCurl(stack.edgeUrl, stack.apiKey, stack.modelId)}`,
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}

async function main(): Promise<number> {
  const parsed = DevEnv.safeParse(process.env);
  if (!parsed.success) {
    process.stderr.write(`npm start: bad setting: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}\n`);
    return 2;
  }
  const env = parsed.data;
  const stateDir = path.resolve(REPO_ROOT, env.LOCAL_STATE_DIR);
  let stack: Stack | undefined;
  const startup = new AbortController();
  let stopping: Promise<number> | undefined;
  const stop = (reason: string, code: number): Promise<number> => {
    stopping ??= (async () => {
      process.stdout.write(`[stack] ${reason}: stopping…\n`);
      startup.abort();
      await stack?.stop();
      process.stdout.write('[stack] stopped\n');
      return code;
    })();
    return stopping;
  };
  const signalled = new Promise<number>((resolve) => {
    // `on`, not `once`: a Ctrl-C reaches us twice (from the terminal and relayed by tsx), and a second signal
    // without a listener would kill the launcher before its children are stopped.
    process.on('SIGINT', () => resolve(stop('SIGINT', 0)));
    process.on('SIGTERM', () => resolve(stop('SIGTERM', 0)));
  });
  try {
    stack = await startStack({
      signal: startup.signal,
      ports: { edge: env.EDGE_PORT, backend: env.BACKEND_PORT, s3: env.S3_PORT, inspector: env.INSPECTOR_PORT },
      stateDir,
      apiKey: env.DEV_API_KEY,
      credits: env.DEV_CREDITS,
      ...(env.MODEL_DIR === undefined ? {} : { modelDir: path.resolve(env.MODEL_DIR) }),
      ...(env.MODEL_ID === undefined ? {} : { modelId: env.MODEL_ID }),
      ...(env.ADMIN_TOKEN === undefined ? {} : { adminToken: env.ADMIN_TOKEN }),
      backendsCount: env.BACKENDS_COUNT,
    });
  } catch (err) {
    if (stopping) {
      await stopping;
      return 130;
    }
    process.stderr.write(`[stack] failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  if (stopping) return stopping;
  process.stdout.write(banner(stack));
  const crashed = Promise.race([
    stack.edge.child.exited.then((e) => ({ part: 'edge', e })),
    ...stack.backends.all().map((b) => b.current().exited.then((e) => ({ part: `backend ${b.workerId}`, e }))),
  ]).then(({ part, e }) => stop(`the ${part} exited unexpectedly (${e.signal ?? `exit ${e.code}`})`, 1));
  return Promise.race([signalled, crashed]);
}

process.exit(await main());
