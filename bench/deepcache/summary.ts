/**
 * Tables and the headline JSON of the DeepCache benchmark (pure: report in, text and JSON out).
 * @module
 */
import { fmt, formatTable } from '../lib/report.js';
import { machineLine } from '../lib/machine.js';
import { round } from '../lib/stats.js';
import { PEER, SEED_TABLE } from './cases.js';
import type { DeepCacheReport } from './run.js';

/** The headline object: the last stdout line of `bench deepcache`. */
export interface DeepCacheHeadline {
  model: string;
  provider: string;
  width: number;
  height: number;
  steps: number;
  scheduler: string;
  results: Array<{
    interval: number;
    branch: number;
    schedule: string;
    unet_speedup: number;
    e2e_speedup: number;
    mac_ceiling: number;
    mac_ceiling_paper: number;
    fraction_of_ceiling: number;
    call_time_speedup: number;
    loop_s: number;
    e2e_s: number;
  }>;
  baseline_loop_s: number;
  baseline_e2e_s: number;
  /** (slowest − fastest) / fastest baseline loop across rounds: the machine's noise during the run. */
  baseline_spread: number;
  /** End-to-end speed-ups in process CPU time, by case label. */
  e2e_cpu_speedup: Record<string, number>;
  load_avg_1m_at_start: number;
  unet_call_ms: Record<string, number>;
  /** Our baseline loop time / the peer's no-cache time, when the run matches the peer's setting (else null). */
  loop_fraction_of_peer: number | null;
  /** Per-call comparison with the peer (any step count, the peer's size only). */
  full_call_fraction_of_peer: number | null;
  threads: number;
}

/** Whether the run has the peer's setting (256², 50 steps). */
function matchesPeer(r: DeepCacheReport): boolean {
  return r.side === PEER.side && r.steps === PEER.steps;
}

/** The headline JSON (`mac_ceiling` counts attention matmuls; `mac_ceiling_paper` is the paper's conv + linear). */
export function deepcacheHeadline(r: DeepCacheReport): DeepCacheHeadline {
  const fullCall = r.calls.find((c) => c.graph === 'full')!.medianMs;
  const peerCall = PEER.unetCallSeconds[r.side];
  return {
    model: r.model.name,
    provider: r.machine.provider,
    width: r.side,
    height: r.side,
    steps: r.steps,
    scheduler: r.scheduler,
    results: r.cases.map((c) => ({
      interval: c.case.interval,
      branch: c.case.branch,
      schedule: c.case.schedule,
      unet_speedup: round(c.unetSpeedup),
      e2e_speedup: round(c.e2eSpeedup),
      mac_ceiling: round(c.ceilingWithAttention),
      mac_ceiling_paper: round(c.ceilingPaper),
      fraction_of_ceiling: round(c.unetSpeedup / c.ceilingWithAttention),
      call_time_speedup: round(c.callTimeSpeedup),
      loop_s: round(c.run.loopMs / 1000, 2),
      e2e_s: round(c.run.e2eMs / 1000, 2),
    })),
    baseline_loop_s: round(r.baseline.loopMs / 1000, 2),
    baseline_e2e_s: round(r.baseline.e2eMs / 1000, 2),
    baseline_spread: round(r.baseline.spread),
    e2e_cpu_speedup: Object.fromEntries(r.cases.map((c) => [c.label, round(c.e2eCpuSpeedup)])),
    load_avg_1m_at_start: r.machine.load_avg_1m,
    unet_call_ms: Object.fromEntries(r.calls.map((c) => [c.graph, round(c.medianMs, 1)])),
    loop_fraction_of_peer: matchesPeer(r) ? round(r.baseline.loopMs / 1000 / PEER.noCacheSeconds) : null,
    full_call_fraction_of_peer: peerCall ? round(fullCall / 1000 / peerCall) : null,
    threads: r.machine.intra_op_threads,
  };
}

/** The readable tables: cases vs ceiling, single calls, the peer. */
export function deepcacheTables(r: DeepCacheReport): string {
  const lines: string[] = [];
  lines.push(
    `DeepCache on ${r.model.name}, ${r.side}×${r.side}, 1 image + CFG (U-Net batch 2), PLMS ${r.steps} steps (${r.loopSteps} U-Net evaluations)`,
  );
  lines.push(`machine: ${machineLine(r.machine)}`);
  lines.push('');
  const base = r.baseline;
  const repeats = r.runs.filter((x) => x.label === 'baseline').length;
  lines.push(
    `no-cache baseline: loop ${fmt(base.loopMs / 1000)} s, end-to-end ${fmt(base.e2eMs / 1000)} s (fastest of ${repeats} rounds; ` +
      `slowest baseline loop +${fmt(base.spread * 100, 0)}%)`,
  );
  lines.push(
    formatTable(
      [
        { header: 'case', align: 'left' },
        { header: 'full+shallow' },
        { header: 'loop s' },
        { header: 'e2e s' },
        { header: 'U-Net ×' },
        { header: 'e2e ×' },
        { header: 'e2e CPU ×' },
        { header: 'calls ×' },
        { header: 'ceiling ×' },
        { header: 'paper ×' },
        { header: 'of ceiling' },
        { header: 'seed table ×' },
      ],
      r.cases.map((c) => [
        c.label,
        `${c.fullSteps}+${c.shallowSteps}`,
        fmt(c.run.loopMs / 1000),
        fmt(c.run.e2eMs / 1000),
        fmt(c.unetSpeedup),
        fmt(c.e2eSpeedup),
        fmt(c.e2eCpuSpeedup),
        fmt(c.callTimeSpeedup),
        fmt(c.ceilingWithAttention),
        fmt(c.ceilingPaper),
        `${fmt((c.unetSpeedup / c.ceilingWithAttention) * 100, 0)}%`,
        fmt(SEED_TABLE[c.label]),
      ]),
    ),
  );
  lines.push('U-Net × = baseline loop / case loop (wall clock, fastest of the rounds); e2e CPU × = end-to-end in process CPU time;');
  lines.push('calls × = the loop speed-up predicted from per-call medians; ceiling × = MAC ratio with attention matmuls;');
  lines.push("paper × = conv + linear only (the paper's count); of ceiling = U-Net × / ceiling ×.");
  lines.push('');
  const full = r.ceilings[0]!.full;
  lines.push(`single U-Net calls (batch 2, median of ${r.calls[0]!.samplesMs.length}, interleaved):`);
  lines.push(
    formatTable(
      [
        { header: 'graph', align: 'left' },
        { header: 'median ms' },
        { header: 'spread' },
        { header: 'GMACs' },
        { header: 'MAC ratio' },
        { header: 'time ratio' },
        { header: 'peer ms' },
      ],
      r.calls.map((c) => {
        const macs = c.branch === null ? full : r.ceilings[c.branch]!.shallow;
        const fullMs = r.calls[0]!.medianMs;
        const peer = c.branch === null ? PEER.unetCallSeconds[r.side] : c.branch === 0 ? PEER.shallowB0CallSeconds[r.side] : undefined;
        return [
          c.graph,
          fmt(c.medianMs, 0),
          `${fmt(c.spread * 100, 0)}%`,
          fmt(macs.total / 1e9, 1),
          fmt(full.total / macs.total),
          fmt(fullMs / c.medianMs),
          peer === undefined ? '–' : fmt(peer * 1000, 0),
        ];
      }),
    ),
  );
  lines.push('');
  lines.push(`peer: ${PEER.description}`);
  const peerRows = [
    ['no cache', PEER.noCacheSeconds, r.baseline.loopMs, r.baseline.e2eMs, 1, 1] as const,
    ...r.cases
      .filter((c) => PEER.cases[c.label] !== undefined)
      .map(
        (c) =>
          [c.label, PEER.cases[c.label]!, c.run.loopMs, c.run.e2eMs, PEER.noCacheSeconds / PEER.cases[c.label]!, c.unetSpeedup] as const,
      ),
  ];
  const same = matchesPeer(r);
  lines.push(
    formatTable(
      [
        { header: 'case', align: 'left' },
        { header: 'peer s' },
        { header: 'peer ×' },
        { header: 'our loop s' },
        { header: 'our e2e s' },
        { header: 'our U-Net ×' },
        { header: 'loop / peer' },
      ],
      peerRows.map(([label, peerS, loopMs, e2eMs, peerX, ourX]) => [
        label,
        fmt(peerS, 1),
        fmt(peerX),
        fmt(loopMs / 1000),
        fmt(e2eMs / 1000),
        fmt(ourX),
        same ? fmt(loopMs / 1000 / peerS) : '–',
      ]),
    ),
  );
  lines.push(
    same
      ? `target: loop / peer ≤ ${fmt(PEER.targetLoopFraction)} (the peer's times are whole pipeline calls; ours are the loop alone and end-to-end)`
      : `loop / peer only at the peer's setting (${PEER.side}², ${PEER.steps} steps); this run has ${r.side}², ${r.steps} steps: compare ratios and single calls.`,
  );
  return lines.join('\n');
}
