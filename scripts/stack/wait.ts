/**
 * Polling helpers for start-up checks.
 * @module
 */

/**
 * Calls `probe` until it returns a value other than undefined.
 * @param abort returns a reason to stop early (e.g. the process exited), or undefined to keep waiting
 * @throws Error after `timeoutMs`, naming `what`
 */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  abort?: () => string | undefined,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    const reason = abort?.();
    if (reason !== undefined) throw new Error(`${what}: ${reason}`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = String(err);
    }
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${Math.round(timeoutMs / 1000)} s (${last})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
