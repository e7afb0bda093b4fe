/**
 * Tables, result payload and headline of the serving benchmark from its raw samples.
 * @module
 */
import type { BenchArgs, BenchOutput } from '../lib/benchmark.js';
import { machineLine, type MachineInfo } from '../lib/machine.js';
import { fmt, formatTable } from '../lib/report.js';
import { round } from '../lib/stats.js';
import type { ApiSample } from './api.js';
import type { BareSample } from './bare.js';
import { pairedOverhead, summarize, type LatencySummary } from './summary.js';

/** What one benchmark run measured. */
export interface ServingRun {
  stack_start_s: number;
  model_id: string;
  model_dir: string;
  /** `bare[i]` and `api[i]` ran next to each other; `bare_first[i]` says in which order. */
  bare: BareSample[];
  api: ApiSample[];
  bare_first: boolean[];
}

export interface ServingReportInput {
  args: BenchArgs;
  side: number;
  steps: number;
  n: number;
  warmup: number;
  machine: MachineInfo;
  loadAtEnd: number;
  run: ServingRun;
}

/** Builds the tables, the full payload and the headline. */
export function servingReport(r: ServingReportInput): BenchOutput {
  const { bare, api } = r.run;
  const bareMs = bare.map((x) => x.total_ms);
  const apiMs = api.map((x) => x.create_ms);
  const predictMs = api.map((x) => x.predict_ms);
  const totalMs = api.flatMap((x) => (x.total_ms === undefined ? [] : [x.total_ms]));
  const overhead = pairedOverhead(bareMs, apiMs);
  const backendOverhead = pairedOverhead(bareMs, predictMs);
  const rows: Array<[string, LatencySummary]> = [
    ['bare pipeline (generate + encode)', summarize(bareMs)],
    [
      '  of which sharp encode',
      summarize(
        bare.map((x) => x.encode_ms),
        2,
      ),
    ],
    ['API create, Prefer: wait → 201', summarize(apiMs)],
    ['API − bare (paired)', overhead.absolute_ms],
    ['backend predict_time', summarize(predictMs)],
    ['predict_time − bare (paired)', backendOverhead.absolute_ms],
    ...(totalMs.length === api.length ? [['edge total_time (created → completed)', summarize(totalMs)] as [string, LatencySummary]] : []),
    ['API − predict_time', summarize(api.map((x) => x.create_ms - x.predict_ms))],
    [
      'presigned download',
      summarize(
        api.map((x) => x.download_ms),
        2,
      ),
    ],
    [
      'GET /v1/predictions/:id (presign)',
      summarize(
        api.map((x) => x.get_ms),
        2,
      ),
    ],
    ['create + download', summarize(api.map((x) => x.create_ms + x.download_ms))],
  ];
  const rel = overhead.relative;
  const identical = api.filter((a, i) => a.sha256 === bare[i]!.sha256).length;
  const settings = `${r.run.model_id}, ${r.side}², ${r.steps} steps (DDIM), DeepCache I3B0, CFG, PNG, ${r.n} requests each way after ${r.warmup} warm-up`;
  const text = [
    `serving overhead: ${settings}; stack start ${r.run.stack_start_s} s`,
    `machine: ${machineLine(r.machine)} (load at end ${r.loadAtEnd})`,
    formatTable(
      [{ header: 'ms per request', align: 'left' }, { header: 'p50' }, { header: 'p95' }, { header: 'min' }, { header: 'max' }],
      rows.map(([name, s]) => [name, fmt(s.p50, 1), fmt(s.p95, 1), fmt(s.min, 1), fmt(s.max, 1)]),
    ),
    '',
    `API overhead relative to the bare run (paired): p50 ${fmt(rel.p50 * 100, 1)} %, p95 ${fmt(rel.p95 * 100, 1)} %; ` +
      `p50(API) − p50(bare) = ${fmt(overhead.p50_difference_ms, 1)} ms`,
    `same request both ways: ${identical} of ${r.n} images byte-identical (SHA-256) through the API and bare; ` +
      `PNG ${Math.min(...api.map((a) => a.bytes))}–${Math.max(...api.map((a) => a.bytes))} bytes; U-Net steps full+shallow ${api[0]?.unet_full_steps ?? '–'}+${api[0]?.unet_shallow_steps ?? '–'}`,
  ].join('\n');
  const summaries = Object.fromEntries(rows.map(([name, s]) => [name.trim(), s]));
  const headline = {
    model: r.run.model_id,
    provider: r.args.provider,
    width: r.side,
    height: r.side,
    steps: r.steps,
    requests: r.n,
    bare_p50_ms: summaries['bare pipeline (generate + encode)']!.p50,
    api_p50_ms: summaries['API create, Prefer: wait → 201']!.p50,
    api_p95_ms: summaries['API create, Prefer: wait → 201']!.p95,
    overhead_p50_ms: overhead.absolute_ms.p50,
    overhead_p95_ms: overhead.absolute_ms.p95,
    overhead_rel_p50: rel.p50,
    overhead_rel_p95: rel.p95,
    predict_time_p50_ms: summaries['backend predict_time']!.p50,
    download_p50_ms: summaries['presigned download']!.p50,
    get_p50_ms: summaries['GET /v1/predictions/:id (presign)']!.p50,
    identical_images: identical,
    load_avg_1m: r.machine.load_avg_1m,
  };
  const payload = {
    machine: r.machine,
    load_avg_1m_at_end: r.loadAtEnd,
    settings,
    width: r.side,
    height: r.side,
    steps: r.steps,
    requests: r.n,
    warmup: r.warmup,
    stack_start_s: r.run.stack_start_s,
    model_dir: r.run.model_dir,
    identical_images: identical,
    summaries,
    overhead,
    backend_overhead: backendOverhead,
    samples: r.run.bare.map((b, i) => ({
      bare_first: r.run.bare_first[i],
      bare: roundAll(b),
      api: roundAll(r.run.api[i]!),
    })),
  };
  return { text, payload, headline };
}

function roundAll<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' && !Number.isInteger(v) ? round(v, 2) : v])) as T;
}
