/**
 * Runs a route plan on the nodes: `docker exec <node> ip …` for kind (nodes are containers named
 * like the Node) or `ip netns exec <netns> ip …` for the local testbed (nodes are network
 * namespaces). Idempotent: each node's table is read first (`ip route show`), a route already
 * present with the planned gateway is reported `unchanged`, anything else is set with
 * `ip route replace`. Delete mode removes only routes that still point at the planned gateway.
 *
 * Commands go through a CommandRunner (src/kube/exec.ts), so tests pass a fake and assert on the
 * exact command lines; a missing docker/ip binary stops the run with "is X installed?".
 */

import { CommandNotFoundError, type CommandRunner, formatCommand, run } from '../kube/exec.ts';
import { type Family, parseCidr } from './cidr.ts';
import { ipRouteArgs, type RouteSpec } from './planner.ts';

export type RouteVia = 'docker' | 'netns';

export type RouteOutcome =
  /** Not there before, added. */
  | 'added'
  /** There with another gateway (or type), replaced. */
  | 'replaced'
  /** Already there with the planned gateway. */
  | 'unchanged'
  /** Removed (delete mode). */
  | 'deleted'
  /** Nothing to remove: no route for the range, or one that fedctl did not plan (delete mode). */
  | 'absent'
  | 'failed';

export interface RouteResult {
  route: RouteSpec;
  outcome: RouteOutcome;
  /** The command run to change the route, when one ran. */
  command?: string;
  error?: string;
}

export interface ExecuteOptions {
  via: RouteVia;
  /** Remove the planned routes instead of setting them. */
  delete?: boolean;
  runner?: CommandRunner;
}

/** A route as `ip route show` prints it, keyed by canonical destination. */
export interface InstalledRoute {
  dest: string;
  via?: string;
  dev?: string;
  /** unicast unless the line starts with another type (blackhole, unreachable, …). */
  type: string;
}

const NODE_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const NETNS_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const ROUTE_TYPES = new Set([
  'unicast',
  'local',
  'broadcast',
  'multicast',
  'throw',
  'unreachable',
  'prohibit',
  'blackhole',
  'nat',
  'anycast',
]);

/** The command (binary and arguments) that runs `ip <ipArgs>` on a node. Throws for unusable names. */
export function nodeCommand(
  via: RouteVia,
  node: Pick<RouteSpec, 'node' | 'netns' | 'cluster'>,
  ipArgs: readonly string[],
): { cmd: string; args: string[] } {
  if (via === 'docker') {
    // kind names each node container like its Node; the name is checked so it cannot pass as a docker flag.
    if (!NODE_NAME.test(node.node))
      throw new Error(`node name ${JSON.stringify(node.node)} is not a usable container name`);
    return { cmd: 'docker', args: ['exec', node.node, 'ip', ...ipArgs] };
  }
  if (!node.netns) {
    throw new Error(
      `node ${node.node} of cluster ${node.cluster} has no network namespace: annotate the Node with fedctl.io/netns or pass --netns-map`,
    );
  }
  if (!NETNS_NAME.test(node.netns) || node.netns.length > 255) {
    throw new Error(
      `network namespace ${JSON.stringify(node.netns)} of node ${node.node} is not a valid name`,
    );
  }
  return { cmd: 'ip', args: ['netns', 'exec', node.netns, 'ip', ...ipArgs] };
}

/** Parses `ip [-6] route show` output into installed routes keyed by canonical destination. */
export function parseRouteTable(text: string, family: Family): Map<string, InstalledRoute> {
  const out = new Map<string, InstalledRoute>();
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0 || /^\s/.test(line)) continue; // multipath "nexthop" continuation lines
    let type = 'unicast';
    if (ROUTE_TYPES.has(words[0]!)) type = words.shift()!;
    const destText = words.shift();
    if (!destText || destText === 'default') continue;
    let dest: string;
    try {
      const c = parseCidr(destText);
      if (c.family !== family) continue;
      dest = c.text;
    } catch {
      continue;
    }
    const r: InstalledRoute = { dest, type };
    for (let i = 0; i < words.length - 1; i++) {
      if (words[i] === 'via') {
        // `via inet6 fe80::1` names the family before the address.
        const next = words[i + 1]!;
        r.via = next === 'inet' || next === 'inet6' ? words[i + 2] : next;
      } else if (words[i] === 'dev') r.dev = words[i + 1];
    }
    if (!out.has(dest)) out.set(dest, r);
  }
  return out;
}

export type RouteStep = 'unchanged' | 'add' | 'replace' | 'delete' | 'absent';

/** What to do for one planned route given the node's table. Pure. */
export function routeStep(
  installed: ReadonlyMap<string, InstalledRoute>,
  route: RouteSpec,
  remove: boolean,
): RouteStep {
  const cur = installed.get(route.cidr);
  const ours = cur !== undefined && cur.type === 'unicast' && cur.via === route.via;
  if (remove) return ours ? 'delete' : 'absent';
  if (ours) return 'unchanged';
  return cur ? 'replace' : 'add';
}

/**
 * Sets (or, with `delete`, removes) the planned routes node by node and reports each route's
 * outcome. A node whose table cannot be read or whose command fails gets `failed` with the error;
 * a missing docker/ip binary throws CommandNotFoundError.
 */
export async function executeRoutes(
  routes: readonly RouteSpec[],
  opts: ExecuteOptions,
): Promise<RouteResult[]> {
  const runner = opts.runner ?? run;
  const remove = opts.delete === true;
  const byNode = new Map<string, RouteSpec[]>();
  for (const r of routes) {
    const key = `${r.cluster}\u0000${r.node}`;
    byNode.set(key, [...(byNode.get(key) ?? []), r]);
  }
  const results: RouteResult[] = [];
  for (const nodeRoutes of byNode.values()) {
    const first = nodeRoutes[0]!;
    const tables = new Map<Family, Map<string, InstalledRoute>>();
    try {
      for (const family of [...new Set(nodeRoutes.map((r) => r.family))].sort()) {
        const { cmd, args } = nodeCommand(opts.via, first, [
          ...(family === 6 ? ['-6'] : []),
          'route',
          'show',
        ]);
        const out = await runner(cmd, args);
        tables.set(family, parseRouteTable(out.stdout, family));
      }
    } catch (e) {
      if (e instanceof CommandNotFoundError) throw e;
      const error = `reading the routes of node ${first.node} (cluster ${first.cluster}): ${(e as Error).message}`;
      for (const route of nodeRoutes) results.push({ route, outcome: 'failed', error });
      continue;
    }
    for (const route of nodeRoutes) {
      const step = routeStep(tables.get(route.family)!, route, remove);
      if (step === 'unchanged' || step === 'absent') {
        results.push({ route, outcome: step });
        continue;
      }
      const { cmd, args } = nodeCommand(
        opts.via,
        route,
        ipRouteArgs(route, step === 'delete' ? 'del' : 'replace'),
      );
      const command = formatCommand(cmd, args);
      try {
        await runner(cmd, args);
        results.push({
          route,
          outcome: step === 'delete' ? 'deleted' : step === 'add' ? 'added' : 'replaced',
          command,
        });
      } catch (e) {
        if (e instanceof CommandNotFoundError) throw e;
        results.push({ route, outcome: 'failed', command, error: (e as Error).message });
      }
    }
  }
  return results;
}

/** Counts of outcomes, for a one-line summary (`3 added, 5 unchanged`). */
export function summarizeRouteResults(results: readonly RouteResult[]): string {
  const counts = new Map<RouteOutcome, number>();
  for (const r of results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  const order: RouteOutcome[] = ['added', 'replaced', 'deleted', 'unchanged', 'absent', 'failed'];
  const parts = order.filter((o) => counts.has(o)).map((o) => `${counts.get(o)} ${o}`);
  return parts.length > 0 ? parts.join(', ') : 'no routes';
}
