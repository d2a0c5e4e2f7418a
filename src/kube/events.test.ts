import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../testing/logger.ts';
import { EventRecorder, type EventWriter } from './events.ts';

function recorder(opts: { failCreate?: boolean; patchGone?: boolean } = {}) {
  const calls: string[] = [];
  const bodies: Array<Record<string, unknown>> = [];
  let t = Date.parse('2026-01-01T00:00:00Z');
  const writer: EventWriter = {
    async create(e) {
      if (opts.failCreate) throw Object.assign(new Error('forbidden'), { code: 403 });
      const m = e.metadata as { name: string; namespace: string };
      calls.push(`create ${m.namespace} ${e.reason} count=${e.count}`);
      bodies.push(e);
    },
    async patch(ns, _name, p) {
      if (opts.patchGone) throw Object.assign(new Error('gone'), { code: 404 });
      calls.push(`patch ${ns} count=${p.count}`);
    },
  };
  const log = memoryLogger();
  const r = new EventRecorder(writer, { log, now: () => new Date(t) });
  return { r, calls, bodies, log, advance: (ms: number) => (t += ms) };
}

const fed = {
  apiVersion: 'types.kubefed.io/v1beta1',
  kind: 'FederatedDeployment',
  metadata: { name: 'web', namespace: 'shop', uid: 'u1', resourceVersion: '5' },
};

describe('EventRecorder', () => {
  it('creates an Event naming the object, then counts repeats instead of creating duplicates', async () => {
    const { r, calls, bodies } = recorder();
    await r.record(fed, 'Warning', 'UpdateFailed', 'cluster c1: denied');
    await r.record(fed, 'Warning', 'UpdateFailed', 'cluster c1: denied');
    await r.record(fed, 'Warning', 'UpdateFailed', 'cluster c1: denied');
    expect(calls).toEqual(['create shop UpdateFailed count=1', 'patch shop count=2', 'patch shop count=3']);
    expect(bodies[0]).toMatchObject({
      involvedObject: { kind: 'FederatedDeployment', name: 'web', namespace: 'shop', uid: 'u1' },
      type: 'Warning',
      source: { component: 'fedctl' },
    });
  });

  it('creates a new Event for another message, and after the aggregation window', async () => {
    const { r, calls, advance } = recorder();
    await r.record(fed, 'Warning', 'UpdateFailed', 'cluster c1: denied');
    await r.record(fed, 'Warning', 'UpdateFailed', 'cluster c2: denied');
    advance(11 * 60_000);
    await r.record(fed, 'Warning', 'UpdateFailed', 'cluster c1: denied');
    expect(calls).toEqual([
      'create shop UpdateFailed count=1',
      'create shop UpdateFailed count=1',
      'create shop UpdateFailed count=1',
    ]);
  });

  it('creates the Event again when the counted one was deleted', async () => {
    const { r, calls } = recorder({ patchGone: true });
    await r.record(fed, 'Normal', 'ClusterRecovered', 'x');
    await r.record(fed, 'Normal', 'ClusterRecovered', 'x');
    expect(calls).toEqual(['create shop ClusterRecovered count=1', 'create shop ClusterRecovered count=1']);
  });

  it('puts events of cluster-scoped objects in default', async () => {
    const { r, calls } = recorder();
    await r.record({ kind: 'FederatedClusterRole', metadata: { name: 'x', uid: 'u' } }, 'Normal', 'R', 'm');
    expect(calls).toEqual(['create default R count=1']);
  });

  it('never throws: a failed write is logged with the object and reason', async () => {
    const { r, log } = recorder({ failCreate: true });
    await expect(r.record(fed, 'Warning', 'UpdateFailed', 'm')).resolves.toBeUndefined();
    expect(JSON.stringify(log.records)).toContain('FederatedDeployment shop/web');
  });
});
