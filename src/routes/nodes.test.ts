import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Node } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { fakeApiKubeConfig, statusResponse } from '../testing/fake-api.ts';
import { loadNetnsMap, netnsOf, parseNetnsMap, planNodeOf, readClusterNodes } from './nodes.ts';

const node = (
  name: string,
  extra: { ips?: string[]; podCIDR?: string; podCIDRs?: string[]; netns?: string } = {},
): V1Node => ({
  metadata: { name, ...(extra.netns ? { annotations: { 'fedctl.io/netns': extra.netns } } : {}) },
  spec: {
    ...(extra.podCIDR ? { podCIDR: extra.podCIDR } : {}),
    ...(extra.podCIDRs ? { podCIDRs: extra.podCIDRs } : {}),
  },
  status: {
    addresses: [
      { type: 'Hostname', address: name },
      ...(extra.ips ?? []).map((address) => ({ type: 'InternalIP', address })),
      { type: 'ExternalIP', address: '203.0.113.9' },
    ],
  },
});

describe('planNodeOf', () => {
  it('takes the first InternalIP, the others as extra addresses, and the pod CIDRs', () => {
    expect(
      planNodeOf(
        'c0',
        node('n0', {
          ips: ['172.20.0.2', 'fd20::2'],
          podCIDR: '10.240.0.0/24',
          podCIDRs: ['10.240.0.0/24', 'fd40::/64'],
        }),
      ),
    ).toEqual({
      name: 'n0',
      ip: '172.20.0.2',
      ips: ['fd20::2'],
      podCIDR: '10.240.0.0/24',
      podCIDRs: ['10.240.0.0/24', 'fd40::/64'],
    });
  });
  it('leaves the address empty for a node without InternalIP (the planner skips it as a gateway)', () => {
    expect(planNodeOf('c0', node('n0'))).toEqual({ name: 'n0', ip: '' });
  });
});

describe('netnsOf', () => {
  const n = node('n0', { netns: 'from-annotation' });
  it('prefers the cluster-qualified map entry, then the bare node entry, then the annotation', () => {
    expect(
      netnsOf(
        'c0',
        n,
        new Map([
          ['c0/n0', 'qualified'],
          ['n0', 'bare'],
        ]),
      ),
    ).toBe('qualified');
    expect(
      netnsOf(
        'c0',
        n,
        new Map([
          ['c1/n0', 'other'],
          ['n0', 'bare'],
        ]),
      ),
    ).toBe('bare');
    expect(netnsOf('c0', n)).toBe('from-annotation');
    expect(netnsOf('c0', node('n1'))).toBeUndefined();
  });
});

describe('parseNetnsMap', () => {
  it('reads key=value pairs separated by commas and newlines', () => {
    expect(parseNetnsMap('n0=ns0, c1/n1=ns1\nn2 = ns2\n')).toEqual(
      new Map([
        ['n0', 'ns0'],
        ['c1/n1', 'ns1'],
        ['n2', 'ns2'],
      ]),
    );
    expect(parseNetnsMap('  ')).toEqual(new Map());
  });
  it('reads a JSON object', () => {
    expect(parseNetnsMap('{"n0":"ns0"}')).toEqual(new Map([['n0', 'ns0']]));
  });
  it('reads the testbed status JSON, keeping bare node names only where they are unambiguous', () => {
    const status = {
      clusters: [
        {
          name: 'cluster0',
          nodes: [
            { name: 'cluster0-node0', ip: '172.20.0.2', podCIDR: '10.240.0.0/24', netns: 'fb12-c0-n0' },
            { name: 'dup', netns: 'a' },
          ],
        },
        {
          name: 'cluster1',
          nodes: [
            { name: 'dup', netns: 'b' },
            { name: 'kind-node', netns: null },
          ],
        },
      ],
      kubeconfig: '/tmp/kc',
    };
    expect(parseNetnsMap(JSON.stringify(status))).toEqual(
      new Map([
        ['cluster0/cluster0-node0', 'fb12-c0-n0'],
        ['cluster0/dup', 'a'],
        ['cluster1/dup', 'b'],
        ['cluster0-node0', 'fb12-c0-n0'],
      ]),
    );
  });
  it('refuses entries it cannot read, quoting them', () => {
    expect(() => parseNetnsMap('n0')).toThrow(
      'netns map entry "n0" is not <node>=<netns> or <cluster>/<node>=<netns>',
    );
    expect(() => parseNetnsMap('n0=')).toThrow(/"n0="/);
    expect(() => parseNetnsMap('{"n0": 3}')).toThrow(/"n0" is not a non-empty string/);
    expect(() => parseNetnsMap('{nope')).toThrow(/not valid JSON/);
  });
});

describe('loadNetnsMap', () => {
  it('reads a file when the argument names one, else parses the argument', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fedctl-netns-'));
    try {
      const file = join(dir, 'status.json');
      await writeFile(
        file,
        JSON.stringify({ clusters: [{ name: 'c', nodes: [{ name: 'n', netns: 'x' }] }] }),
      );
      expect(await loadNetnsMap(file)).toEqual(
        new Map([
          ['c/n', 'x'],
          ['n', 'x'],
        ]),
      );
      expect(await loadNetnsMap('n=y')).toEqual(new Map([['n', 'y']]));
      await writeFile(file, 'garbage');
      await expect(loadNetnsMap(file)).rejects.toThrow(`--netns-map ${file}: netns map entry "garbage"`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('readClusterNodes', () => {
  it('lists Nodes into a planner cluster sorted by name, with netns from map or annotation', async () => {
    const seen: string[] = [];
    const kc = fakeApiKubeConfig('c0', (req) => {
      seen.push(`${req.method} ${req.path} labelSelector=${req.query.get('labelSelector')}`);
      return {
        status: 200,
        body: {
          kind: 'NodeList',
          metadata: { resourceVersion: '7' },
          items: [
            node('n1', { ips: ['172.20.0.3'], podCIDR: '10.240.1.0/24', netns: 'ns1' }),
            node('n0', { ips: ['172.20.0.2'], podCIDR: '10.240.0.0/24' }),
          ],
        },
      };
    });
    expect(
      await readClusterNodes(
        { name: 'c0', kc },
        { netnsMap: new Map([['n0', 'ns0']]), labelSelector: 'a=b' },
      ),
    ).toEqual({
      name: 'c0',
      nodes: [
        { name: 'n0', ip: '172.20.0.2', podCIDR: '10.240.0.0/24', netns: 'ns0' },
        { name: 'n1', ip: '172.20.0.3', podCIDR: '10.240.1.0/24', netns: 'ns1' },
      ],
    });
    expect(seen).toEqual(['GET /api/v1/nodes labelSelector=a=b']);
  });
  it('names the cluster when listing fails', async () => {
    const kc = fakeApiKubeConfig('c0', () => statusResponse(403, 'Forbidden', 'nodes is forbidden'));
    await expect(readClusterNodes({ name: 'c0', kc })).rejects.toThrow(
      'cluster c0: listing Nodes: nodes is forbidden (HTTP 403, Forbidden)',
    );
  });
});
