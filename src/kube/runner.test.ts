import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/clock.ts';
import { memoryLogger } from '../testing/logger.ts';
import type { InformerEvent, InformerHandler } from './informer.ts';
import { Registry } from './metrics.ts';
import { Runner, TerminalError, writeStatusIfChanged } from './runner.ts';
import type { ReconcileResult } from './workqueue.ts';

const flush = async (rounds = 20) => {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
};

/** Emits informer events by hand. */
class Events<T> {
  readonly #handlers: Record<InformerEvent, Array<InformerHandler<T>>> = { add: [], update: [], delete: [] };
  on(event: InformerEvent, h: InformerHandler<T>): () => void {
    this.#handlers[event].push(h);
    return () => this.#handlers[event].splice(this.#handlers[event].indexOf(h), 1);
  }
  emit(event: InformerEvent, obj: T, old?: T): void {
    for (const h of this.#handlers[event]) h(obj, old);
  }
}

const obj = (name: string, rv: string): KubernetesObject => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv },
});

function setup(reconcile: (key: string) => Promise<ReconcileResult | undefined>, keys: string[] = []) {
  const clock = new ManualClock();
  const metrics = new Registry();
  const log = memoryLogger();
  const calls: string[] = [];
  const runner = new Runner({
    name: 'test',
    log,
    metrics,
    clock,
    random: () => 0.5,
    resyncSpreadMs: 1000,
    keys: () => keys,
    reconcile: async (key) => {
      calls.push(key);
      return reconcile(key);
    },
  });
  const events = new Events<KubernetesObject>();
  runner.watch(events, (o) => `${o.metadata?.namespace}/${o.metadata?.name}`);
  const count = (result: string) =>
    (metrics.get('fedctl_reconcile_total') as { get(l: object): number }).get({ controller: 'test', result });
  return { clock, metrics, log, calls, runner, events, count };
}

describe('Runner', () => {
  it('reconciles a key once however many events arrive for it while it waits', async () => {
    const t = setup(async () => undefined);
    t.events.emit('add', obj('a', '1'));
    t.events.emit('update', obj('a', '2'), obj('a', '1'));
    t.events.emit('update', obj('a', '3'), obj('a', '2'));
    t.runner.start();
    await t.runner.drain();
    expect(t.calls).toEqual(['ns/a']);
    expect(t.count('success')).toBe(1);
    await t.runner.stop();
  });

  it('enqueues every key from keys() at start and on clustersChanged()', async () => {
    const t = setup(async () => undefined, ['ns/a', 'ns/b']);
    t.runner.start();
    await t.runner.drain();
    t.runner.clustersChanged();
    await t.runner.drain();
    expect(t.calls).toEqual(['ns/a', 'ns/b', 'ns/a', 'ns/b']);
    await t.runner.stop();
  });

  it('spreads resync events (unchanged resourceVersion) over the window instead of queueing them at once', async () => {
    const t = setup(async () => undefined);
    t.runner.start();
    t.events.emit('update', obj('a', '7'), obj('a', '7'));
    await t.runner.drain();
    expect(t.calls).toEqual([]);
    t.clock.advance(499);
    await t.runner.drain();
    expect(t.calls).toEqual([]);
    t.clock.advance(1);
    await t.runner.drain();
    expect(t.calls).toEqual(['ns/a']);
    await t.runner.stop();
  });

  it('drops resync events for a source watched with resync: drop', async () => {
    const t = setup(async () => undefined);
    const other = new Events<KubernetesObject>();
    t.runner.watch(other, (o) => `other/${o.metadata?.name}`, { resync: 'drop' });
    t.runner.start();
    other.emit('update', obj('a', '7'), obj('a', '7'));
    t.clock.advance(10_000);
    await t.runner.drain();
    other.emit('update', obj('a', '8'), obj('a', '7'));
    await t.runner.drain();
    expect(t.calls).toEqual(['other/a']);
    await t.runner.stop();
  });

  it('retries a throwing reconcile with per-key exponential backoff and forgets it after a success', async () => {
    let failures = 2;
    const t = setup(async () => {
      if (failures-- > 0) throw new Error('API down');
      return undefined;
    });
    t.runner.start();
    t.runner.enqueue('ns/a');
    await t.runner.drain();
    expect(t.calls).toHaveLength(1);
    t.clock.advance(5); // first retry after 5 ms
    await t.runner.drain();
    expect(t.calls).toHaveLength(2);
    t.clock.advance(9);
    await t.runner.drain();
    expect(t.calls).toHaveLength(2); // second retry after 10 ms
    t.clock.advance(1);
    await t.runner.drain();
    expect(t.calls).toHaveLength(3);
    expect(t.count('error')).toBe(2);
    expect(t.count('success')).toBe(1);
    expect(t.runner.queue.numRequeues('ns/a')).toBe(0);
    expect(t.log.records.filter((r) => r.msg === 'reconcile failed, retrying').map((r) => r.error)).toEqual([
      'API down',
      'API down',
    ]);
    await t.runner.stop();
  });

  it('reconciles again after requeueAfterMs, and counts it as requeue_after', async () => {
    const t = setup(async () => ({ requeueAfterMs: 30_000 }));
    t.runner.start();
    t.runner.enqueue('ns/a');
    await t.runner.drain();
    t.clock.advance(29_999);
    await t.runner.drain();
    expect(t.calls).toEqual(['ns/a']);
    t.clock.advance(1);
    await t.runner.drain();
    expect(t.calls).toEqual(['ns/a', 'ns/a']);
    expect(t.count('requeue_after')).toBe(2);
    await t.runner.stop();
  });

  it('does not retry a TerminalError until the object changes, and logs why', async () => {
    const t = setup(async () => {
      throw new TerminalError('spec.targetKind "Pod" is not schedulable');
    });
    t.runner.start();
    t.events.emit('add', obj('a', '1'));
    await t.runner.drain();
    t.clock.advance(120_000);
    await t.runner.drain();
    expect(t.calls).toEqual(['ns/a']);
    expect(t.count('terminal')).toBe(1);
    expect(t.runner.queue.delayedCount()).toBe(0);
    expect(t.log.records.find((r) => r.level === 'warn')).toMatchObject({
      controller: 'test',
      key: 'ns/a',
      error: 'spec.targetKind "Pod" is not schedulable',
    });
    t.events.emit('update', obj('a', '2'), obj('a', '1'));
    await t.runner.drain();
    expect(t.calls).toEqual(['ns/a', 'ns/a']);
    await t.runner.stop();
  });

  it('never runs two reconciles of one key at once: an event during a reconcile runs it again after', async () => {
    let release!: () => void;
    let running = 0;
    let maxRunning = 0;
    const t = setup(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      if (t.calls.length === 1) await new Promise<void>((r) => (release = r));
      running--;
      return undefined;
    });
    t.runner.start();
    t.runner.enqueue('ns/a');
    await flush();
    t.events.emit('update', obj('a', '2'), obj('a', '1'));
    await flush();
    expect(t.calls).toEqual(['ns/a']);
    release();
    await t.runner.drain();
    expect(t.calls).toEqual(['ns/a', 'ns/a']);
    expect(maxRunning).toBe(1);
    await t.runner.stop();
  });

  it('stops listening to its sources on stop()', async () => {
    const t = setup(async () => undefined);
    t.runner.start();
    await t.runner.stop();
    t.events.emit('add', obj('a', '1'));
    await flush();
    expect(t.calls).toEqual([]);
  });
});

describe('writeStatusIfChanged', () => {
  it('writes only a status that differs as JSON, whatever the key order', async () => {
    const writes: unknown[] = [];
    const write = async (s: unknown) => void writes.push(s);
    expect(await writeStatusIfChanged({ status: { a: 1, b: [1] } }, { b: [1], a: 1 }, write)).toBe(false);
    expect(await writeStatusIfChanged({ status: { a: 1 } }, { a: 2 }, write)).toBe(true);
    expect(await writeStatusIfChanged(undefined, {}, write)).toBe(false);
    expect(writes).toEqual([{ a: 2 }]);
  });
});
