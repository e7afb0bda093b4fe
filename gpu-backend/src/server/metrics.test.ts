import { describe, expect, it } from 'vitest';
import { BackendMetricsRegistry, Counter, Histogram } from './metrics.js';
import { parsePrometheusText } from '../../../test/support/server/prometheus-text.js';

describe('metrics registry', () => {
  it('exposes valid Prometheus text with live gauges, labelled counters and cumulative histograms', () => {
    let depth = 3;
    const m = new BackendMetricsRegistry({ queueDepth: () => depth, running: () => 1 });
    m.batchSize.observe(1);
    m.batchSize.observe(3);
    m.stageSeconds.observe(0.02, { stage: 'inference' });
    m.unetSteps.inc({ kind: 'full' }, 4);
    m.unetSteps.inc({ kind: 'shallow' }, 6);
    m.errors.inc({ kind: 'upload' });
    depth = 5;
    const f = parsePrometheusText(m.expose());
    expect(f.get('gpu_backend_queue_depth')!.samples).toEqual([{ name: 'gpu_backend_queue_depth', labels: {}, value: 5 }]);
    const buckets = f.get('gpu_backend_batch_size')!.samples.filter((s) => s.name.endsWith('_bucket'));
    expect(buckets.find((s) => s.labels.le === '2')!.value).toBe(1);
    expect(buckets.find((s) => s.labels.le === '4')!.value).toBe(2);
    expect(f.get('gpu_backend_unet_steps_total')!.samples.map((s) => [s.labels.kind, s.value])).toEqual([
      ['full', 4],
      ['shallow', 6],
    ]);
  });

  it('escapes label values', () => {
    const c = new Counter('x_total', 'help');
    c.inc({ path: 'a"b\\c\nd' });
    const f = parsePrometheusText(`${c.expose()}\n`);
    expect(f.get('x_total')!.samples[0]!.labels.path).toBe('a"b\\c\nd');
  });

  it('refuses to decrease a counter', () => {
    expect(() => new Counter('y_total', 'h').inc({}, -1)).toThrow(RangeError);
  });

  it('keeps histogram series per label set', () => {
    const h = new Histogram('h_seconds', 'h', [1, 2]);
    h.observe(0.5, { stage: 'a' });
    h.observe(5, { stage: 'b' });
    expect([h.count({ stage: 'a' }), h.count({ stage: 'b' })]).toEqual([1, 1]);
    const f = parsePrometheusText(`${h.expose()}\n`);
    expect(
      f
        .get('h_seconds')!
        .samples.filter((s) => s.labels.le === '+Inf')
        .map((s) => s.value),
    ).toEqual([1, 1]);
  });
});
