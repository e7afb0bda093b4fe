import { describe, expect, it } from 'vitest';
import { freePortRun, isPortFree } from './ports.js';
import { randomStackPorts } from './start-stack.js';

describe('free ports for a stack', () => {
  it('finds a run of consecutive free ports outside the ones to avoid', async () => {
    const first = await freePortRun(3);
    const avoid = [first, first + 1, first + 2];
    const base = await freePortRun(3, avoid);
    const run = [base, base + 1, base + 2];
    expect(run.some((p) => avoid.includes(p))).toBe(false);
    for (const port of run) expect(await isPortFree(port), String(port)).toBe(true);
  });

  it('keeps every other part off the backends’ run', async () => {
    const ports = await randomStackPorts(3);
    const backends = [ports.backend, ports.backend + 1, ports.backend + 2];
    const others = [ports.edge, ports.s3, ports.inspector];
    expect(others.filter((p) => backends.includes(p))).toEqual([]);
    expect(new Set(others).size).toBe(others.length);
  });
});
