// Container probe for the GPU backend: asks GET /health-check on loopback and maps the JSON `status`
// to an exit code, because /health-check always answers HTTP 200 and an httpGet probe cannot tell
// STARTING from READY. Plain JavaScript so the production image runs it without a TypeScript loader.
//
//   node health-probe.mjs started   exit 0 once models are loaded (READY or BUSY)        → startupProbe
//   node health-probe.mjs ready     exit 0 only when READY (BUSY leaves the Service)     → readinessProbe
//   node health-probe.mjs live      exit 0 unless unreachable, non-200, SETUP_FAILED or
//                                   DEFUNCT (STARTING counts as alive)                    → livenessProbe, HEALTHCHECK
//
// Environment: PORT (default 8790), PROBE_TIMEOUT_MS (default 3000).

const ACCEPTED = {
  started: ['READY', 'BUSY'],
  ready: ['READY'],
  live: ['STARTING', 'READY', 'BUSY'],
};

const mode = process.argv[2];
if (!(mode in ACCEPTED)) {
  console.error(`usage: health-probe.mjs ${Object.keys(ACCEPTED).join('|')}`);
  process.exit(2);
}

const port = Number(process.env.PORT ?? '8790');
const timeoutMs = Number(process.env.PROBE_TIMEOUT_MS ?? '3000');
const url = `http://127.0.0.1:${port}/health-check`;

try {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (res.status !== 200) {
    console.error(`${mode}: ${url} answered HTTP ${res.status}`);
    process.exit(1);
  }
  const body = await res.json();
  const status = typeof body?.status === 'string' ? body.status : undefined;
  if (status === undefined) {
    console.error(`${mode}: ${url} answered without a status`);
    process.exit(1);
  }
  if (!ACCEPTED[mode].includes(status)) {
    const detail = typeof body.setup_error === 'string' ? ` (${body.setup_error.slice(0, 200)})` : '';
    console.error(`${mode}: status ${status}${detail}`);
    process.exit(1);
  }
  console.log(`${mode}: status ${status}, queue_depth ${body.queue_depth ?? '?'}`);
  process.exit(0);
} catch (err) {
  console.error(`${mode}: ${url} unreachable: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
