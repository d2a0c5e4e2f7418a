import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/clock.ts';
import { memoryLogger } from '../testing/logger.ts';
import {
  clone,
  freezeDeep,
  type ListWatchSource,
  SupervisedInformer,
  type SupervisedInformerOptions,
  type WatchEvent,
  type WatchHandle,
} from './informer.ts';
import { KubeConfig } from './kubeconfig.ts';
import { openWatch } from './list-watch.ts';
import { Registry } from './metrics.ts';
import type { ResourceRef } from './refs.ts';

const DEPLOYMENTS: ResourceRef = {
  group: 'apps',
  version: 'v1',
  plural: 'deployments',
  kind: 'Deployment',
  namespaced: true,
};
const NAMESPACES: ResourceRef = {
  group: '',
  version: 'v1',
  plural: 'namespaces',
  kind: 'Namespace',
  namespaced: false,
};

type Obj = KubernetesObject & { spec?: Record<string, unknown> };

const obj = (name: string, rv: string, extra: Partial<Obj> = {}, namespace = 'ns'): Obj => ({
  metadata: { name, namespace, resourceVersion: rv },
  ...extra,
});

const flush = async (rounds = 20) => {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
};

interface OpenWatch {
  rv: string;
  onEvent: (e: WatchEvent<Obj>) => void;
  onClose: (err?: unknown) => void;
  stopped: boolean;
}

/** An API server in a box: a list answer, scripted failures, and the watches the informer opened. */
class FakeSource implements ListWatchSource<Obj> {
  items: Obj[] = [];
  rv = '10';
  listCalls = 0;
  listError: unknown;
  /** When set, list() waits for this promise before answering. */
  listGate: Promise<void> | undefined;
  watchError: unknown;
  watches: OpenWatch[] = [];

  async list() {
    this.listCalls++;
    if (this.listGate) await this.listGate;
    if (this.listError) throw this.listError;
    return { items: structuredClone(this.items), resourceVersion: this.rv };
  }

  async watch(
    rv: string,
    onEvent: OpenWatch['onEvent'],
    onClose: OpenWatch['onClose'],
  ): Promise<WatchHandle> {
    if (this.watchError) throw this.watchError;
    const w: OpenWatch = { rv, onEvent, onClose, stopped: false };
    this.watches.push(w);
    return {
      stop() {
        w.stopped = true;
      },
    };
  }

  get current(): OpenWatch {
    const w = this.watches.at(-1);
    if (!w || w.stopped) throw new Error('no open watch');
    return w;
  }

  send(type: WatchEvent<Obj>['type'], object: Obj) {
    this.current.onEvent({ type, object: structuredClone(object) });
  }

  close(err?: unknown) {
    const w = this.current;
    w.stopped = true;
    w.onClose(err);
  }
}

function setup(opts: Partial<SupervisedInformerOptions<Obj>> = {}) {
  const source = new FakeSource();
  const clock = new ManualClock();
  const log = memoryLogger();
  const events: string[] = [];
  const informer = new SupervisedInformer<Obj>({
    name: 'cluster1',
    kc: new KubeConfig(),
    ref: DEPLOYMENTS,
    source,
    clock,
    logger: log,
    ...opts,
  });
  informer.on('add', (o) => events.push(`add ${o.metadata?.name}@${o.metadata?.resourceVersion}`));
  informer.on('update', (o, old) =>
    events.push(
      `update ${o.metadata?.name}@${old?.metadata?.resourceVersion}->${o.metadata?.resourceVersion}`,
    ),
  );
  informer.on('delete', (o) => events.push(`delete ${o.metadata?.name}`));
  /** Advances the clock and lets the loop react. */
  const advance = async (ms: number) => {
    clock.advance(ms);
    await flush();
  };
  return { source, clock, log, events, informer, advance };
}

describe('SupervisedInformer start', () => {
  it('resolves after the first list, having emitted add for every object', async () => {
    const { source, informer, events } = setup();
    source.items = [obj('a', '3'), obj('b', '4')];
    await informer.start();
    expect(events).toEqual(['add a@3', 'add b@4']);
    expect(informer.hasSynced()).toBe(true);
    expect(informer.list().map((o) => o.metadata?.name)).toEqual(['a', 'b']);
    await flush();
    expect(source.current.rv).toBe('10');
    expect(informer.healthy()).toBe(true);
    await informer.stop();
  });

  it('hands out normalised, frozen objects: apiVersion/kind set, dates as strings', async () => {
    const { source, informer } = setup();
    source.items = [
      obj('a', '3', { metadata: { name: 'a', namespace: 'ns', creationTimestamp: new Date(0) } }),
    ];
    await informer.start();
    const a = informer.get('a', 'ns') as Obj;
    expect(a.apiVersion).toBe('apps/v1');
    expect(a.kind).toBe('Deployment');
    expect(a.metadata?.creationTimestamp).toBe('1970-01-01T00:00:00.000Z');
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a.metadata)).toBe(true);
    expect(() => {
      (a.metadata as { name: string }).name = 'changed';
    }).toThrow(TypeError);
    const copy = clone(a);
    copy.metadata = { ...copy.metadata, name: 'changed' };
    expect(copy.metadata.name).toBe('changed');
    await informer.stop();
  });

  it('caches objects without managedFields (no decision reads them; they are the bulk of an object)', async () => {
    const { source, informer } = setup();
    source.items = [
      obj('a', '3', {
        metadata: {
          name: 'a',
          namespace: 'ns',
          managedFields: [{ manager: 'kubectl', operation: 'Update' }],
        },
      } as Partial<Obj>),
    ];
    await informer.start();
    expect(informer.get('a', 'ns')?.metadata).not.toHaveProperty('managedFields');
    await informer.stop();
  });

  it('finds cluster-scoped objects by name alone', async () => {
    const { source, informer } = setup({ ref: NAMESPACES });
    source.items = [{ metadata: { name: 'kube-system', resourceVersion: '1' } }];
    await informer.start();
    expect(informer.get('kube-system')?.kind).toBe('Namespace');
    expect(informer.get('kube-system', 'ignored')?.kind).toBe('Namespace');
    await informer.stop();
  });

  it('keeps retrying a failing first list and rejects after the start timeout, naming cluster and resource', async () => {
    const { source, informer, advance } = setup({ startTimeoutMs: 10_000 });
    source.listError = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), {});
    const started = informer.start();
    let failure: Error | undefined;
    started.catch((e: Error) => {
      failure = e;
    });
    await flush();
    await advance(1000);
    await advance(2000);
    await advance(4000);
    expect(source.listCalls).toBe(4);
    expect(failure).toBeUndefined();
    await advance(3000);
    expect(failure?.message).toBe(
      'informer "cluster1": deployments.apps/v1 in all namespaces did not sync within 10s: connect ECONNREFUSED 127.0.0.1:6443',
    );
    await advance(60_000);
    expect(source.listCalls).toBe(4);
  });

  it('rejects start when stopped during the first list, and opens no watch', async () => {
    const { source, informer } = setup();
    let release!: () => void;
    source.listGate = new Promise((r) => {
      release = r;
    });
    const started = informer.start();
    await flush();
    const stopped = informer.stop();
    release();
    await stopped;
    await expect(started).rejects.toThrow('stopped before deployments.apps/v1 in all namespaces synced');
    await flush();
    expect(source.watches).toHaveLength(0);
  });

  it('returns the same promise when started twice and starts afresh after stop', async () => {
    const { source, informer } = setup();
    const p = informer.start();
    expect(informer.start()).toBe(p);
    await p;
    await flush();
    await informer.stop();
    expect(source.watches[0]?.stopped).toBe(true);
    expect(informer.healthy()).toBe(false);
    source.items = [obj('late', '20')];
    await informer.start();
    await flush();
    expect(informer.get('late', 'ns')).toBeDefined();
    expect(source.current).toBeDefined();
    await informer.stop();
  });
});

describe('SupervisedInformer watch events', () => {
  it('delivers add, update (with the old object) and delete, keeping the cache current', async () => {
    const { source, informer, events } = setup();
    await informer.start();
    await flush();
    source.send('ADDED', obj('a', '11'));
    expect(informer.get('a', 'ns')?.metadata?.resourceVersion).toBe('11');
    source.send('MODIFIED', obj('a', '12', { spec: { replicas: 2 } }));
    expect(informer.get('a', 'ns')?.spec).toEqual({ replicas: 2 });
    source.send('DELETED', obj('a', '13'));
    expect(informer.get('a', 'ns')).toBeUndefined();
    expect(events).toEqual(['add a@11', 'update a@11->12', 'delete a']);
    expect(informer.resourceVersion()).toBe('13');
    await informer.stop();
  });

  it('drops updates whose resourceVersion did not change', async () => {
    const { source, informer, events } = setup();
    source.items = [obj('a', '5')];
    await informer.start();
    await flush();
    source.send('MODIFIED', obj('a', '5'));
    source.send('ADDED', obj('a', '5'));
    expect(events).toEqual(['add a@5']);
    await informer.stop();
  });

  it('ignores a delete of an object it never had', async () => {
    const { source, informer, events } = setup();
    await informer.start();
    await flush();
    source.send('DELETED', obj('ghost', '11'));
    expect(events).toEqual([]);
    await informer.stop();
  });

  it('resumes a cleanly closed watch from the last resourceVersion without relisting', async () => {
    const { source, informer, advance } = setup();
    await informer.start();
    await flush();
    source.send('ADDED', obj('a', '11'));
    source.send('BOOKMARK', { metadata: { resourceVersion: '15' } });
    await advance(60_000);
    source.close();
    await flush();
    expect(source.watches.map((w) => w.rv)).toEqual(['10', '15']);
    expect(source.listCalls).toBe(1);
    await informer.stop();
  });

  it('resumes at once after an idle timeout, even with no events', async () => {
    const { source, informer } = setup();
    await informer.start();
    await flush();
    source.close(new DOMException('idle', 'TimeoutError'));
    await flush();
    expect(source.watches).toHaveLength(2);
    expect(source.listCalls).toBe(1);
    await informer.stop();
  });

  it('relists at once on 410 Gone (ERROR event or failed watch) and emits what changed meanwhile', async () => {
    const { source, informer, events, advance } = setup();
    source.items = [obj('keep', '1'), obj('change', '2'), obj('gone', '3')];
    await informer.start();
    await flush();
    events.length = 0;
    source.items = [obj('keep', '1'), obj('change', '7'), obj('new', '8')];
    source.rv = '20';
    await advance(5000);
    source.send('ERROR', { code: 410, reason: 'Expired', message: 'too old resource version' } as Obj);
    await flush();
    expect(source.listCalls).toBe(2);
    expect(events).toEqual(['update change@2->7', 'add new@8', 'delete gone']);
    expect(source.current.rv).toBe('20');

    source.watchError = Object.assign(new Error('Gone'), { code: 410 });
    await advance(5000);
    source.close();
    await flush();
    expect(source.listCalls).toBe(3);
    // Still 410 right after that fresh list: back off instead of spinning.
    await flush();
    expect(source.listCalls).toBe(3);
    await advance(1000);
    expect(source.listCalls).toBe(4);
    source.watchError = undefined;
    await informer.stop();
  });
});

describe('SupervisedInformer recovery', () => {
  it('backs off 1 s, 2 s, 4 s … 30 s while the server is down, relisting each time', async () => {
    const { source, informer, advance, events } = setup();
    source.items = [obj('a', '1')];
    await informer.start();
    await flush();
    source.listError = new Error('connect ECONNREFUSED');
    source.close(new Error('other side closed'));
    await flush();
    expect(informer.healthy()).toBe(false);
    const attempts: number[] = [];
    let t = 0;
    for (let i = 0; i < 8; i++) {
      const before = source.listCalls;
      while (source.listCalls === before) {
        await advance(500);
        t += 500;
      }
      attempts.push(t);
    }
    expect(attempts).toEqual([1000, 3000, 7000, 15000, 31000, 61000, 91000, 121000]);
    expect(informer.lastError()).toBe('connect ECONNREFUSED');

    // The server comes back with the object changed and another created.
    source.listError = undefined;
    source.items = [obj('a', '30'), obj('b', '31')];
    source.rv = '31';
    await advance(30_000);
    expect(informer.healthy()).toBe(true);
    expect(source.current.rv).toBe('31');
    expect(events).toEqual(['add a@1', 'update a@1->30', 'add b@31']);
    await informer.stop();
  });

  it('restarts a watch that fails to open, with backoff', async () => {
    const { source, informer, advance } = setup();
    await informer.start();
    await flush();
    source.watchError = Object.assign(new Error('Forbidden'), { code: 403 });
    source.close(new Error('reset'));
    await flush();
    expect(source.listCalls).toBe(1);
    await advance(1000);
    expect(source.listCalls).toBe(2);
    await advance(1999);
    expect(source.listCalls).toBe(2);
    await advance(1);
    expect(source.listCalls).toBe(3);
    source.watchError = undefined;
    await advance(4000);
    expect(informer.healthy()).toBe(true);
    await informer.stop();
  });

  it('treats a non-410 ERROR event as a failure: backoff, then relist', async () => {
    const { source, informer, advance, log } = setup();
    await informer.start();
    await flush();
    source.send('ERROR', { code: 500, reason: 'InternalError', message: 'etcd unavailable' } as Obj);
    await flush();
    expect(source.listCalls).toBe(1);
    await advance(1000);
    expect(source.listCalls).toBe(2);
    expect(
      log.records.some((r) => r.level === 'warn' && String(r.error).includes('etcd unavailable (HTTP 500')),
    ).toBe(true);
    await informer.stop();
  });

  it('resets the backoff once a watch has stayed up for a while', async () => {
    const { source, informer, advance } = setup();
    await informer.start();
    await flush();
    // Three quick failures: next delay would be 8 s.
    for (const wait of [1000, 2000, 4000]) {
      source.close(new Error('reset'));
      await flush();
      await advance(wait);
    }
    expect(source.listCalls).toBe(4);
    await advance(10_000);
    source.close(new Error('reset'));
    await flush();
    await advance(1000);
    expect(source.listCalls).toBe(5);
    await informer.stop();
  });

  it('backs off from a server that closes every watch at once', async () => {
    const { source, informer, advance } = setup();
    await informer.start();
    await flush();
    source.close();
    await flush();
    expect(source.watches).toHaveLength(1);
    await advance(1000);
    expect(source.watches).toHaveLength(2);
    await informer.stop();
  });

  it('keeps running when a handler throws, and logs it', async () => {
    const { source, informer, log, events } = setup();
    informer.on('add', () => {
      throw new Error('handler bug');
    });
    await informer.start();
    await flush();
    source.send('ADDED', obj('a', '11'));
    source.send('ADDED', obj('b', '12'));
    expect(events).toEqual(['add a@11', 'add b@12']);
    expect(log.records.filter((r) => r.msg === 'add handler threw')).toHaveLength(2);
    await informer.stop();
  });

  it('stop ends the open watch and any pending backoff', async () => {
    const { source, informer, advance } = setup();
    await informer.start();
    await flush();
    const w = source.current;
    await informer.stop();
    expect(w.stopped).toBe(true);
    expect(informer.healthy()).toBe(false);
    await advance(600_000);
    expect(source.watches).toHaveLength(1);
    expect(source.listCalls).toBe(1);
  });
});

describe('SupervisedInformer resync and relist', () => {
  it('replays every cached object as an update of itself every resyncMs, without a request', async () => {
    const { source, informer, events, advance } = setup({ resyncMs: 60_000, relistMs: 0 });
    source.items = [obj('a', '1'), obj('b', '2')];
    await informer.start();
    await flush();
    source.send('MODIFIED', obj('b', '5'));
    events.length = 0;
    await advance(60_000);
    expect(source.listCalls).toBe(1);
    expect(source.watches[0]?.stopped).toBe(false);
    expect(events).toEqual(['update a@1->1', 'update b@5->5']);
    events.length = 0;
    await advance(60_000);
    expect(events).toEqual(['update a@1->1', 'update b@5->5']);
    await informer.stop();
  });

  it('relists every relistMs and emits only what changed, added or went away', async () => {
    const { source, informer, events, advance } = setup({ resyncMs: 0, relistMs: 1_800_000 });
    source.items = [obj('a', '1'), obj('b', '2'), obj('c', '3')];
    await informer.start();
    await flush();
    events.length = 0;
    // A watch that missed every change: the relist finds them.
    source.items = [obj('a', '1'), obj('b', '5'), obj('d', '6')];
    await advance(1_800_000);
    expect(source.listCalls).toBe(2);
    expect(source.watches[0]?.stopped).toBe(true);
    expect(events).toEqual(['update b@2->5', 'add d@6', 'delete c']);
    expect(informer.healthy()).toBe(true);
    await informer.stop();
  });

  it('does a pending relist with the first list that succeeds after an outage', async () => {
    const { source, informer, events, advance } = setup({ resyncMs: 0, relistMs: 5_000 });
    source.items = [obj('a', '1')];
    await informer.start();
    await flush();
    source.listError = new Error('down');
    source.close(new Error('reset'));
    await flush();
    await advance(1000);
    await advance(2000);
    await advance(2000); // relist due while backing off
    source.listError = undefined;
    source.items = [obj('a', '2')];
    events.length = 0;
    await advance(4000);
    expect(events).toEqual(['update a@1->2']);
    await informer.stop();
  });

  it('neither replays nor relists when both periods are 0', async () => {
    const { source, informer, events, advance } = setup({ resyncMs: 0, relistMs: 0 });
    source.items = [obj('a', '1')];
    await informer.start();
    await flush();
    events.length = 0;
    await advance(3_600_000);
    expect(source.listCalls).toBe(1);
    expect(events).toEqual([]);
    await informer.stop();
  });

  it('replays nothing before the first list (the list emits every object itself)', async () => {
    const { source, informer, events, advance } = setup({ resyncMs: 1000, relistMs: 0 });
    source.listError = new Error('down');
    void informer.start();
    await advance(1000);
    expect(events).toEqual([]);
    source.listError = undefined;
    source.items = [obj('a', '1')];
    await advance(2000);
    expect(events[0]).toBe('add a@1');
    await informer.stop();
  });
});

describe('SupervisedInformer handlers and metrics', () => {
  it('removes a handler with the function on() returned', async () => {
    const { source, informer } = setup();
    const seen: string[] = [];
    const off = informer.on('add', (o) => seen.push(o.metadata?.name ?? ''));
    await informer.start();
    await flush();
    source.send('ADDED', obj('a', '11'));
    off();
    source.send('ADDED', obj('b', '12'));
    expect(seen).toEqual(['a']);
    await informer.stop();
  });

  it('reports watch state, cache size, relists and restarts', async () => {
    const metrics = new Registry();
    const { source, informer, advance } = setup({ metrics });
    source.items = [obj('a', '1'), obj('b', '2')];
    await informer.start();
    await flush();
    const labels = 'informer="cluster1",resource="deployments.apps/v1"';
    expect(metrics.expose()).toContain(`fedctl_informer_watch_up{${labels}} 1\n`);
    expect(metrics.expose()).toContain(`fedctl_informer_objects{${labels}} 2\n`);
    source.close(new Error('reset'));
    await flush();
    expect(metrics.expose()).toContain(`fedctl_informer_watch_up{${labels}} 0\n`);
    expect(metrics.expose()).toContain(`fedctl_informer_restarts_total{${labels}} 1\n`);
    await advance(1000);
    expect(metrics.expose()).toContain(`fedctl_informer_relists_total{${labels}} 2\n`);
    await informer.stop();
  });
});

describe('freezeDeep', () => {
  it('freezes nested objects and arrays and turns dates into strings', () => {
    const v = freezeDeep({ a: [{ b: new Date(1000) }], c: { d: 1 } });
    expect(v.a[0]?.b).toBe('1970-01-01T00:00:01.000Z');
    expect(Object.isFrozen(v.a)).toBe(true);
    expect(Object.isFrozen(v.a[0])).toBe(true);
    expect(Object.isFrozen(v.c)).toBe(true);
  });
});

// --- the real source against a fake API server over HTTP --------------------------------------

interface Fake {
  server: Server;
  kc: KubeConfig;
  /** Responses of open watch requests, in order. */
  watches: Array<{ url: URL; res: ServerResponse }>;
  lists: URL[];
  list: { items: Obj[]; rv: string };
  watchStatus?: { code: number; body: unknown };
}

let fake: Fake | undefined;
afterEach(async () => {
  if (!fake) return;
  for (const w of fake.watches) w.res.destroy();
  fake.server.closeAllConnections();
  await new Promise((r) => fake?.server.close(r));
  fake = undefined;
});

async function fakeApiServer(): Promise<Fake> {
  const f: Fake = {
    server: createServer(),
    kc: new KubeConfig(),
    watches: [],
    lists: [],
    list: { items: [], rv: '100' },
  };
  f.server.on('request', (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.searchParams.get('watch') === 'true') {
      if (f.watchStatus) {
        res.writeHead(f.watchStatus.code, { 'content-type': 'application/json' });
        res.end(JSON.stringify(f.watchStatus.body));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      f.watches.push({ url, res });
      return;
    }
    f.lists.push(url);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: 'DeploymentList',
        metadata: { resourceVersion: f.list.rv },
        items: f.list.items,
      }),
    );
  });
  await new Promise<void>((r) => f.server.listen(0, '127.0.0.1', r));
  const port = (f.server.address() as AddressInfo).port;
  f.kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'fake', token: 't' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
    currentContext: 'fake',
  });
  fake = f;
  return f;
}

const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('openWatch against an HTTP server', () => {
  it('streams events split across chunks and reports a clean close', async () => {
    const f = await fakeApiServer();
    const events: WatchEvent<Obj>[] = [];
    let closed: unknown = 'open';
    const handle = await openWatch<Obj>(
      f.kc,
      DEPLOYMENTS,
      { namespace: 'ns', resourceVersion: '7', labelSelector: 'kubefed.io/managed=true' },
      (e) => events.push(e),
      (err) => {
        closed = err;
      },
    );
    const w = f.watches[0];
    expect(w?.url.pathname).toBe('/apis/apps/v1/namespaces/ns/deployments');
    expect(w?.url.searchParams.get('resourceVersion')).toBe('7');
    expect(w?.url.searchParams.get('allowWatchBookmarks')).toBe('true');
    expect(w?.url.searchParams.get('labelSelector')).toBe('kubefed.io/managed=true');
    const line = JSON.stringify({ type: 'ADDED', object: obj('a', '8') });
    w?.res.write(line.slice(0, 10));
    w?.res.write(`${line.slice(10)}\n{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}\n`);
    await until(() => events.length === 2);
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK']);
    w?.res.end();
    await until(() => closed !== 'open');
    expect(closed).toBeUndefined();
    handle.stop();
  });

  it('rejects with the API status when the server refuses the watch', async () => {
    const f = await fakeApiServer();
    f.watchStatus = {
      code: 403,
      body: {
        kind: 'Status',
        reason: 'Forbidden',
        message: 'deployments.apps is forbidden: User "x" cannot watch',
      },
    };
    await expect(
      openWatch<Obj>(
        f.kc,
        DEPLOYMENTS,
        { resourceVersion: '1' },
        () => {},
        () => {},
      ),
    ).rejects.toMatchObject({
      code: 403,
      message: expect.stringContaining('cannot watch (HTTP 403, Forbidden)'),
    });
  });

  it('closes a silent watch after the idle timeout with a TimeoutError', async () => {
    const f = await fakeApiServer();
    let closed: unknown = 'open';
    await openWatch<Obj>(
      f.kc,
      DEPLOYMENTS,
      { resourceVersion: '1', watchIdleTimeoutMs: 100 },
      () => {},
      (err) => {
        closed = err;
      },
    );
    await until(() => closed !== 'open');
    expect((closed as Error).name).toBe('TimeoutError');
  });

  it('does not call onClose after stop', async () => {
    const f = await fakeApiServer();
    let calls = 0;
    const handle = await openWatch<Obj>(
      f.kc,
      DEPLOYMENTS,
      { resourceVersion: '1' },
      () => {},
      () => calls++,
    );
    handle.stop();
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBe(0);
  });
});

describe('SupervisedInformer against an HTTP server', () => {
  it('lists, follows the watch, and reconnects when the server drops the connection', async () => {
    const f = await fakeApiServer();
    f.list.items = [obj('a', '90')];
    const informer = new SupervisedInformer<Obj>({
      name: 'fake',
      kc: f.kc,
      ref: DEPLOYMENTS,
      logger: memoryLogger(),
      backoffBaseMs: 10,
    });
    const events: string[] = [];
    informer.on('add', (o) => events.push(`add ${o.metadata?.name}`));
    informer.on('update', (o) => events.push(`update ${o.metadata?.name}`));
    informer.on('delete', (o) => events.push(`delete ${o.metadata?.name}`));
    await informer.start();
    expect(informer.get('a', 'ns')?.kind).toBe('Deployment');
    await until(() => f.watches.length === 1 && informer.healthy());
    expect(f.watches[0]?.url.searchParams.get('resourceVersion')).toBe('100');
    f.watches[0]?.res.write(`${JSON.stringify({ type: 'ADDED', object: obj('b', '101') })}\n`);
    await until(() => events.length === 2);
    // The connection breaks; meanwhile b was deleted on the server.
    f.list = { items: [obj('a', '90')], rv: '105' };
    f.watches[0]?.res.destroy();
    await until(() => f.watches.length === 2 && informer.healthy());
    expect(f.watches[1]?.url.searchParams.get('resourceVersion')).toBe('105');
    expect(events).toEqual(['add a', 'add b', 'delete b']);
    expect(f.lists).toHaveLength(2);
    await informer.stop();
  });
});
