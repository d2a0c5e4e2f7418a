import { createServer } from 'node:net';

/** Asks the kernel for a free TCP port on 127.0.0.1 by binding port 0, then releases it. */
export function probeFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host, port: 0, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('kernel returned no port'))));
    });
  });
}

/**
 * Picks `count` distinct ports with `probe`, skipping any in `taken` (ports already handed to other
 * components of this testbed but not yet bound, so the kernel may offer them again). Gives up after
 * a bounded number of probes so a broken probe cannot loop forever.
 */
export async function pickPorts(
  count: number,
  probe: () => Promise<number>,
  taken: ReadonlySet<number> = new Set(),
): Promise<number[]> {
  const chosen: number[] = [];
  const seen = new Set(taken);
  const maxProbes = count * 20 + 20;
  for (let i = 0; i < maxProbes && chosen.length < count; i++) {
    const p = await probe();
    if (!Number.isInteger(p) || p <= 0 || p > 65535) throw new Error(`probe returned an invalid port: ${p}`);
    if (seen.has(p)) continue;
    seen.add(p);
    chosen.push(p);
  }
  if (chosen.length < count) {
    throw new Error(
      `could not find ${count} distinct free ports after ${maxProbes} probes (got ${chosen.length})`,
    );
  }
  return chosen;
}

/** A small allocator that remembers every port it handed out during one `up`. */
export class PortAllocator {
  readonly #taken = new Set<number>();
  readonly #probe: () => Promise<number>;

  constructor(probe: () => Promise<number> = () => probeFreePort(), taken: Iterable<number> = []) {
    this.#probe = probe;
    for (const p of taken) this.#taken.add(p);
  }

  async take(): Promise<number> {
    const [p] = await pickPorts(1, this.#probe, this.#taken);
    this.#taken.add(p!);
    return p!;
  }

  /** Replaces a port that turned out to be busy (lost the race between probe and bind). */
  async replace(busy: number): Promise<number> {
    this.#taken.add(busy);
    return this.take();
  }
}
