import { describe, expect, it } from 'vitest';
import { CommandNotFoundError } from '../kube/exec.ts';
import { fakeRunner } from '../testing/exec.ts';
import {
  executeRoutes,
  nodeCommand,
  parseRouteTable,
  routeStep,
  summarizeRouteResults,
} from './executors.ts';
import { planRoutes, type RouteSpec } from './planner.ts';

const plan = planRoutes([
  {
    name: 'c0',
    nodes: [
      { name: 'c0-node0', ip: '172.20.0.2', podCIDR: '10.240.0.0/24', netns: 'tb-c0-n0' },
      { name: 'c0-node1', ip: '172.20.0.3', podCIDR: '10.240.1.0/24', netns: 'tb-c0-n1' },
    ],
  },
  {
    name: 'c1',
    nodes: [{ name: 'c1-node0', ip: '172.20.1.2', podCIDR: '10.241.0.0/24', netns: 'tb-c1-n0' }],
  },
]).routes;

const TABLE_C1 = `default via 172.20.1.1 dev eth0
10.240.0.0/24 via 172.20.0.2 dev eth0
10.240.1.0/24 via 172.20.0.9 dev eth0
172.20.1.0/24 dev eth0 proto kernel scope link src 172.20.1.2
`;

describe('nodeCommand', () => {
  const route = plan[0]!;
  it('wraps ip in docker exec with the node name for kind', () => {
    expect(nodeCommand('docker', route, ['route', 'show'])).toEqual({
      cmd: 'docker',
      args: ['exec', 'c0-node0', 'ip', 'route', 'show'],
    });
  });
  it('wraps ip in ip netns exec with the node namespace for the local testbed', () => {
    expect(nodeCommand('netns', route, ['route', 'show'])).toEqual({
      cmd: 'ip',
      args: ['netns', 'exec', 'tb-c0-n0', 'ip', 'route', 'show'],
    });
  });
  it('says how to provide a missing network namespace', () => {
    expect(() => nodeCommand('netns', { ...route, netns: undefined }, [])).toThrow(
      'node c0-node0 of cluster c0 has no network namespace: annotate the Node with fedctl.io/netns or pass --netns-map',
    );
  });
  it('refuses names that could pass as command-line flags or paths', () => {
    expect(() => nodeCommand('docker', { ...route, node: '--privileged' }, [])).toThrow(
      /not a usable container name/,
    );
    expect(() => nodeCommand('netns', { ...route, netns: '-n' }, [])).toThrow(/not a valid name/);
    expect(() => nodeCommand('netns', { ...route, netns: '../x' }, [])).toThrow(/not a valid name/);
  });
});

describe('parseRouteTable', () => {
  it('keys routes by canonical destination with gateway, device and type', () => {
    const t = parseRouteTable(
      `${TABLE_C1}blackhole 10.9.0.0/16\n10.0.0.5 via 172.20.1.1 dev eth0\n10.7.0.0/16 proto static\n\tnexthop via 172.20.1.3 dev eth0 weight 1\n`,
      4,
    );
    expect([...t.values()]).toEqual([
      { dest: '10.240.0.0/24', via: '172.20.0.2', dev: 'eth0', type: 'unicast' },
      { dest: '10.240.1.0/24', via: '172.20.0.9', dev: 'eth0', type: 'unicast' },
      { dest: '172.20.1.0/24', dev: 'eth0', type: 'unicast' },
      { dest: '10.9.0.0/16', type: 'blackhole' },
      { dest: '10.0.0.5/32', via: '172.20.1.1', dev: 'eth0', type: 'unicast' },
      { dest: '10.7.0.0/16', type: 'unicast' },
    ]);
  });
  it('reads IPv6 tables, including gateways written with their family', () => {
    const t = parseRouteTable(
      'fd40::/64 via fd20::2 dev eth0 metric 1024 pref medium\nfd41::/64 via inet6 fd20::3 dev eth0\n',
      6,
    );
    expect(t.get('fd40::/64')?.via).toBe('fd20::2');
    expect(t.get('fd41::/64')?.via).toBe('fd20::3');
  });
});

describe('routeStep', () => {
  const table = parseRouteTable(TABLE_C1, 4);
  const [toN0, toN1] = plan.filter((r) => r.node === 'c1-node0') as [RouteSpec, RouteSpec];
  const missing: RouteSpec = { ...toN0, cidr: '10.250.0.0/24' };
  const cases: [string, RouteSpec, boolean, string][] = [
    ['leaves a route with the planned gateway alone', toN0, false, 'unchanged'],
    ['replaces a route with another gateway', toN1, false, 'replace'],
    ['adds a missing route', missing, false, 'add'],
    ['deletes a route with the planned gateway', toN0, true, 'delete'],
    ['leaves a route with another gateway when deleting', toN1, true, 'absent'],
    ['has nothing to delete for a missing route', missing, true, 'absent'],
  ];
  for (const [name, route, remove, want] of cases) {
    it(name, () => {
      expect(routeStep(table, route, remove)).toBe(want);
    });
  }
  it('replaces a blackhole for the range', () => {
    expect(routeStep(parseRouteTable('blackhole 10.240.0.0/24\n', 4), toN0, false)).toBe('replace');
  });
});

describe('executeRoutes', () => {
  const tables: Record<string, string> = {
    'tb-c0-n0': 'default via 172.20.0.1 dev eth0\n',
    'tb-c0-n1': '10.241.0.0/24 via 172.20.1.2 dev eth0\n',
    'tb-c1-n0': TABLE_C1,
  };
  const respond = (cmd: string, args: readonly string[]) => {
    if (cmd === 'ip' && args.at(-2) === 'route' && args.at(-1) === 'show') return tables[args[2]!] ?? '';
    return undefined;
  };

  it('reads each node table once, then adds, replaces or leaves each route', async () => {
    const runner = fakeRunner(respond);
    const results = await executeRoutes(plan, { via: 'netns', runner });
    expect(runner.commandLines()).toEqual([
      'ip netns exec tb-c0-n0 ip route show',
      'ip netns exec tb-c0-n0 ip route replace 10.241.0.0/24 via 172.20.1.2',
      'ip netns exec tb-c0-n1 ip route show',
      'ip netns exec tb-c1-n0 ip route show',
      'ip netns exec tb-c1-n0 ip route replace 10.240.1.0/24 via 172.20.0.3',
    ]);
    expect(results.map((r) => `${r.route.node} ${r.route.cidr} ${r.outcome}`)).toEqual([
      'c0-node0 10.241.0.0/24 added',
      'c0-node1 10.241.0.0/24 unchanged',
      'c1-node0 10.240.0.0/24 unchanged',
      'c1-node0 10.240.1.0/24 replaced',
    ]);
    expect(summarizeRouteResults(results)).toBe('1 added, 1 replaced, 2 unchanged');
  });

  it('changes nothing when applied again to nodes that already have every route', async () => {
    const all = Object.fromEntries(
      Object.keys(tables).map((ns) => [
        ns,
        plan
          .filter((r) => r.netns === ns)
          .map((r) => `${r.cidr} via ${r.via} dev eth0`)
          .join('\n'),
      ]),
    );
    const runner = fakeRunner((_cmd, args) => (args.at(-1) === 'show' ? all[args[2]!] : undefined));
    const results = await executeRoutes(plan, { via: 'netns', runner });
    expect(results.every((r) => r.outcome === 'unchanged')).toBe(true);
    expect(runner.commandLines().every((l) => l.endsWith('route show'))).toBe(true);
  });

  it('deletes only the routes that still point at the planned gateway', async () => {
    const runner = fakeRunner(respond);
    const results = await executeRoutes(plan, { via: 'netns', runner, delete: true });
    expect(runner.commandLines().filter((l) => !l.endsWith('show'))).toEqual([
      'ip netns exec tb-c0-n1 ip route del 10.241.0.0/24 via 172.20.1.2',
      'ip netns exec tb-c1-n0 ip route del 10.240.0.0/24 via 172.20.0.2',
    ]);
    expect(summarizeRouteResults(results)).toBe('2 deleted, 2 absent');
  });

  it('runs through docker exec for kind nodes and uses ip -6 for IPv6 routes', async () => {
    const v6 = planRoutes([
      { name: 'a', nodes: [{ name: 'a-control-plane', ip: 'fd20::2', podCIDR: 'fd40::/64' }] },
      { name: 'b', nodes: [{ name: 'b-control-plane', ip: 'fd20::3', podCIDR: 'fd41::/64' }] },
    ]).routes;
    const runner = fakeRunner();
    await executeRoutes(v6, { via: 'docker', runner });
    expect(runner.commandLines()).toEqual([
      'docker exec a-control-plane ip -6 route show',
      'docker exec a-control-plane ip -6 route replace fd41::/64 via fd20::3',
      'docker exec b-control-plane ip -6 route show',
      'docker exec b-control-plane ip -6 route replace fd40::/64 via fd20::2',
    ]);
  });

  it('marks a node failed when its table cannot be read, and goes on with the others', async () => {
    const runner = fakeRunner((cmd, args) =>
      args[2] === 'tb-c0-n0'
        ? { exitCode: 1, stderr: 'Cannot open network namespace "tb-c0-n0"' }
        : respond(cmd, args),
    );
    const results = await executeRoutes(plan, { via: 'netns', runner });
    expect(results[0]).toMatchObject({
      outcome: 'failed',
      error: expect.stringMatching(
        /reading the routes of node c0-node0 \(cluster c0\).*Cannot open network namespace/s,
      ),
    });
    expect(results.slice(1).map((r) => r.outcome)).toEqual(['unchanged', 'unchanged', 'replaced']);
  });

  it('marks a route failed when its command fails, with the command line', async () => {
    const runner = fakeRunner((cmd, args) =>
      args.includes('replace')
        ? { exitCode: 2, stderr: 'Error: Nexthop has invalid gateway.' }
        : respond(cmd, args),
    );
    const results = await executeRoutes(plan, { via: 'netns', runner });
    expect(results[0]).toMatchObject({
      outcome: 'failed',
      command: 'ip netns exec tb-c0-n0 ip route replace 10.241.0.0/24 via 172.20.1.2',
      error: expect.stringContaining('Nexthop has invalid gateway'),
    });
  });

  it('marks every route of a node without network namespace failed', async () => {
    const runner = fakeRunner(respond);
    const results = await executeRoutes([{ ...plan[0]!, netns: undefined }], { via: 'netns', runner });
    expect(results[0]).toMatchObject({
      outcome: 'failed',
      error: expect.stringContaining('annotate the Node with fedctl.io/netns'),
    });
    expect(runner.calls).toEqual([]);
  });

  it('stops with "is X installed?" when the binary is missing', async () => {
    const runner = fakeRunner((cmd) => {
      throw new CommandNotFoundError(cmd);
    });
    await expect(executeRoutes(plan, { via: 'docker', runner })).rejects.toThrow(
      'docker not found: is Docker installed and running?',
    );
  });
});
