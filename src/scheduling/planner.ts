// ReplicaSchedulingPreference planner: how many of `totalReplicas` each member cluster runs.
// KubeFed v0.10 semantics, so a federation moved from KubeFed keeps its replica layout:
// 1. clusters get preferences from their own entry, else from "*", else nothing (0 replicas);
//    no entries at all means {"*": {weight: 1}};
// 2. clusters are ordered by weight (descending), ties broken by an FNV-1 hash of cluster name and
//    object key (so single replicas do not all land on the alphabetically first cluster);
// 3. every cluster first gets its minReplicas, in that order, while replicas remain;
// 4. without rebalance, a cluster keeps the replicas it already runs (up to its max and capacity);
// 5. the rest is spread by weight, fractions rounded up, clusters dropping out at maxReplicas or
//    capacity, until nothing is left or nothing moves.
// Every candidate cluster is placed, some with 0 replicas (KubeFed did the same).

import type {
  ClusterPreferences,
  OverrideItem,
  Placement,
  ReplicaSchedulingPreferenceSpec,
} from '../api/types.ts';
import { type ClusterLabels, placementForNamespaced, selectClusters } from '../propagation/placement.ts';

export const WILDCARD = '*';
export const REPLICAS_PATH = '/spec/replicas';
/** The target kinds KubeFed's replica scheduler handled. */
export const SCHEDULABLE_KINDS: ReadonlySet<string> = new Set(['FederatedDeployment', 'FederatedReplicaSet']);

export interface PlanInput {
  spec: ReplicaSchedulingPreferenceSpec;
  /** Clusters that may receive replicas (ready, and selected if intersectWithClusterSelector). */
  clusters: readonly string[];
  /** Replicas running and ready per cluster now (used when rebalance is false). */
  currentReplicas?: Readonly<Record<string, number>>;
  /** Replicas a cluster can hold at most (pods beyond it were unschedulable). */
  estimatedCapacity?: Readonly<Record<string, number>>;
  /** `<namespace>/<name>` of the target, for the tie-break hash. */
  key?: string;
}

export interface ReplicaPlan {
  /** Sorted names of the clusters to place the target in. */
  clusters: string[];
  /** Replicas per placed cluster (planned plus overflow): what the `/spec/replicas` overrides say. */
  replicas: Record<string, number>;
  /** Replicas per cluster that fit (within max and capacity). */
  planned: Record<string, number>;
  /** Replicas beyond a cluster's capacity, asked for in case they fit after all. */
  overflow: Record<string, number>;
}

interface Named extends ClusterPreferences {
  name: string;
  hash: number;
}

/** Plans the replica layout. Pure; throws on negative or non-integer numbers. */
export function planReplicas(input: PlanInput): ReplicaPlan {
  const spec = input.spec;
  const total = nonNegativeInt(spec.totalReplicas, 'totalReplicas');
  const prefsByCluster =
    spec.clusters && Object.keys(spec.clusters).length > 0 ? spec.clusters : { [WILDCARD]: { weight: 1 } };
  const capacity = input.estimatedCapacity ?? {};
  const current = input.currentReplicas ?? {};
  const key = input.key ?? '';
  const candidates = [...new Set(input.clusters)];

  const plan = new Map<string, number>();
  const overflow = new Map<string, number>();
  let preferences: Named[] = [];
  for (const name of candidates) {
    const pref = Object.hasOwn(prefsByCluster, name) ? prefsByCluster[name] : prefsByCluster[WILDCARD];
    if (pref === undefined) {
      plan.set(name, 0);
      continue;
    }
    preferences.push({
      name,
      hash: fnv1(name + key),
      minReplicas: nonNegativeInt(pref.minReplicas ?? 0, `clusters[${name}].minReplicas`),
      maxReplicas:
        pref.maxReplicas === undefined || pref.maxReplicas === null
          ? undefined
          : nonNegativeInt(pref.maxReplicas, `clusters[${name}].maxReplicas`),
      weight: nonNegativeInt(pref.weight ?? 0, `clusters[${name}].weight`),
    });
  }
  preferences.sort(
    (a, b) => b.weight! - a.weight! || a.hash - b.hash || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );

  let remaining = total;

  // 3. Minimums first, in preference order.
  for (const p of preferences) {
    let min = Math.min(p.minReplicas!, remaining);
    if (capacity[p.name] !== undefined) min = Math.min(min, capacity[p.name]!);
    remaining -= min;
    plan.set(p.name, min);
  }

  // 4. Without rebalance, running replicas stay where they are.
  const preallocated = new Map<string, number>();
  if (!spec.rebalance) {
    for (const p of preferences) {
      const planned = plan.get(p.name) ?? 0;
      const count = current[p.name];
      if (count !== undefined && count > planned) {
        let target = count;
        if (p.maxReplicas !== undefined) target = Math.min(p.maxReplicas, target);
        if (capacity[p.name] !== undefined) target = Math.min(capacity[p.name]!, target);
        const extra = Math.max(0, Math.min(target - planned, remaining));
        remaining -= extra;
        preallocated.set(p.name, extra);
        plan.set(p.name, extra + planned);
      }
    }
  }

  // 5. Spread the rest by weight until it is gone or nothing moves. Each round either places all
  // that remains or fills at least one cluster; preallocated replicas are consumed first.
  let modified = true;
  while (modified && remaining > 0) {
    modified = false;
    const weightSum = preferences.reduce((sum, p) => sum + BigInt(p.weight!), 0n);
    if (weightSum === 0n) break;
    const toDistribute = BigInt(remaining);
    const stillOpen: Named[] = [];
    for (const p of preferences) {
      const start = plan.get(p.name) ?? 0;
      // Round up, so small weights still get a replica.
      let extra = Number((toDistribute * BigInt(p.weight!) + weightSum - 1n) / weightSum);
      extra = Math.min(extra, remaining);

      const prealloc = preallocated.get(p.name) ?? 0;
      const usedPrealloc = Math.min(extra, prealloc);
      preallocated.set(p.name, prealloc - usedPrealloc);
      extra -= usedPrealloc;
      if (usedPrealloc > 0) modified = true;

      let planned = start + extra;
      let full = false;
      if (p.maxReplicas !== undefined && planned > p.maxReplicas) {
        planned = p.maxReplicas;
        full = true;
      }
      const cap = capacity[p.name];
      if (cap !== undefined && planned > cap) {
        overflow.set(p.name, planned - cap);
        planned = cap;
        full = true;
      }
      if (!full) stillOpen.push(p);
      remaining -= planned - start;
      plan.set(p.name, planned);
      if (planned > start) modified = true;
    }
    preferences = stillOpen;
  }

  // With rebalance off, overflow is capped at what could not be placed anywhere.
  if (!spec.rebalance) {
    for (const [name, value] of overflow) {
      const capped = Math.min(value, remaining);
      if (capped > 0) overflow.set(name, capped);
      else overflow.delete(name);
    }
  }

  const replicas: Record<string, number> = {};
  const planned: Record<string, number> = {};
  for (const name of [...plan.keys()].sort()) {
    planned[name] = plan.get(name)!;
    replicas[name] = plan.get(name)! + (overflow.get(name) ?? 0);
  }
  return {
    clusters: Object.keys(replicas),
    replicas,
    planned,
    overflow: Object.fromEntries([...overflow].sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

/**
 * The clusters a plan may use. Normally every ready cluster; with intersectWithClusterSelector,
 * only those the target's clusterSelector picks (its clusters list is ignored: the scheduler writes
 * it), intersected with the namespace's placement for namespaced targets. An empty result means
 * "leave the target alone" (KubeFed did nothing then).
 */
export function candidateClusters(
  spec: ReplicaSchedulingPreferenceSpec,
  readyClusters: readonly ClusterLabels[],
  targetPlacement: Placement | undefined,
  namespace?: { clusters: readonly string[] | undefined; limitedScope?: boolean },
): string[] {
  if (!spec.intersectWithClusterSelector) return [...new Set(readyClusters.map((c) => c.name))].sort();
  const selected = selectClusters(targetPlacement, readyClusters, { selectorOnly: true });
  if (namespace === undefined) return selected;
  return placementForNamespaced(selected, namespace.clusters, { limitedScope: namespace.limitedScope });
}

export interface ScheduledSpec {
  placement: Placement;
  overrides: OverrideItem[];
  /** Whether placement or overrides differ from the input (write the target only if true). */
  changed: boolean;
}

/**
 * Writes a plan into a federated object's placement and overrides: `placement.clusters` becomes
 * the plan's clusters (clusterSelector is kept), each planned cluster gets a `/spec/replicas`
 * override with its count, clusters no longer planned lose theirs; other overrides are untouched.
 */
export function applyPlan(
  current: { placement?: Placement; overrides?: OverrideItem[] },
  plan: ReplicaPlan,
): ScheduledSpec {
  const currentNames = (current.placement?.clusters ?? []).map((c) => c.name);
  const placementChanged = current.placement?.clusters == null || !sameSet(currentNames, plan.clusters);
  const placement: Placement = {
    ...(current.placement ?? {}),
    clusters: placementChanged
      ? plan.clusters.map((name) => ({ name }))
      : structuredClone(current.placement!.clusters!),
  };

  let overridesChanged = false;
  const seen = new Set<string>();
  const overrides: OverrideItem[] = [];
  for (const item of current.overrides ?? []) {
    seen.add(item.clusterName);
    const ops = structuredClone(item.clusterOverrides ?? []);
    const index = ops.findIndex((o) => o.path === REPLICAS_PATH);
    const want = plan.replicas[item.clusterName];
    if (want === undefined) {
      if (index >= 0) {
        ops.splice(index, 1);
        overridesChanged = true;
      }
    } else if (index < 0) {
      ops.push({ path: REPLICAS_PATH, value: want });
      overridesChanged = true;
    } else if (ops[index]!.value !== want) {
      ops[index] = { ...ops[index]!, value: want };
      overridesChanged = true;
    }
    overrides.push({ ...structuredClone(item), clusterOverrides: ops });
  }
  for (const name of plan.clusters) {
    if (seen.has(name)) continue;
    overrides.push({
      clusterName: name,
      clusterOverrides: [{ path: REPLICAS_PATH, value: plan.replicas[name] }],
    });
    overridesChanged = true;
  }
  return { placement, overrides, changed: placementChanged || overridesChanged };
}

/** 32-bit FNV-1 (multiply, then xor) over the UTF-8 bytes, as Go's hash/fnv New32. */
export function fnv1(s: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(s)) {
    hash = Math.imul(hash, 0x01000193) >>> 0;
    hash = (hash ^ byte) >>> 0;
  }
  return hash;
}

function nonNegativeInt(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new Error(`${field} must be a non-negative integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((v) => y.has(v));
}
