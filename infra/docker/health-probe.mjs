// Container health probe for the GPU backend (Docker HEALTHCHECK): asks one of the backend's unsigned probe paths
// on loopback, which answer 200 or 503 by health state, and maps the answer to an exit code. Plain JavaScript so
// the production image runs it without a TypeScript loader. (Kubernetes uses httpGet probes on the same paths.)
//
//   node health-probe.mjs started   GET /started: 200 once models are loaded (READY or BUSY)
//   node health-probe.mjs ready     GET /ready:   200 only when READY
//   node health-probe.mjs live      GET /live:    200 unless SETUP_FAILED or DEFUNCT (STARTING counts as alive)
//
// Environment: PORT (default 8790), PROBE_TIMEOUT_MS (default 3000).

const MODES = ['started', 'ready', 'live'];

const mode = process.argv[2];
if (!MODES.includes(mode)) {
  console.error(`usage: health-probe.mjs ${MODES.join('|')}`);
  process.exit(2);
}

const port = Number(process.env.PORT ?? '8790');
const timeoutMs = Number(process.env.PROBE_TIMEOUT_MS ?? '3000');
const url = `http://127.0.0.1:${port}/${mode}`;

try {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = (await res.text()).slice(0, 200);
  if (res.status !== 200) {
    console.error(`${mode}: ${url} answered HTTP ${res.status} ${text}`);
    process.exit(1);
  }
  console.log(`${mode}: ${text}`);
  process.exit(0);
} catch (err) {
  console.error(`${mode}: ${url} unreachable: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
