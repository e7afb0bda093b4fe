/**
 * The fleet benchmark's throughput plan (pure): how many backends each step runs with and how many predictions
 * it creates at once, so that every backend has a backlog for the whole step.
 * @module
 */

/** One throughput step. */
export interface ThroughputStep {
  backends: number;
  predictions: number;
}

/**
 * Steps for 1..`maxBackends` backends with `perBackend` predictions per backend (a backlog that grows with the
 * fleet, so a bigger fleet is not measured on a shorter run).
 * @throws RangeError when a count is not a positive integer
 */
export function throughputPlan(maxBackends: number, perBackend: number): ThroughputStep[] {
  for (const [name, n] of [
    ['maxBackends', maxBackends],
    ['perBackend', perBackend],
  ] as const) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer, not ${n}`);
  }
  return Array.from({ length: maxBackends }, (_, i) => ({ backends: i + 1, predictions: (i + 1) * perBackend }));
}
