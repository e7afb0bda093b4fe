/**
 * `bench ceiling`: MAC table of SD 1.5 / SD 2.1 / SDXL (full width, shapes only) at their native sizes (and SD 1.5
 * at 256², the DeepCache benchmark's size): full and shallow GMACs per branch, and the MAC-ratio ceiling of each case.
 * @module
 */
import type { SyntheticArch } from '../../gpu-backend/src/synthetic/index.js';
import type { Benchmark } from '../lib/benchmark.js';
import { machineInfo } from '../lib/machine.js';
import { fmt, formatTable } from '../lib/report.js';
import { round } from '../lib/stats.js';
import { DEEPCACHE_CASES, caseLabel } from '../deepcache/cases.js';
import { archCeiling, type ArchCeiling } from './macs.js';

const TARGETS: ReadonlyArray<{ arch: SyntheticArch; side: number }> = [
  { arch: 'sd15', side: 512 },
  { arch: 'sd15', side: 256 },
  { arch: 'sd21', side: 768 },
  { arch: 'sdxl', side: 1024 },
];

const g = (macs: number) => macs / 1e9;

function tables(rows: readonly ArchCeiling[]): string {
  const out: string[] = [];
  const maxBranches = Math.max(...rows.map((r) => r.branches.length));
  out.push('GMACs per sample per U-Net evaluation (paper convention = conv + linear; + attention matmuls in brackets)');
  out.push(
    formatTable(
      [{ header: 'graph', align: 'left' }, ...rows.map((r) => ({ header: `${r.arch} ${r.side}²` }))],
      [
        ['full', ...rows.map((r) => `${fmt(g(r.branches[0]!.full.paper), 1)} (+${fmt(g(r.branches[0]!.full.attention), 1)})`)],
        ...Array.from({ length: maxBranches }, (_, b) => [
          `shallow b${b}`,
          ...rows.map((r) => {
            const x = r.branches[b];
            return x ? `${fmt(g(x.shallow.paper), 2)} (+${fmt(g(x.shallow.attention), 2)})` : '–';
          }),
        ]),
      ],
    ),
  );
  out.push('');
  out.push("MAC-ratio ceiling per case, 50 steps of each model's default scheduler (with attention / paper convention)");
  out.push(
    formatTable(
      [{ header: 'case', align: 'left' }, ...rows.map((r) => ({ header: `${r.arch} ${r.side}² ${r.scheduler} (${r.loopSteps})` }))],
      DEEPCACHE_CASES.map((c) => [
        caseLabel(c),
        ...rows.map((r) => {
          const x = r.cases[caseLabel(c)];
          return x ? `${fmt(x.withAttention)} / ${fmt(x.paper)}` : '–';
        }),
      ]),
    ),
  );
  return out.join('\n');
}

export const ceilingBenchmark: Benchmark = {
  name: 'ceiling',
  describe: 'MAC table (full/shallow GMACs per branch) and DeepCache MAC ceilings, SD 1.5 / 2.1 / SDXL, shapes only',
  async run(args, log) {
    const rows: ArchCeiling[] = [];
    for (const t of TARGETS) {
      log(`${t.arch} ${t.side}²`);
      rows.push(archCeiling(t.arch, t.side));
    }
    const headline = {
      models: rows.map((r) => ({
        arch: r.arch,
        side: r.side,
        full_gmacs: round(g(r.branches[0]!.full.paper)),
        full_attention_gmacs: round(g(r.branches[0]!.full.attention)),
        shallow_gmacs: r.branches.map((b) => round(g(b.shallow.paper))),
        ceilings: Object.fromEntries(Object.entries(r.cases).map(([k, v]) => [k, v ? round(v.withAttention) : null])),
      })),
    };
    return { text: tables(rows), payload: { machine: machineInfo(args.provider, args.threads), rows, headline }, headline };
  },
};
