import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { deepcacheSvg, type PlotPoint } from './plot.js';

const points: PlotPoint[] = [
  { interval: 3, branch: 0, schedule: 'uniform', measured: 2.4, ceiling: 2.8 },
  { interval: 5, branch: 0, schedule: 'uniform', measured: 3.3, ceiling: 4.1 },
  { interval: 5, branch: 0, schedule: 'nonuniform', measured: 3.1, ceiling: 3.9 },
  { interval: 2, branch: 3, schedule: 'uniform', measured: 1.3, ceiling: 1.4 },
];

describe('deepcacheSvg', () => {
  it('draws a measured and a ceiling line per branch and a legend entry for each', () => {
    const svg = deepcacheSvg(points, 'test <chart>');
    expect(svg.match(/<polyline /g)).toHaveLength(4);
    expect(svg).toContain('branch 0 measured');
    expect(svg).toContain('branch 3 MAC ceiling');
    expect(svg).toContain('non-uniform');
    expect(svg).toContain('test &lt;chart&gt;');
  });
  it('renders to a PNG of the declared size', async () => {
    const meta = await sharp(Buffer.from(deepcacheSvg(points, 't')))
      .png()
      .toBuffer()
      .then((b) => sharp(b).metadata());
    expect(meta.format).toBe('png');
    expect(meta.width).toBe(840);
  });
  it('refuses an empty chart', () => {
    expect(() => deepcacheSvg([], 't')).toThrow(RangeError);
  });
});
