import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClusterCondition } from '../api/types.ts';
import { type ClusterClients, kubeConfigForEndpoint } from '../kube/clients.ts';
import {
  type HealthMember,
  HealthProber,
  type HealthState,
  type HealthStatus,
  malformedHealth,
  nextHealth,
  type ProbeResult,
  probeCluster,
} from './health.ts';

const OK: ProbeResult = { ok: true, offline: false, version: 'v1.36.3' };
const DOWN: ProbeResult = { ok: false, offline: true, error: 'connect ECONNREFUSED 127.0.0.1:6443' };
const SICK: ProbeResult = { ok: false, offline: false, error: 'HTTP 500: [-]etcd failed' };
const T0 = new Date('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

/** "Ready=True/ClusterReady Offline=False/ClusterReachable", the gist of a condition list. */
const gist = (cs: readonly ClusterCondition[]) =>
  cs.map((c) => `${c.type}=${c.status}/${c.reason}`).join(' ');

/** Feeds probes one by one and records the Ready verdict after each. */
function run(probes: ProbeResult[], thresholds = {}) {
  let state: HealthState = { failures: 0, successes: 0 };
  return probes.map((p, i) => {
    const v = nextHealth(state, p, thresholds, at(i));
    state = v.state;
    return v.state.ready;
  });
}

describe('nextHealth thresholds', () => {
  it.each([
    ['the first probe decides at once (ok)', [OK], {}, [true]],
    ['the first probe decides at once (down)', [DOWN], {}, [false]],
    [
      'a ready cluster survives two failures with failureThreshold 3',
      [OK, DOWN, DOWN],
      {},
      [true, true, true],
    ],
    ['the third failure in a row makes it not ready', [OK, DOWN, SICK, DOWN], {}, [true, true, true, false]],
    [
      'a success in between resets the failure count',
      [OK, DOWN, DOWN, OK, DOWN, DOWN],
      {},
      [true, true, true, true, true, true],
    ],
    ['one success makes it ready again with successThreshold 1', [DOWN, OK], {}, [false, true]],
    [
      'successThreshold 2 needs two successes in a row',
      [DOWN, OK, DOWN, OK, OK],
      { successThreshold: 2 },
      [false, false, false, false, true],
    ],
    ['failureThreshold 1 flips on the first failure', [OK, SICK], { failureThreshold: 1 }, [true, false]],
  ])('%s', (_, probes, thresholds, expected) => {
    expect(run(probes as ProbeResult[], thresholds)).toEqual(expected);
  });
});

describe('nextHealth conditions', () => {
  it.each([
    [
      'an ok probe makes it Ready and reachable',
      OK,
      'Ready=True/ClusterReady Offline=False/ClusterReachable',
    ],
    [
      'no answer at all makes it not Ready and Offline',
      DOWN,
      'Ready=False/ClusterNotReady Offline=True/ClusterNotReachable',
    ],
    [
      'an answer other than ok makes it not Ready but reachable',
      SICK,
      'Ready=False/ClusterNotReady Offline=False/ClusterReachable',
    ],
  ])('%s', (_, probe, expected) => {
    const v = nextHealth({ failures: 0, successes: 0 }, probe, {}, T0);
    expect(gist(v.conditions)).toBe(expected);
    expect(v.changed).toBe(true);
  });

  it('puts the failure detail in the messages', () => {
    const v = nextHealth({ failures: 0, successes: 0 }, DOWN, {}, T0);
    expect(v.conditions.find((c) => c.type === 'Offline')?.message).toBe(
      'cluster is not reachable: connect ECONNREFUSED 127.0.0.1:6443',
    );
    const s = nextHealth({ failures: 0, successes: 0 }, SICK, {}, T0);
    expect(s.conditions.find((c) => c.type === 'Ready')?.message).toBe(
      '/healthz responded without ok: HTTP 500: [-]etcd failed',
    );
  });

  it('reports no change while the verdict holds, and keeps the conditions as they were', () => {
    const first = nextHealth({ failures: 0, successes: 0 }, OK, {}, at(0));
    const second = nextHealth(first.state, OK, {}, at(10));
    const blip = nextHealth(second.state, DOWN, {}, at(20));
    expect(second.changed).toBe(false);
    expect(blip.changed).toBe(false);
    expect(blip.conditions).toBe(second.conditions);
  });

  it('moves lastTransitionTime only when a status flips', () => {
    let v = nextHealth({ failures: 0, successes: 0 }, SICK, {}, at(0));
    v = nextHealth(v.state, DOWN, {}, at(10)); // still not ready, now offline
    const ready = v.conditions.find((c) => c.type === 'Ready');
    const offline = v.conditions.find((c) => c.type === 'Offline');
    expect(ready?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    expect(offline?.lastTransitionTime).toBe('2026-01-01T00:00:10Z');
    expect(v.changed).toBe(true);
  });

  it('sets lastProbeTime, which KubeFed requires, on every condition', () => {
    const v = nextHealth({ failures: 0, successes: 0 }, OK, {}, T0);
    expect(v.conditions.every((c) => c.lastProbeTime === '2026-01-01T00:00:00Z')).toBe(true);
  });

  it('clears ConfigMalformed once the cluster answers', () => {
    const bad = malformedHealth(
      { failures: 0, successes: 0 },
      { reason: 'SecretNotFound', message: 'secret x not found' },
      {},
      T0,
    );
    const fixed = nextHealth(bad.state, OK, {}, at(10));
    expect(gist(fixed.conditions)).toBe('Ready=True/ClusterReady Offline=False/ClusterReachable');
  });
});

describe('malformedHealth', () => {
  it('marks the cluster ConfigMalformed with the reason, and not ready, without probing', () => {
    const v = malformedHealth(
      { failures: 0, successes: 0 },
      { reason: 'InvalidCABundle', message: 'caBundle is not PEM' },
      {},
      T0,
    );
    expect(gist(v.conditions)).toBe(
      'ConfigMalformed=True/InvalidCABundle Ready=False/ClusterConfigMalformed',
    );
    expect(v.state.ready).toBe(false);
  });
});

describe('HealthProber.configure (KubeFedConfig clusterHealthCheck edited while running)', () => {
  const setup = (results: ProbeResult[]) => {
    const timeouts: number[] = [];
    const changes: string[] = [];
    let i = 0;
    const p = new HealthProber({
      periodMs: 60_000,
      timeoutMs: 3000,
      thresholds: { failureThreshold: 3, successThreshold: 1 },
      members: () => [{ name: 'c1', clients: { name: 'c1' } as unknown as ClusterClients }],
      probe: async (_c, timeoutMs) => {
        timeouts.push(timeoutMs);
        return results[Math.min(i++, results.length - 1)]!;
      },
      writeStatus: async () => {},
      onChange: (name, ready) => changes.push(`${name} ${ready}`),
      now: () => T0,
    });
    return { p, timeouts, changes };
  };
  const settings = (periodMs: number, timeoutMs: number, failureThreshold: number) => ({
    periodMs,
    timeoutMs,
    thresholds: { failureThreshold, successThreshold: 1 },
  });

  it('judges the next probe by a lowered failure threshold, keeping the failures already counted', async () => {
    const { p, changes } = setup([OK, DOWN, DOWN]);
    await p.probeNow();
    await p.probeNow();
    expect(p.isReady('c1')).toBe(true); // one failure of three
    expect(p.configure(settings(60_000, 3000, 2))).toBe(true);
    await p.probeNow();
    expect(p.isReady('c1')).toBe(false); // two failures: the new threshold
    expect(changes).toEqual(['c1 true', 'c1 false']);
  });

  it('passes a new timeout to the next probe', async () => {
    const { p, timeouts } = setup([OK]);
    await p.probeNow();
    p.configure(settings(60_000, 750, 3));
    await p.probeNow();
    expect(timeouts).toEqual([3000, 750]);
  });

  it('probes at a new period from the moment it is set', async () => {
    vi.useFakeTimers();
    try {
      const { p, timeouts } = setup([OK]);
      p.start();
      await vi.advanceTimersByTimeAsync(5000);
      expect(timeouts).toHaveLength(0); // still the 60 s period
      p.configure(settings(1000, 3000, 3));
      await vi.advanceTimersByTimeAsync(3500);
      expect(timeouts).toHaveLength(3);
      p.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports no change, and keeps its timer, when the settings are the same', async () => {
    const { p } = setup([OK]);
    expect(p.configure(settings(60_000, 3000, 3))).toBe(false);
    expect(p.settings()).toEqual(settings(60_000, 3000, 3));
  });
});

// ---------------------------------------------------------------------------------------------

const fakeClients = (name: string) => ({ name }) as unknown as ClusterClients;

function prober(opts: {
  members: HealthMember[];
  probe: (name: string) => Promise<ProbeResult>;
  writeStatus?: (name: string, s: HealthStatus) => Promise<void>;
}) {
  const writes: string[] = [];
  const changes: string[] = [];
  const p = new HealthProber({
    periodMs: 60_000,
    members: () => opts.members,
    probe: (c) => opts.probe(c.name),
    writeStatus:
      opts.writeStatus ??
      (async (name, s) => {
        writes.push(`${name}: ${gist(s.conditions)}${s.kubernetesVersion ? ` ${s.kubernetesVersion}` : ''}`);
      }),
    onChange: (name, ready) => changes.push(`${name} ${ready}`),
    now: () => T0,
  });
  return { p, writes, changes };
}

describe('HealthProber', () => {
  it('writes status only when conditions or version change', async () => {
    const upgraded = { ...OK, version: 'v1.36.4' };
    const results = [OK, OK, upgraded, upgraded];
    let i = 0;
    const { p, writes } = prober({
      members: [{ name: 'c1', clients: fakeClients('c1') }],
      probe: async () => results[i++]!,
    });

    for (let n = 0; n < 4; n++) await p.probeNow();

    expect(writes).toEqual([
      'c1: Ready=True/ClusterReady Offline=False/ClusterReachable v1.36.3',
      'c1: Ready=True/ClusterReady Offline=False/ClusterReachable v1.36.4',
    ]);
  });

  it('does not rewrite what the KubeFedCluster already says after a restart', async () => {
    const first = prober({ members: [{ name: 'c1', clients: fakeClients('c1') }], probe: async () => OK });
    await first.p.probeNow();
    const status = first.p.status('c1');

    const restarted = prober({
      members: [
        {
          name: 'c1',
          clients: fakeClients('c1'),
          cluster: {
            status: { conditions: status?.conditions ?? [], kubernetesVersion: status?.kubernetesVersion },
          },
        },
      ],
      probe: async () => OK,
    });
    await restarted.p.probeNow();

    expect(restarted.writes).toEqual([]);
    expect(restarted.p.isReady('c1')).toBe(true);
  });

  it("gives each member its verdict as soon as its own probe returns, whatever the others' speed", async () => {
    let releaseSlow: (r: ProbeResult) => void = () => {};
    const slow = new Promise<ProbeResult>((r) => {
      releaseSlow = r;
    });
    const { p, writes } = prober({
      members: [
        { name: 'fast', clients: fakeClients('fast') },
        { name: 'slow', clients: fakeClients('slow') },
      ],
      probe: (name) => (name === 'slow' ? slow : Promise.resolve(OK)),
    });

    const done = p.probeNow();
    await new Promise((r) => setTimeout(r, 10));
    expect(p.isReady('fast')).toBe(true);
    expect(writes).toEqual(['fast: Ready=True/ClusterReady Offline=False/ClusterReachable v1.36.3']);

    releaseSlow(DOWN);
    await done;
    expect(p.isReady('slow')).toBe(false);
  });

  it('does not start a second probe of a member whose first is still running', async () => {
    let calls = 0;
    let release: (r: ProbeResult) => void = () => {};
    const { p } = prober({
      members: [{ name: 'c1', clients: fakeClients('c1') }],
      probe: () => {
        calls++;
        return new Promise((r) => {
          release = r;
        });
      },
    });
    const a = p.probeNow();
    const b = p.probeNow();
    release(OK);
    await Promise.all([a, b]);
    expect(calls).toBe(1);
  });

  it('marks a member without a usable config ConfigMalformed with its reason', async () => {
    const { p, writes } = prober({
      members: [
        {
          name: 'c2',
          configError: { reason: 'SecretNotFound', message: 'secret c2 for cluster c2 not found' },
        },
      ],
      probe: async () => {
        throw new Error('must not probe');
      },
    });
    await p.probeNow();
    expect(writes).toEqual(['c2: ConfigMalformed=True/SecretNotFound Ready=False/ClusterConfigMalformed']);
    expect(p.isReady('c2')).toBe(false);
  });

  it('tells onChange about first verdicts and flips only', async () => {
    const seq = [OK, DOWN, DOWN, DOWN, DOWN, OK];
    let i = 0;
    const { p, changes } = prober({
      members: [{ name: 'c1', clients: fakeClients('c1') }],
      probe: async () => seq[i++]!,
    });
    for (let n = 0; n < seq.length; n++) await p.probeNow();
    expect(changes).toEqual(['c1 true', 'c1 false', 'c1 true']);
  });

  it('retries a failed status write on the next probe', async () => {
    let fail = true;
    const attempts: string[] = [];
    const { p } = prober({
      members: [{ name: 'c1', clients: fakeClients('c1') }],
      probe: async () => OK,
      writeStatus: async (name) => {
        attempts.push(name);
        if (fail) throw new Error('conflict');
      },
    });
    await p.probeNow();
    fail = false;
    await p.probeNow();
    await p.probeNow();
    expect(attempts).toEqual(['c1', 'c1']);
  });

  it('treats a probe that throws as unreachable', async () => {
    const { p, writes } = prober({
      members: [{ name: 'c1', clients: fakeClients('c1') }],
      probe: async () => {
        throw new Error('boom');
      },
    });
    await p.probeNow();
    expect(writes).toEqual(['c1: Ready=False/ClusterNotReady Offline=True/ClusterNotReachable']);
  });

  it('turns a suspected member not ready on its first failed probe, and aborts its lost signal', async () => {
    const seq = [OK, DOWN];
    let i = 0;
    const { p, changes } = prober({
      members: [{ name: 'c1', clients: fakeClients('c1') }],
      probe: async () => seq[i++]!,
    });
    await p.probeNow();
    const lost = p.lostSignal('c1');
    expect(lost.aborted).toBe(false);
    p.suspect('c1');
    await p.probeNow(); // joins the suspect probe already running
    expect(p.isReady('c1')).toBe(false);
    expect(lost.aborted).toBe(true);
    expect(changes).toEqual(['c1 true', 'c1 false']);
    expect(p.lostSignal('c1').aborted).toBe(false);
  });

  it('keeps a suspected member Ready when the probe answers', async () => {
    const { p } = prober({ members: [{ name: 'c1', clients: fakeClients('c1') }], probe: async () => OK });
    await p.probeNow();
    p.suspect('c1');
    await p.probeNow();
    expect(p.isReady('c1')).toBe(true);
  });

  it('forgets members that were unjoined', async () => {
    const members: HealthMember[] = [{ name: 'c1', clients: fakeClients('c1') }];
    const { p } = prober({ members, probe: async () => OK });
    await p.probeNow();
    members.pop();
    await p.probeNow();
    expect(p.status('c1')).toBeUndefined();
    expect(p.isReady('c1')).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------

describe('probeCluster', () => {
  let server: Server | undefined;
  const seen: string[] = [];
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r) ?? r(undefined));
    server = undefined;
    seen.length = 0;
  });

  /** A plain-HTTP stand-in API server on loopback (client-node allows http only with skip-TLS). */
  async function serve(handler: (path: string) => { status: number; body: string } | 'hang') {
    server = createServer((req, res) => {
      seen.push(`${req.url} ${req.headers.authorization ?? ''}`);
      const r = handler(req.url ?? '');
      if (r === 'hang') return;
      res.writeHead(r.status).end(r.body);
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    return {
      kc: kubeConfigForEndpoint({
        name: 't',
        server: `http://127.0.0.1:${port}`,
        token: 's3cret',
        insecureSkipTLSVerify: true,
      }),
    };
  }

  it('is ok with the version when /healthz says ok, using the cluster credentials', async () => {
    const c = await serve((p) =>
      p === '/healthz' ? { status: 200, body: 'ok' } : { status: 200, body: '{"gitVersion":"v1.36.3"}' },
    );
    expect(await probeCluster(c)).toEqual({ ok: true, offline: false, version: 'v1.36.3' });
    expect(seen).toEqual(['/healthz Bearer s3cret', '/version Bearer s3cret']);
  });

  it('is reachable but not ok when /healthz answers anything else', async () => {
    const c = await serve((p) =>
      p === '/healthz'
        ? { status: 500, body: '[-]etcd failed\nhealthz check failed' }
        : { status: 403, body: '' },
    );
    expect(await probeCluster(c)).toEqual({ ok: false, offline: false, error: 'HTTP 500: [-]etcd failed' });
  });

  it('is offline when nothing answers within the timeout', async () => {
    const c = await serve(() => 'hang');
    const r = await probeCluster(c, 200);
    expect(r).toEqual({ ok: false, offline: true, error: 'no answer within 200 ms' });
  });

  it('is offline with the connection error when nothing listens', async () => {
    const c = await serve(() => ({ status: 200, body: 'ok' }));
    await new Promise((r) => server?.close(r));
    server = undefined;
    const r = await probeCluster(c, 1000);
    expect(r.offline).toBe(true);
    expect(r.error).toMatch(/ECONNREFUSED/);
  });
});
