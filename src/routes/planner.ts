/**
 * Hand-made routes between clusters' pod networks, as in the multi-cluster kind walkthroughs: every
 * node of every cluster gets, for every node of every other cluster, `ip route replace <that node's
 * pod CIDR> via <that node's IP>`. Pure: input is what nodes.ts reads, output is route specs and the
 * exact `ip` argument lists the executors run.
 *
 * The plan is refused (RoutePlanError) when it would route wrongly rather than not at all: pod
 * ranges of two clusters that overlap (a packet could not tell which cluster it is for), two nodes
 * of one cluster with overlapping ranges, or a pod range that contains a node address (the route
 * would capture traffic to that node). Nodes that merely lack data are skipped with a reason.
 */

import { type Cidr, CidrError, cidrContains, cidrsOverlap, type Family, parseCidr, parseIp } from './cidr.ts';

export interface PlanNode {
  name: string;
  /** The node's InternalIP. */
  ip: string;
  /** Further InternalIPs (dual-stack): a pod range uses the first address of its own family. */
  ips?: string[];
  /** spec.podCIDR. */
  podCIDR?: string;
  /** spec.podCIDRs (dual-stack); podCIDR is used when this is empty. */
  podCIDRs?: string[];
  /** Network namespace the node lives in (local testbed). */
  netns?: string;
}

export interface PlanCluster {
  name: string;
  nodes: PlanNode[];
}

export interface RouteSpec {
  /** Where the route is installed. */
  cluster: string;
  node: string;
  netns?: string;
  /** Destination: the other node's pod range, canonical. */
  cidr: string;
  family: Family;
  /** Gateway: the other node's address. */
  via: string;
  viaCluster: string;
  viaNode: string;
}

export interface SkippedNode {
  cluster: string;
  node: string;
  reason: string;
}

export interface RoutePlan {
  routes: RouteSpec[];
  skipped: SkippedNode[];
}

export class RoutePlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RoutePlanError';
  }
}

interface Destination {
  cluster: string;
  node: string;
  cidr: Cidr;
  via: string;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Plans the routes between every pair of clusters; throws RoutePlanError for unsafe input. */
export function planRoutes(clusters: readonly PlanCluster[]): RoutePlan {
  const names = new Set<string>();
  for (const c of clusters) {
    if (names.has(c.name)) throw new RoutePlanError(`cluster ${c.name} is listed twice`);
    names.add(c.name);
  }
  const skipped: SkippedNode[] = [];
  const destinations: Destination[] = [];
  const nodeIps: { cluster: string; node: string; ip: string }[] = [];

  for (const c of clusters) {
    for (const n of c.nodes) {
      const where = `node ${n.name} of cluster ${c.name}`;
      const addresses = [n.ip, ...(n.ips ?? [])].filter((a) => a !== undefined && a !== '');
      for (const a of addresses) {
        try {
          parseIp(a);
        } catch (e) {
          throw new RoutePlanError(`${where}: address ${(e as Error).message}`);
        }
        nodeIps.push({ cluster: c.name, node: n.name, ip: a });
      }
      const ranges = n.podCIDRs && n.podCIDRs.length > 0 ? n.podCIDRs : n.podCIDR ? [n.podCIDR] : [];
      if (ranges.length === 0) {
        skipped.push({
          cluster: c.name,
          node: n.name,
          reason: 'no pod CIDR (spec.podCIDR is empty): other clusters cannot reach its pods',
        });
        continue;
      }
      for (const r of ranges) {
        let cidr: Cidr;
        try {
          cidr = parseCidr(r);
        } catch (e) {
          throw new RoutePlanError(`${where}: pod CIDR ${e instanceof CidrError ? e.message : String(e)}`);
        }
        const via = addresses.find((a) => parseIp(a).family === cidr.family);
        if (!via) {
          skipped.push({
            cluster: c.name,
            node: n.name,
            reason: `no IPv${cidr.family} address to route ${cidr.text} via`,
          });
          continue;
        }
        destinations.push({ cluster: c.name, node: n.name, cidr, via });
      }
    }
  }

  for (let i = 0; i < destinations.length; i++) {
    for (let j = i + 1; j < destinations.length; j++) {
      const a = destinations[i]!;
      const b = destinations[j]!;
      if (!cidrsOverlap(a.cidr, b.cidr)) continue;
      if (a.cluster !== b.cluster) {
        throw new RoutePlanError(
          `pod CIDRs overlap across clusters: ${a.cidr.text} (cluster ${a.cluster}, node ${a.node}) and ${b.cidr.text} (cluster ${b.cluster}, node ${b.node})`,
        );
      }
      throw new RoutePlanError(
        `pod CIDRs overlap inside cluster ${a.cluster}: ${a.cidr.text} (node ${a.node}) and ${b.cidr.text} (node ${b.node})`,
      );
    }
  }
  for (const d of destinations) {
    const captured = nodeIps.find((n) => cidrContains(d.cidr, n.ip));
    if (captured) {
      throw new RoutePlanError(
        `pod CIDR ${d.cidr.text} of cluster ${d.cluster} (node ${d.node}) contains the address ${captured.ip} of node ${captured.node} in cluster ${captured.cluster}`,
      );
    }
  }

  const routes: RouteSpec[] = [];
  for (const c of clusters) {
    for (const n of c.nodes) {
      for (const d of destinations) {
        if (d.cluster === c.name) continue;
        routes.push({
          cluster: c.name,
          node: n.name,
          ...(n.netns ? { netns: n.netns } : {}),
          cidr: d.cidr.text,
          family: d.cidr.family,
          via: d.via,
          viaCluster: d.cluster,
          viaNode: d.node,
        });
      }
    }
  }
  routes.sort(
    (a, b) => byString(a.cluster, b.cluster) || byString(a.node, b.node) || byString(a.cidr, b.cidr),
  );
  skipped.sort((a, b) => byString(a.cluster, b.cluster) || byString(a.node, b.node));
  return { routes, skipped };
}

export type RouteAction = 'replace' | 'del';

/** The `ip` arguments for one route: `[-6] route replace|del <cidr> via <ip>`. */
export function ipRouteArgs(
  route: Pick<RouteSpec, 'cidr' | 'via' | 'family'>,
  action: RouteAction,
): string[] {
  return [...(route.family === 6 ? ['-6'] : []), 'route', action, route.cidr, 'via', route.via];
}

/** The command line for one route, e.g. `ip route replace 10.245.1.0/24 via 172.18.0.3`. */
export function ipRouteCommand(
  route: Pick<RouteSpec, 'cidr' | 'via' | 'family'>,
  action: RouteAction,
): string {
  return ['ip', ...ipRouteArgs(route, action)].join(' ');
}
