import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/clock.ts';
import { Registry } from './metrics.ts';
import { runWorkers, WorkQueue } from './workqueue.ts';

/** Lets pending promise callbacks run. */
const flush = async (rounds = 10) => {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
};

const queue = (opts: ConstructorParameters<typeof WorkQueue>[0] = {}) => {
  const clock = new ManualClock();
  return { clock, q: new WorkQueue({ clock, ...opts }) };
};

/** Takes everything currently waiting, marking each key done. */
async function takeAll(q: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (q.len() > 0) {
    const k = (await q.get()) as string;
    keys.push(k);
    q.done(k);
  }
  return keys;
}

describe('WorkQueue add/get/done', () => {
  it('hands keys out in the order they were added', async () => {
    const { q } = queue();
    q.add('a');
    q.add('b');
    q.add('c');
    expect(await takeAll(q)).toEqual(['a', 'b', 'c']);
  });

  it('queues a key that is already waiting only once', async () => {
    const { q } = queue();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.len()).toBe(2);
    expect(await takeAll(q)).toEqual(['a', 'b']);
  });

  it('makes get wait until a key is added', async () => {
    const { q } = queue();
    let got: string | undefined;
    const p = q.get().then((k) => {
      got = k;
    });
    await flush();
    expect(got).toBeUndefined();
    q.add('x');
    await p;
    expect(got).toBe('x');
  });

  it('does not hand out a key being processed; re-adding it queues it again after done', async () => {
    const { q } = queue();
    q.add('a');
    const first = await q.get();
    expect(first).toBe('a');
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => {
      second = k;
    });
    await flush();
    expect(second).toBeUndefined();
    q.done('a');
    await flush();
    expect(second).toBe('a');
    q.done('a');
    expect(q.len()).toBe(0);
    expect(q.processingCount()).toBe(0);
  });

  it('does not re-queue a processed key that was not added again', async () => {
    const { q } = queue();
    q.add('a');
    q.done((await q.get()) as string);
    expect(q.len()).toBe(0);
  });

  it('ignores done for a key it never handed out', () => {
    const { q } = queue();
    q.add('a');
    q.done('a');
    expect(q.len()).toBe(1);
  });

  it('serves several waiting getters in turn', async () => {
    const { q } = queue();
    const got: Array<string | undefined> = [];
    const ps = [q.get(), q.get()].map((p) => p.then((k) => got.push(k)));
    q.add('a');
    q.add('b');
    await Promise.all(ps);
    expect(got).toEqual(['a', 'b']);
    expect(q.processingCount()).toBe(2);
  });

  it('stays correct over many keys (compaction of the internal array)', async () => {
    const { q } = queue();
    for (let i = 0; i < 5000; i++) q.add(`k${i}`);
    const seen = await takeAll(q);
    expect(seen.length).toBe(5000);
    expect(seen[4999]).toBe('k4999');
    q.add('again');
    expect(await takeAll(q)).toEqual(['again']);
  });
});

describe('WorkQueue addAfter', () => {
  it('adds the key once the delay has passed', () => {
    const { q, clock } = queue();
    q.addAfter('a', 100);
    expect(q.len()).toBe(0);
    expect(q.delayedCount()).toBe(1);
    clock.advance(99);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.len()).toBe(1);
    expect(q.delayedCount()).toBe(0);
  });

  it('adds immediately for a zero or negative delay', () => {
    const { q } = queue();
    q.addAfter('a', 0);
    q.addAfter('b', -5);
    expect(q.len()).toBe(2);
  });

  it('keeps the earlier deadline when the same key is scheduled twice', () => {
    const { q, clock } = queue();
    q.addAfter('a', 1000);
    q.addAfter('a', 100);
    q.addAfter('a', 5000);
    clock.advance(100);
    expect(q.len()).toBe(1);
    expect(q.delayedCount()).toBe(0);
  });

  it('de-duplicates a delayed key that comes due while the key is still waiting', () => {
    const { q, clock } = queue();
    q.add('a');
    q.addAfter('a', 10);
    clock.advance(10);
    expect(q.len()).toBe(1);
  });
});

describe('WorkQueue addRateLimited', () => {
  it('backs a failing key off exponentially from 5 ms up to 60 s', () => {
    const { q } = queue({ qps: 1e9, burst: 1e9 });
    const delays = Array.from({ length: 16 }, () => q.nextDelay('a'));
    expect(delays).toEqual([
      5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 5120, 10240, 20480, 40960, 60000, 60000,
    ]);
    expect(q.numRequeues('a')).toBe(16);
  });

  it('keeps a separate backoff per key', () => {
    const { q } = queue({ qps: 1e9, burst: 1e9 });
    q.nextDelay('a');
    q.nextDelay('a');
    expect(q.nextDelay('a')).toBe(20);
    expect(q.nextDelay('b')).toBe(5);
  });

  it('starts over after forget', () => {
    const { q } = queue({ qps: 1e9, burst: 1e9 });
    q.nextDelay('a');
    q.nextDelay('a');
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
    expect(q.nextDelay('a')).toBe(5);
  });

  it('waits for the global bucket when many keys fail at once (delay = max of both)', () => {
    const { q } = queue({ qps: 10, burst: 2, baseDelayMs: 5 });
    expect(['a', 'b', 'c', 'd'].map((k) => q.nextDelay(k))).toEqual([5, 5, 100, 200]);
  });

  it('uses the per-key delay when it is longer than the bucket wait', () => {
    const { q } = queue({ qps: 10, burst: 1, baseDelayMs: 1000 });
    expect([q.nextDelay('a'), q.nextDelay('a')]).toEqual([1000, 2000]);
  });

  it('queues the key after the computed delay', () => {
    const { q, clock } = queue({ qps: 1e9, burst: 1e9 });
    q.addRateLimited('a');
    q.addRateLimited('a');
    // second call asked for 10 ms but the pending 5 ms deadline is earlier and wins
    clock.advance(4);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.len()).toBe(1);
    expect(q.numRequeues('a')).toBe(2);
  });
});

describe('WorkQueue shutDown and drain', () => {
  it('resolves pending and later gets with undefined', async () => {
    const { q } = queue();
    const pending = q.get();
    q.shutDown();
    expect(await pending).toBeUndefined();
    q.add('a');
    expect(await q.get()).toBeUndefined();
    expect(q.shuttingDown).toBe(true);
  });

  it('drops waiting keys and cancels delayed adds', async () => {
    const { q, clock } = queue();
    q.add('a');
    q.addAfter('b', 10);
    q.shutDown();
    expect(await q.get()).toBeUndefined();
    expect(clock.pending()).toBe(0);
    q.addRateLimited('c');
    expect(q.delayedCount()).toBe(0);
  });

  it('drains once nothing waits and nothing is processing', async () => {
    const { q } = queue();
    await q.drain();
    q.add('a');
    let drained = false;
    const d = q.drain().then(() => {
      drained = true;
    });
    const k = (await q.get()) as string;
    await flush();
    expect(drained).toBe(false);
    q.done(k);
    await d;
    expect(drained).toBe(true);
  });

  it('does not count delayed keys as work for drain', async () => {
    const { q } = queue();
    q.addAfter('later', 60_000);
    await expect(q.drain()).resolves.toBeUndefined();
  });

  it('after shutDown, drain waits only for keys still processing', async () => {
    const { q } = queue();
    q.add('a');
    q.add('b');
    const k = (await q.get()) as string;
    q.shutDown();
    let drained = false;
    const d = q.drain().then(() => {
      drained = true;
    });
    await flush();
    expect(drained).toBe(false);
    q.done(k);
    await d;
  });
});

describe('WorkQueue metrics', () => {
  it('reports depth, adds and retries labelled with the queue name', async () => {
    const registry = new Registry();
    const { q } = queue({ name: 'sync', metrics: registry, qps: 1e9, burst: 1e9 });
    q.add('a');
    q.add('b');
    q.add('a');
    q.addRateLimited('c');
    const text = registry.expose();
    expect(text).toContain('fedctl_queue_depth{queue="sync"} 2\n');
    expect(text).toContain('fedctl_queue_adds_total{queue="sync"} 2\n');
    expect(text).toContain('fedctl_queue_retries_total{queue="sync"} 1\n');
    await q.get();
    expect(registry.expose()).toContain('fedctl_queue_depth{queue="sync"} 1\n');
  });
});

describe('runWorkers', () => {
  it('reconciles every key and forgets the backoff of those that succeed', async () => {
    const { q } = queue({ qps: 1e9, burst: 1e9 });
    q.nextDelay('a');
    const seen: string[] = [];
    const workers = runWorkers(q, 2, async (key) => {
      seen.push(key);
    });
    q.add('a');
    q.add('b');
    await q.drain();
    expect(seen.sort()).toEqual(['a', 'b']);
    expect(q.numRequeues('a')).toBe(0);
    await workers.stop();
  });

  it('re-adds a key that throws with backoff and reports the error', async () => {
    const { q, clock } = queue({ qps: 1e9, burst: 1e9 });
    const errors: string[] = [];
    const results: Array<[string, boolean]> = [];
    let calls = 0;
    const stop = runWorkers(
      q,
      1,
      async () => {
        calls++;
        if (calls < 3) throw new Error(`boom ${calls}`);
      },
      {
        onError: (key, err) => errors.push(`${key}: ${(err as Error).message}`),
        onResult: (key, _ms, ok) => results.push([key, ok]),
      },
    );
    q.add('a');
    await q.drain();
    expect(q.numRequeues('a')).toBe(1);
    clock.advance(5);
    await q.drain();
    expect(q.numRequeues('a')).toBe(2);
    clock.advance(9);
    await flush();
    expect(calls).toBe(2);
    clock.advance(1);
    await q.drain();
    expect(calls).toBe(3);
    expect(q.numRequeues('a')).toBe(0);
    expect(errors).toEqual(['a: boom 1', 'a: boom 2']);
    expect(results).toEqual([
      ['a', false],
      ['a', false],
      ['a', true],
    ]);
    await stop();
  });

  it('re-adds a key after requeueAfterMs', async () => {
    const { q, clock } = queue();
    let calls = 0;
    const workers = runWorkers(q, 1, async () => {
      calls++;
      return { requeueAfterMs: 30_000 };
    });
    q.add('a');
    await q.drain();
    expect(calls).toBe(1);
    clock.advance(29_999);
    await q.drain();
    expect(calls).toBe(1);
    clock.advance(1);
    await flush();
    await q.drain();
    expect(calls).toBe(2);
    await workers();
  });

  it('never reconciles the same key in two workers at once', async () => {
    const { q } = queue();
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    const release: Array<() => void> = [];
    const workers = runWorkers(q, 4, async () => {
      calls++;
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise<void>((r) => release.push(r));
      running--;
    });
    q.add('a');
    await flush();
    q.add('a');
    q.add('a');
    await flush();
    expect(running).toBe(1);
    release.shift()?.();
    await flush();
    expect(calls).toBe(2);
    release.shift()?.();
    await q.drain();
    expect(maxRunning).toBe(1);
    expect(calls).toBe(2);
    await workers.stop();
  });

  it('runs at most `concurrency` reconciles in parallel', async () => {
    const { q } = queue();
    let running = 0;
    let maxRunning = 0;
    const workers = runWorkers(q, 3, async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await flush(3);
      running--;
    });
    for (let i = 0; i < 10; i++) q.add(`k${i}`);
    await q.drain();
    expect(maxRunning).toBe(3);
    await workers.stop();
  });

  it('stop waits for in-flight reconciles and ends the workers', async () => {
    const { q } = queue();
    let finished = false;
    let release = () => {};
    const workers = runWorkers(q, 2, async () => {
      await new Promise<void>((r) => {
        release = r;
      });
      finished = true;
    });
    q.add('a');
    await flush();
    let stopped = false;
    const s = workers.stop().then(() => {
      stopped = true;
    });
    await flush();
    expect(stopped).toBe(false);
    release();
    await s;
    expect(finished).toBe(true);
    await expect(workers.done).resolves.toBeUndefined();
  });

  it('keeps working when a hook throws', async () => {
    const { q } = queue();
    const seen: string[] = [];
    const workers = runWorkers(
      q,
      1,
      async (k) => {
        seen.push(k);
      },
      {
        onResult: () => {
          throw new Error('bad hook');
        },
      },
    );
    q.add('a');
    q.add('b');
    await q.drain();
    expect(seen).toEqual(['a', 'b']);
    await workers.stop();
  });

  it('refuses a concurrency below one', () => {
    const { q } = queue();
    expect(() => runWorkers(q, 0, async () => {})).toThrow(/concurrency/);
  });
});
