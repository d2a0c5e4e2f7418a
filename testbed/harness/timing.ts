import { waitFor } from './wait.ts';

/** waitFor that prints how long the condition took to hold, so slow convergence shows in CI logs. */
export async function timed<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number; since?: number } = {},
): Promise<{ value: T; ms: number }> {
  const start = opts.since ?? Date.now();
  const value = await waitFor(what, check, {
    timeoutMs: opts.timeoutMs ?? 30_000,
    intervalMs: opts.intervalMs ?? 200,
  });
  const ms = Date.now() - start;
  console.log(`[timing] ${what}: ${(ms / 1000).toFixed(1)} s`);
  return { value, ms };
}

export const report = (line: string) => console.log(`[measure] ${line}`);
