/**
 * The DeepCache chart: speed-up vs cache interval, one colour per branch, measured U-Net-loop speed-up (solid)
 * against the MAC ceiling with attention (dashed); the non-uniform schedule as a diamond. An SVG written here,
 * rendered to PNG with sharp.
 * @module
 */
import sharp from 'sharp';

/** One point of the chart. */
export interface PlotPoint {
  readonly interval: number;
  readonly branch: number;
  readonly schedule: 'uniform' | 'nonuniform';
  readonly measured: number;
  readonly ceiling: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const W = 840,
  H = 500,
  L = 70,
  R = 210,
  T = 50,
  B = 60;

const esc = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

function niceMax(x: number): number {
  const step = x <= 5 ? 1 : x <= 12 ? 2 : 5;
  return Math.ceil(x / step) * step;
}

/**
 * The chart as SVG text.
 * @param title first line of the title
 */
export function deepcacheSvg(points: readonly PlotPoint[], title: string): string {
  if (points.length === 0) throw new RangeError('nothing to plot');
  const xMax = Math.max(...points.map((p) => p.interval)) + 1;
  const yMax = niceMax(Math.max(...points.flatMap((p) => [p.measured, p.ceiling])) * 1.05);
  const x = (v: number) => L + (v / xMax) * (W - L - R);
  const y = (v: number) => H - B - (v / yMax) * (H - T - B);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="24" font-size="15" text-anchor="middle">${esc(title)}</text>`);
  const yStep = yMax <= 5 ? 0.5 : yMax <= 12 ? 1 : 2;
  for (let v = 0; v <= yMax + 1e-9; v += yStep) {
    out.push(`<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${L - 8}" y="${y(v) + 4}" font-size="11" text-anchor="end">${v.toFixed(yStep < 1 ? 1 : 0)}×</text>`);
  }
  for (let v = 1; v < xMax; v++) {
    out.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${H - B}" y2="${H - B + 5}" stroke="#333"/>`);
    out.push(`<text x="${x(v)}" y="${H - B + 19}" font-size="11" text-anchor="middle">${v}</text>`);
  }
  out.push(
    `<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#333"/><line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#333"/>`,
  );
  out.push(
    `<text x="${(L + W - R) / 2}" y="${H - 18}" font-size="13" text-anchor="middle">cache interval (full U-Net every N steps)</text>`,
  );
  out.push(
    `<text transform="translate(18 ${(T + H - B) / 2}) rotate(-90)" font-size="13" text-anchor="middle">U-Net loop speed-up vs no cache</text>`,
  );
  out.push(`<line x1="${x(1)}" x2="${W - R}" y1="${y(1)}" y2="${y(1)}" stroke="#999" stroke-dasharray="2 3"/>`);

  const branches = [...new Set(points.map((p) => p.branch))].sort((a, b) => a - b);
  let legendY = T + 10;
  for (const [i, b] of branches.entries()) {
    const color = COLORS[i % COLORS.length]!;
    const uni = [...points.filter((p) => p.branch === b && p.schedule === 'uniform')].sort((p, q) => p.interval - q.interval);
    const line = (key: 'measured' | 'ceiling') =>
      [{ interval: 1, v: 1 }, ...uni.map((p) => ({ interval: p.interval, v: p[key] }))]
        .map((p) => `${x(p.interval).toFixed(1)},${y(p.v).toFixed(1)}`)
        .join(' ');
    if (uni.length > 0) {
      out.push(`<polyline points="${line('ceiling')}" fill="none" stroke="${color}" stroke-width="1.5" stroke-dasharray="6 4"/>`);
      out.push(`<polyline points="${line('measured')}" fill="none" stroke="${color}" stroke-width="2.5"/>`);
    }
    for (const p of uni) {
      out.push(`<circle cx="${x(p.interval)}" cy="${y(p.ceiling)}" r="4" fill="white" stroke="${color}" stroke-width="1.5"/>`);
      out.push(`<circle cx="${x(p.interval)}" cy="${y(p.measured)}" r="4.5" fill="${color}"/>`);
      out.push(`<text x="${x(p.interval) + 7}" y="${y(p.measured) + 14}" font-size="10" fill="${color}">${p.measured.toFixed(2)}</text>`);
    }
    for (const p of points.filter((q) => q.branch === b && q.schedule === 'nonuniform')) {
      const cx = x(p.interval) + 6,
        cy = y(p.measured);
      out.push(
        `<path d="M ${cx} ${cy - 6} L ${cx + 6} ${cy} L ${cx} ${cy + 6} L ${cx - 6} ${cy} Z" fill="${color}" stroke="black" stroke-width="0.8"/>`,
      );
      out.push(
        `<path d="M ${cx} ${y(p.ceiling) - 5} L ${cx + 5} ${y(p.ceiling)} L ${cx} ${y(p.ceiling) + 5} L ${cx - 5} ${y(p.ceiling)} Z" fill="white" stroke="${color}" stroke-width="1.2"/>`,
      );
    }
    out.push(`<line x1="${W - R + 15}" x2="${W - R + 45}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="2.5"/>`);
    out.push(`<text x="${W - R + 52}" y="${legendY + 4}" font-size="12">branch ${b} measured</text>`);
    legendY += 20;
    out.push(
      `<line x1="${W - R + 15}" x2="${W - R + 45}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    );
    out.push(`<text x="${W - R + 52}" y="${legendY + 4}" font-size="12">branch ${b} MAC ceiling</text>`);
    legendY += 26;
  }
  if (points.some((p) => p.schedule === 'nonuniform')) {
    const cx = W - R + 30;
    out.push(
      `<path d="M ${cx} ${legendY - 6} L ${cx + 6} ${legendY} L ${cx} ${legendY + 6} L ${cx - 6} ${legendY} Z" fill="#777" stroke="black" stroke-width="0.8"/>`,
    );
    out.push(`<text x="${W - R + 52}" y="${legendY + 4}" font-size="12">non-uniform</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

/** Renders SVG text to a PNG file. */
export async function writePng(svg: string, file: string): Promise<void> {
  await sharp(Buffer.from(svg), { density: 144 }).png().toFile(file);
}
