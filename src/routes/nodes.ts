/**
 * Reading a cluster's Nodes for the route planner: name, InternalIP(s), spec.podCIDR(s), and where
 * the node lives for `--via netns`.
 *
 * The network namespace of a node comes, in this order, from
 * 1. a netns map given on the command line (`--netns-map`), keyed `<cluster>/<node>` or `<node>`:
 *    inline `node-a=ns-a,cluster1/node-b=ns-b`, a JSON object `{"node-a": "ns-a"}`, or the testbed's
 *    status JSON (`{"clusters":[{"name":…, "nodes":[{"name":…, "netns":…}]}]}`), inline or in a file;
 * 2. the Node annotation `fedctl.io/netns` (what a testbed that creates nodes can set once);
 * 3. nothing: the executor then reports the node as failed with this advice.
 */

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { KubernetesObject, V1Node } from '@kubernetes/client-node';
import { NETNS_ANNOTATION } from '../api/constants.ts';
import type { ClusterClients } from '../kube/clients.ts';
import { errorMessage } from '../kube/errors.ts';
import { NODE_REF } from '../kube/refs.ts';
import { listResource } from '../kube/resources.ts';
import type { PlanCluster, PlanNode } from './planner.ts';

export { NETNS_ANNOTATION };

/** Node → network namespace, keyed `<cluster>/<node>` or `<node>`. */
export type NetnsMap = ReadonlyMap<string, string>;

/** The netns of a node: the map (cluster-qualified key first), else the annotation. */
export function netnsOf(cluster: string, node: V1Node, map: NetnsMap = new Map()): string | undefined {
  const name = node.metadata?.name ?? '';
  return (
    map.get(`${cluster}/${name}`) ??
    map.get(name) ??
    (node.metadata?.annotations?.[NETNS_ANNOTATION] || undefined)
  );
}

/** A Node as the planner sees it. Pure. */
export function planNodeOf(cluster: string, node: V1Node, map?: NetnsMap): PlanNode {
  const internal = (node.status?.addresses ?? [])
    .filter((a) => a.type === 'InternalIP' && a.address)
    .map((a) => a.address);
  const out: PlanNode = { name: node.metadata?.name ?? '', ip: internal[0] ?? '' };
  if (internal.length > 1) out.ips = internal.slice(1);
  if (node.spec?.podCIDR) out.podCIDR = node.spec.podCIDR;
  if ((node.spec?.podCIDRs ?? []).length > 0) out.podCIDRs = [...node.spec!.podCIDRs!];
  const netns = netnsOf(cluster, node, map);
  if (netns) out.netns = netns;
  return out;
}

/**
 * Parses a netns map: `key=value` pairs separated by commas or newlines, a JSON object of strings,
 * or the testbed status JSON. Throws naming the part it cannot read.
 */
export function parseNetnsMap(text: string): Map<string, string> {
  const trimmed = text.trim();
  const out = new Map<string, string>();
  if (trimmed === '') return out;
  if (trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (e) {
      throw new Error(`netns map is not valid JSON: ${(e as Error).message}`);
    }
    const status = json as { clusters?: unknown };
    if (Array.isArray(status.clusters)) return fromTestbedStatus(status.clusters);
    for (const [k, v] of Object.entries(json as Record<string, unknown>)) {
      if (typeof v !== 'string' || v === '')
        throw new Error(`netns map entry ${JSON.stringify(k)} is not a non-empty string`);
      out.set(k, v);
    }
    return out;
  }
  for (const part of trimmed.split(/[,\n]/)) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq <= 0 || eq === p.length - 1)
      throw new Error(
        `netns map entry ${JSON.stringify(p)} is not <node>=<netns> or <cluster>/<node>=<netns>`,
      );
    out.set(p.slice(0, eq).trim(), p.slice(eq + 1).trim());
  }
  return out;
}

function fromTestbedStatus(clusters: unknown[]): Map<string, string> {
  const out = new Map<string, string>();
  const bare = new Map<string, string | null>();
  for (const c of clusters as { name?: unknown; nodes?: unknown }[]) {
    if (typeof c?.name !== 'string' || !Array.isArray(c.nodes)) continue;
    for (const n of c.nodes as { name?: unknown; netns?: unknown }[]) {
      if (typeof n?.name !== 'string' || typeof n.netns !== 'string' || n.netns === '') continue;
      out.set(`${c.name}/${n.name}`, n.netns);
      // A bare node name is only usable when no other cluster has a node of that name.
      bare.set(n.name, bare.has(n.name) && bare.get(n.name) !== n.netns ? null : n.netns);
    }
  }
  for (const [name, netns] of bare) if (netns !== null) out.set(name, netns);
  return out;
}

/** `--netns-map` value: a file (JSON or key=value lines) when such a file exists, else inline text. */
export async function loadNetnsMap(arg: string): Promise<Map<string, string>> {
  if (existsSync(arg)) {
    try {
      return parseNetnsMap(await readFile(arg, 'utf8'));
    } catch (e) {
      throw new Error(`--netns-map ${arg}: ${(e as Error).message}`);
    }
  }
  return parseNetnsMap(arg);
}

/** Reads a cluster's Nodes into a planner cluster, sorted by node name. Throws with the cluster name. */
export async function readClusterNodes(
  clients: ClusterClients,
  opts: { netnsMap?: NetnsMap; labelSelector?: string } = {},
): Promise<PlanCluster> {
  let items: V1Node[];
  try {
    items = (
      await listResource<V1Node & KubernetesObject>(clients.kc, NODE_REF, {
        labelSelector: opts.labelSelector,
      })
    ).items;
  } catch (e) {
    throw new Error(`cluster ${clients.name}: listing Nodes: ${errorMessage(e)}`, { cause: e });
  }
  const nodes = items.map((n) => planNodeOf(clients.name, n, opts.netnsMap));
  nodes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { name: clients.name, nodes };
}
