// Per-cluster overrides: RFC 6902 JSON patch operations applied to the template. KubeFed v0.10
// rules: `op` defaults to replace; name, namespace, generateName and kind may not be overridden
// (they tie a member object to its federated object, and the kind comes from the type config);
// a cluster listed twice, or a path listed twice for one cluster, is an error. apiVersion may be
// overridden on purpose (KubeFed allowed it for types served under several groups, like Ingress).

import type {
  AddOperation,
  Operation as PatchOperation,
  RemoveOperation,
  ReplaceOperation,
} from 'fast-json-patch';
import jsonpatch from 'fast-json-patch';
import type { ClusterOverride, OverrideItem } from '../api/types.ts';

/** What overridesByCluster produces: the three operations KubeFed allows. */
export type Operation = AddOperation<unknown> | RemoveOperation | ReplaceOperation<unknown>;

/** An invalid or inapplicable override; the message names the cluster and the path. */
export class OverrideError extends Error {
  override name = 'OverrideError';
  readonly cluster: string | undefined;
  readonly path: string | undefined;
  constructor(message: string, cluster?: string, path?: string) {
    super(message);
    this.cluster = cluster;
    this.path = path;
  }
}

/** Paths no override may touch. */
export const REFUSED_PATHS: ReadonlySet<string> = new Set([
  '/metadata/name',
  '/metadata/namespace',
  '/metadata/generateName',
  '/kind',
]);

const OPS = new Set(['add', 'remove', 'replace']);

/**
 * Validates `spec.overrides` and groups the operations by cluster (op defaulted to replace,
 * values deep-copied so later patching cannot write into the federated object). Throws OverrideError.
 */
export function overridesByCluster(
  overrides: readonly OverrideItem[] | undefined | null,
): Map<string, Operation[]> {
  const byCluster = new Map<string, Operation[]>();
  if (overrides == null) return byCluster;
  if (!Array.isArray(overrides)) throw new OverrideError('spec.overrides must be a list');
  overrides.forEach((item, i) => {
    const clusterName = item?.clusterName;
    if (typeof clusterName !== 'string' || clusterName === '') {
      throw new OverrideError(`spec.overrides[${i}]: clusterName is required`);
    }
    if (byCluster.has(clusterName)) {
      throw new OverrideError(
        `cluster ${JSON.stringify(clusterName)} appears more than once in spec.overrides`,
        clusterName,
      );
    }
    const list = item.clusterOverrides ?? [];
    if (!Array.isArray(list)) {
      throw new OverrideError(
        `cluster ${JSON.stringify(clusterName)}: clusterOverrides must be a list`,
        clusterName,
      );
    }
    const paths = new Set<string>();
    byCluster.set(
      clusterName,
      list.map((o, j) => {
        const op = toOperation(o, clusterName, j);
        if (paths.has(op.path)) {
          throw new OverrideError(
            `path ${JSON.stringify(op.path)} appears more than once for cluster ${JSON.stringify(clusterName)}`,
            clusterName,
            op.path,
          );
        }
        paths.add(op.path);
        return op;
      }),
    );
  });
  return byCluster;
}

function toOperation(o: ClusterOverride, cluster: string, index: number): Operation {
  const where = `override ${index} for cluster ${JSON.stringify(cluster)}`;
  const path = o?.path;
  if (typeof path !== 'string' || path === '') {
    throw new OverrideError(`${where}: path is required`, cluster);
  }
  if (!path.startsWith('/')) {
    throw new OverrideError(`${where}: path ${JSON.stringify(path)} must start with "/"`, cluster, path);
  }
  if (REFUSED_PATHS.has(path)) {
    throw new OverrideError(
      `${where}: path ${path} cannot be overridden (name, namespace, generateName and kind come from the federated object)`,
      cluster,
      path,
    );
  }
  const op = o.op === undefined || o.op === null || o.op === '' ? 'replace' : o.op;
  if (!OPS.has(op)) {
    throw new OverrideError(
      `${where}: unknown op ${JSON.stringify(op)} at ${path}; expected add, remove or replace`,
      cluster,
      path,
    );
  }
  if (op === 'remove') return { op, path };
  // KubeFed serialised overrides with `value,omitempty`, so a missing value reached the patch as null.
  const value = o.value === undefined ? null : structuredClone(o.value);
  return { op: op as 'add' | 'replace', path, value };
}

/**
 * Applies the operations to a copy of `obj` and returns it; `obj` and `ops` are left untouched.
 * Throws OverrideError naming the op and path that failed (and the cluster, when given). Takes any
 * RFC 6902 operation; validation of which ones a federated object may use is overridesByCluster's.
 */
export function applyOverrides<T>(obj: T, ops: readonly PatchOperation[], cluster?: string): T {
  const doc = structuredClone(obj);
  if (ops.length === 0) return doc;
  // fast-json-patch inserts `value` objects by reference; copy them so the result owns its data.
  const copies = structuredClone(ops) as PatchOperation[];
  let current = doc;
  // One operation at a time: applyPatch's validator reports index 0 for every failure.
  for (const [i, op] of copies.entries()) {
    try {
      current = jsonpatch.applyOperation(
        current,
        lenientReplace(current, op),
        true,
        true,
        true,
        i,
      ).newDocument;
    } catch (e) {
      const err = e as { message?: string; name?: string };
      const failed = ops[i]!;
      const inCluster = cluster === undefined ? '' : ` for cluster ${JSON.stringify(cluster)}`;
      throw new OverrideError(
        `override ${failed.op} ${failed.path}${inCluster} failed: ${describePatchError(err)}`,
        cluster,
        failed.path,
      );
    }
  }
  return current;
}

/**
 * KubeFed applied overrides with evanphx/json-patch v4, whose `replace` of a missing key in an existing
 * object sets it (RFC 6902 says fail). Overrides written for KubeFed rely on it, e.g. the default op on
 * `/spec/template/spec/nodeSelector` of a template without one. Array indexes stay strict.
 */
function lenientReplace(doc: unknown, op: PatchOperation): PatchOperation {
  if (op.op !== 'replace') return op;
  const segments = op.path
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  const key = segments.pop();
  let parent: unknown = doc;
  for (const s of segments) {
    if (parent === null || typeof parent !== 'object') return op;
    parent = (parent as Record<string, unknown>)[s];
  }
  const isObject = parent !== null && typeof parent === 'object' && !Array.isArray(parent);
  return isObject && key !== undefined && !Object.hasOwn(parent as object, key)
    ? { op: 'add', path: op.path, value: op.value }
    : op;
}

function describePatchError(err: { name?: string; message?: string }): string {
  switch (err.name) {
    case 'OPERATION_PATH_UNRESOLVABLE':
      return 'the path does not exist in the object';
    case 'OPERATION_PATH_CANNOT_ADD':
      return 'the parent of the path does not exist in the object';
    case 'OPERATION_PATH_ILLEGAL_ARRAY_INDEX':
      return 'the path has an invalid array index';
    case 'OPERATION_VALUE_OUT_OF_BOUNDS':
      return 'the array index is out of bounds';
    default:
      // fast-json-patch appends a dump of the operation and document to its messages; keep the first line.
      return (err.message ?? String(err)).split('\n')[0] ?? 'unknown error';
  }
}
