// Which member clusters a federated object goes to. KubeFed v0.10 semantics:
// - `placement.clusters` present (even empty) wins; names that are not joined clusters are ignored;
// - otherwise `placement.clusterSelector`: absent selects nothing, `{}` selects every cluster;
// - a namespaced federated object only goes where its FederatedNamespace goes.

import type { LabelSelector, LabelSelectorRequirement, Placement } from '../api/types.ts';

export interface ClusterLabels {
  name: string;
  labels?: Record<string, string>;
}

/** A placement that cannot be evaluated (a selector with a bad operator or values). */
export class PlacementError extends Error {
  override name = 'PlacementError';
}

export interface SelectOptions {
  /**
   * Ignore `placement.clusters` and use only the selector. The replica scheduler uses this for
   * intersectWithClusterSelector: the clusters list is what the scheduler itself writes.
   */
  selectorOnly?: boolean;
}

/** Sorted names of the clusters the placement selects among `clusters`. Throws PlacementError. */
export function selectClusters(
  placement: Placement | undefined,
  clusters: readonly ClusterLabels[],
  options: SelectOptions = {},
): string[] {
  const known = clusters.map((c) => c.name);
  if (!options.selectorOnly && placement?.clusters != null) {
    const listed = new Set(placement.clusters.map((c) => c?.name));
    return sortedUnique(known.filter((name) => listed.has(name)));
  }
  const selector = placement?.clusterSelector;
  if (selector == null) return [];
  const matches = compileSelector(selector);
  return sortedUnique(clusters.filter((c) => matches(c.labels ?? {})).map((c) => c.name));
}

/**
 * Placement of a namespaced federated object: the clusters it selects that its namespace also goes
 * to. `namespaceClusters` undefined means the namespace has no FederatedNamespace: nothing is
 * placed (the caller reports NamespaceNotFederated), unless `limitedScope` (KubeFedConfig scope
 * Namespaced, where the one federated namespace exists everywhere by definition).
 */
export function placementForNamespaced(
  objectClusters: readonly string[],
  namespaceClusters: readonly string[] | undefined,
  options: { limitedScope?: boolean } = {},
): string[] {
  if (namespaceClusters === undefined) return options.limitedScope ? sortedUnique(objectClusters) : [];
  const ns = new Set(namespaceClusters);
  return sortedUnique(objectClusters.filter((c) => ns.has(c)));
}

/** Whether `labels` satisfy the selector (`{}` matches everything). Throws PlacementError. */
export function selectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
  return compileSelector(selector)(labels);
}

/** Validates once, then returns a matcher; Kubernetes' LabelSelectorAsSelector rules. */
export function compileSelector(selector: LabelSelector): (labels: Record<string, string>) => boolean {
  const checks: ((labels: Record<string, string>) => boolean)[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    checks.push((labels) => Object.hasOwn(labels, key) && labels[key] === value);
  }
  (selector.matchExpressions ?? []).forEach((req, i) => {
    checks.push(compileRequirement(req, i));
  });
  return (labels) => checks.every((check) => check(labels));
}

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

function compileRequirement(
  req: LabelSelectorRequirement,
  index: number,
): (labels: Record<string, string>) => boolean {
  const where = `clusterSelector.matchExpressions[${index}]`;
  if (typeof req?.key !== 'string' || req.key === '') {
    throw new PlacementError(`${where}: key is required`);
  }
  const { key, operator } = req;
  const values = req.values ?? [];
  switch (operator) {
    case 'In':
    case 'NotIn': {
      if (values.length === 0) {
        throw new PlacementError(`${where} (key ${key}): operator ${operator} needs at least one value`);
      }
      const set = new Set(values);
      return operator === 'In'
        ? (labels) => Object.hasOwn(labels, key) && set.has(labels[key]!)
        : // NotIn also matches clusters without the label, as in Kubernetes.
          (labels) => !Object.hasOwn(labels, key) || !set.has(labels[key]!);
    }
    case 'Exists':
    case 'DoesNotExist': {
      if (values.length > 0) {
        throw new PlacementError(`${where} (key ${key}): operator ${operator} takes no values`);
      }
      return operator === 'Exists'
        ? (labels) => Object.hasOwn(labels, key)
        : (labels) => !Object.hasOwn(labels, key);
    }
    default:
      throw new PlacementError(
        `${where} (key ${key}): unknown operator ${JSON.stringify(operator)}; expected one of ${OPERATORS.join(', ')}`,
      );
  }
}

function sortedUnique(names: readonly string[]): string[] {
  return [...new Set(names)].sort();
}
