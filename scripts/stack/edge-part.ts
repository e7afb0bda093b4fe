/**
 * The edge in `wrangler dev` (workerd with local D1, Durable Objects and Queues): D1 migrations applied
 * locally first, vars on the command line and secrets in a generated env file (mode 0600), wrangler started as
 * `node …/wrangler.js dev` so that its PID is ours to stop; ready when `GET /openapi.json` answers.
 * @module
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runToCompletion, spawnPart, type LogSink, type ManagedChild } from './child.js';
import { waitUntil } from './wait.js';

export interface EdgePartOptions {
  root: string;
  port: number;
  inspectorPort: number;
  /** Local D1/DO/Queue state (`--persist-to`) and the generated env file live here. */
  stateDir: string;
  /** Worker vars (passed with `--var`); they override `wrangler.toml`'s `[vars]`. */
  vars: Record<string, string>;
  /** Secrets (written to the env file; wrangler only loads the names `wrangler.toml` declares). */
  secrets: Record<string, string>;
  /** SQL run once the migrations are applied, before the edge starts (idempotent statements). */
  seedSql?: string;
  log: LogSink;
  readyTimeoutMs?: number;
  /** Stops waiting for readiness (wrangler is then stopped). */
  signal?: AbortSignal;
}

/** The running edge. */
export interface EdgePart {
  readonly url: string;
  readonly child: ManagedChild;
  stop(): Promise<void>;
}

/**
 * Environment for every wrangler invocation: no network, no telemetry, logs inside the state folder. Names in
 * `shadowed` are removed: wrangler dev lets process variables override the env file, and ours must win.
 */
function wranglerEnv(stateDir: string, shadowed: readonly string[] = []): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of shadowed) delete env[name];
  return {
    ...env,
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    WRANGLER_SEND_METRICS: 'false',
    WRANGLER_LOG_PATH: path.join(stateDir, 'wrangler-logs'),
    NO_COLOR: '1',
  };
}

/** `node …/wrangler.js` plus arguments, as spawn arguments. */
function wrangler(root: string, args: string[]): { command: string; args: string[] } {
  return {
    command: process.execPath,
    args: [path.join(root, 'node_modules/wrangler/bin/wrangler.js'), ...args, '--config', path.join(root, 'wrangler.toml')],
  };
}

/** A dotenv line; values are single-quoted and must not contain quotes or newlines. */
function envLine(name: string, value: string): string {
  if (/['\n\r]/.test(value)) throw new Error(`edge setting ${name} must not contain a single quote or a newline`);
  return `${name}='${value}'`;
}

/** Applies migrations, seeds, starts `wrangler dev` and waits until the app answers. */
export async function startEdgePart(o: EdgePartOptions): Promise<EdgePart> {
  const persist = path.join(o.stateDir, 'wrangler-state');
  await mkdir(persist, { recursive: true });
  const env = wranglerEnv(o.stateDir, [...Object.keys(o.vars), ...Object.keys(o.secrets)]);
  const common = { cwd: o.root, env, log: o.log };
  await runToCompletion({
    name: 'migrate',
    ...common,
    ...wrangler(o.root, ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist]),
  });
  if (o.seedSql !== undefined) {
    const seedFile = path.join(o.stateDir, 'seed.sql');
    await writeFile(seedFile, o.seedSql, { mode: 0o600 });
    await runToCompletion({
      name: 'seed',
      ...common,
      ...wrangler(o.root, ['d1', 'execute', 'DB', '--local', '--persist-to', persist, '--file', seedFile, '--yes']),
    });
  }
  const envFile = path.join(o.stateDir, 'edge.env');
  await writeFile(
    envFile,
    `${Object.entries(o.secrets)
      .map(([k, v]) => envLine(k, v))
      .join('\n')}\n`,
    { mode: 0o600 },
  );

  const url = `http://127.0.0.1:${o.port}`;
  const dev = wrangler(o.root, [
    'dev',
    '--local',
    '--ip',
    '127.0.0.1',
    '--port',
    String(o.port),
    '--inspector-port',
    String(o.inspectorPort),
    '--persist-to',
    persist,
    '--env-file',
    envFile,
    '--show-interactive-dev-session=false',
    // wrangler dev does not fire cron triggers by itself; `/__scheduled` lets the cron driver below do it.
    '--test-scheduled',
    ...Object.entries(o.vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
  ]);
  const child = spawnPart({ name: 'edge', ...common, ...dev });
  await waitUntil(
    `edge on ${url}`,
    async () => ((await fetch(`${url}/openapi.json`, { signal: AbortSignal.timeout(2_000) })).ok ? true : undefined),
    o.readyTimeoutMs ?? 300_000,
    () => {
      if (o.signal?.aborted) return 'start-up interrupted';
      return child.hasExited() ? 'wrangler exited during start-up (see its log lines above)' : undefined;
    },
  ).catch(async (err: unknown) => {
    await child.stop(2_000);
    throw err;
  });
  const crons = driveCrons(url, await readCrons(path.join(o.root, 'wrangler.toml')), o.log);
  return {
    url,
    child,
    async stop() {
      crons.stop();
      if (!child.hasExited()) await child.stop();
    },
  };
}

/** Minutes between firings of a cron expression the driver understands (every minute, or every n minutes); else null. */
export function cronPeriodMinutes(cron: string): number | null {
  const match = /^(\*|\*\/(\d{1,2})) \* \* \* \*$/.exec(cron.trim());
  if (!match) return null;
  return match[2] === undefined ? 1 : Number(match[2]);
}

/** The top-level `[triggers] crons` of wrangler.toml (local development's triggers). */
export async function readCrons(wranglerToml: string): Promise<string[]> {
  const text = await readFile(wranglerToml, 'utf8');
  const line = /^\[triggers\]\s*\ncrons\s*=\s*\[([^\]]*)\]/m.exec(text);
  return line ? [...line[1]!.matchAll(/"([^"]+)"/g)].map((m) => m[1]!) : [];
}

/**
 * Fires each cron trigger through `wrangler dev --test-scheduled`'s `/__scheduled` route at its period, as
 * Cloudflare does in production (the reaper every minute, maintenance every ten). A failed firing is logged and
 * the next one comes at the next period.
 */
function driveCrons(url: string, crons: readonly string[], log: LogSink): { stop(): void } {
  const timers = crons.flatMap((cron) => {
    const minutes = cronPeriodMinutes(cron);
    if (minutes === null) {
      log('edge', `cron "${cron}" is not fired locally (only "* * * * *" and "*/n * * * *" are)`);
      return [];
    }
    const fire = () => {
      fetch(`${url}/__scheduled?cron=${encodeURIComponent(cron)}`, { signal: AbortSignal.timeout(60_000) })
        .then((res) => res.body?.cancel())
        .catch((err: unknown) => log('edge', `cron "${cron}" not fired: ${String(err)}`));
    };
    const timer = setInterval(fire, minutes * 60_000);
    timer.unref();
    return [timer];
  });
  return {
    stop() {
      for (const timer of timers) clearInterval(timer);
    },
  };
}
