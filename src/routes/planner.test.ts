import { describe, expect, it } from 'vitest';
import { ipRouteArgs, ipRouteCommand, type PlanCluster, planRoutes, RoutePlanError } from './planner.ts';

const two: PlanCluster[] = [
  {
    name: 'c0',
    nodes: [
      { name: 'c0-node0', ip: '172.20.0.2', podCIDR: '10.240.0.0/24', netns: 'fb-c0-n0' },
      { name: 'c0-node1', ip: '172.20.0.3', podCIDR: '10.240.1.0/24', netns: 'fb-c0-n1' },
    ],
  },
  {
    name: 'c1',
    nodes: [{ name: 'c1-node0', ip: '172.20.1.2', podCIDR: '10.241.0.0/24', netns: 'fb-c1-n0' }],
  },
];

describe('planRoutes', () => {
  it('routes every node to every pod CIDR of the other clusters via that node IP', () => {
    const plan = planRoutes(two);
    expect(plan.skipped).toEqual([]);
    expect(plan.routes.map((r) => `${r.node}@${r.netns}: ${ipRouteCommand(r, 'replace')}`)).toEqual([
      'c0-node0@fb-c0-n0: ip route replace 10.241.0.0/24 via 172.20.1.2',
      'c0-node1@fb-c0-n1: ip route replace 10.241.0.0/24 via 172.20.1.2',
      'c1-node0@fb-c1-n0: ip route replace 10.240.0.0/24 via 172.20.0.2',
      'c1-node0@fb-c1-n0: ip route replace 10.240.1.0/24 via 172.20.0.3',
    ]);
    expect(plan.routes[0]).toEqual({
      cluster: 'c0',
      node: 'c0-node0',
      netns: 'fb-c0-n0',
      cidr: '10.241.0.0/24',
      family: 4,
      via: '172.20.1.2',
      viaCluster: 'c1',
      viaNode: 'c1-node0',
    });
  });

  it('plans nothing for a single cluster and for no clusters', () => {
    expect(planRoutes([two[0]!])).toEqual({ routes: [], skipped: [] });
    expect(planRoutes([])).toEqual({ routes: [], skipped: [] });
  });

  it('gives N clusters of M nodes M*M*N*(N-1) routes', () => {
    const clusters = [0, 1, 2].map((c) => ({
      name: `c${c}`,
      nodes: [0, 1].map((n) => ({
        name: `c${c}-n${n}`,
        ip: `172.20.${c}.${n + 2}`,
        podCIDR: `10.24${c}.${n}.0/24`,
      })),
    }));
    expect(planRoutes(clusters).routes).toHaveLength(2 * 2 * 3 * 2);
  });

  it('skips a node without pod CIDR as a destination but still installs routes on it', () => {
    const plan = planRoutes([two[0]!, { name: 'c1', nodes: [{ name: 'c1-node0', ip: '172.20.1.2' }] }]);
    expect(plan.skipped).toEqual([
      {
        cluster: 'c1',
        node: 'c1-node0',
        reason: 'no pod CIDR (spec.podCIDR is empty): other clusters cannot reach its pods',
      },
    ]);
    expect(plan.routes.map((r) => `${r.node} ${r.cidr}`)).toEqual([
      'c1-node0 10.240.0.0/24',
      'c1-node0 10.240.1.0/24',
    ]);
  });

  it('routes dual-stack pod ranges via the node address of the same family, with ip -6 for IPv6', () => {
    const plan = planRoutes([
      {
        name: 'a',
        nodes: [{ name: 'a0', ip: '172.20.0.2', ips: ['fd20::2'], podCIDRs: ['10.240.0.0/24', 'fd40::/64'] }],
      },
      { name: 'b', nodes: [{ name: 'b0', ip: '172.20.1.2', podCIDR: '10.241.0.0/24' }] },
    ]);
    expect(plan.routes.filter((r) => r.node === 'b0').map((r) => ipRouteCommand(r, 'replace'))).toEqual([
      'ip route replace 10.240.0.0/24 via 172.20.0.2',
      'ip -6 route replace fd40::/64 via fd20::2',
    ]);
  });

  it('skips an IPv6 pod range of a node without IPv6 address', () => {
    const plan = planRoutes([
      { name: 'a', nodes: [{ name: 'a0', ip: '172.20.0.2', podCIDRs: ['fd40::/64'] }] },
      { name: 'b', nodes: [{ name: 'b0', ip: '172.20.1.2', podCIDR: '10.241.0.0/24' }] },
    ]);
    expect(plan.skipped).toEqual([
      { cluster: 'a', node: 'a0', reason: 'no IPv6 address to route fd40::/64 via' },
    ]);
  });

  const refused: [string, PlanCluster[], string][] = [
    [
      'overlapping pod CIDRs of two clusters, naming both clusters and ranges',
      [two[0]!, { name: 'c1', nodes: [{ name: 'c1-node0', ip: '172.20.1.2', podCIDR: '10.240.0.0/16' }] }],
      'pod CIDRs overlap across clusters: 10.240.0.0/24 (cluster c0, node c0-node0) and 10.240.0.0/16 (cluster c1, node c1-node0)',
    ],
    [
      'identical pod CIDRs of two clusters',
      [two[0]!, { name: 'c1', nodes: [{ name: 'c1-node0', ip: '172.20.1.2', podCIDR: '10.240.1.0/24' }] }],
      'pod CIDRs overlap across clusters: 10.240.1.0/24 (cluster c0, node c0-node1) and 10.240.1.0/24 (cluster c1, node c1-node0)',
    ],
    [
      'two nodes of one cluster with the same pod CIDR',
      [
        {
          name: 'c0',
          nodes: [
            { name: 'a', ip: '172.20.0.2', podCIDR: '10.240.0.0/24' },
            { name: 'b', ip: '172.20.0.3', podCIDR: '10.240.0.0/24' },
          ],
        },
      ],
      'pod CIDRs overlap inside cluster c0: 10.240.0.0/24 (node a) and 10.240.0.0/24 (node b)',
    ],
    [
      'a pod CIDR that contains a node address',
      [two[0]!, { name: 'c1', nodes: [{ name: 'c1-node0', ip: '172.20.1.2', podCIDR: '172.20.0.0/24' }] }],
      'pod CIDR 172.20.0.0/24 of cluster c1 (node c1-node0) contains the address 172.20.0.2 of node c0-node0 in cluster c0',
    ],
    [
      'a pod CIDR with host bits set',
      [{ name: 'c0', nodes: [{ name: 'a', ip: '172.20.0.2', podCIDR: '10.240.0.5/24' }] }],
      'node a of cluster c0: pod CIDR "10.240.0.5/24" has host bits set (the network is 10.240.0.0/24)',
    ],
    [
      'a node address that is not an IP',
      [{ name: 'c0', nodes: [{ name: 'a', ip: 'node-a.local', podCIDR: '10.240.0.0/24' }] }],
      'node a of cluster c0: address "node-a.local" is not an IP address',
    ],
    ['a cluster listed twice', [two[1]!, two[1]!], 'cluster c1 is listed twice'],
  ];
  for (const [name, input, message] of refused) {
    it(`refuses ${name}`, () => {
      expect(() => planRoutes(input)).toThrow(RoutePlanError);
      expect(() => planRoutes(input)).toThrow(message);
    });
  }
});

describe('ipRouteArgs', () => {
  it('builds replace and del argument lists for both families', () => {
    expect(ipRouteArgs({ cidr: '10.241.0.0/24', via: '172.20.1.2', family: 4 }, 'replace')).toEqual([
      'route',
      'replace',
      '10.241.0.0/24',
      'via',
      '172.20.1.2',
    ]);
    expect(ipRouteArgs({ cidr: 'fd40::/64', via: 'fd20::2', family: 6 }, 'del')).toEqual([
      '-6',
      'route',
      'del',
      'fd40::/64',
      'via',
      'fd20::2',
    ]);
    expect(ipRouteCommand({ cidr: '10.241.0.0/24', via: '172.20.1.2', family: 4 }, 'del')).toBe(
      'ip route del 10.241.0.0/24 via 172.20.1.2',
    );
  });
});
