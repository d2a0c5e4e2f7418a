// Generic CRUD on any resource (core, built-in groups, CRDs) described by a ResourceRef, over the
// HTTP layer in transport.ts.
//
// Why raw requests instead of KubernetesObjectApi: that client looks every kind up in a type map,
// turns timestamps into Date objects, cannot reach subresources (/status) and, for kinds it does not
// know, needs a discovery round trip per call. Responses here stay plain JSON: timestamps are
// strings, exactly what the API server sent.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeConfig } from './kubeconfig.ts';
import type { ResourceRef } from './refs.ts';
import { KubeApiError, kubeRequest } from './transport.ts';

export const apiVersionOf = (ref: Pick<ResourceRef, 'group' | 'version'>): string =>
  ref.group === '' ? ref.version : `${ref.group}/${ref.version}`;

/** `deployments.apps/v1`, `pods/v1`: how a resource is named in messages. */
export const describeRef = (ref: ResourceRef): string =>
  `${ref.plural}${ref.group ? `.${ref.group}` : ''}/${ref.version}`;

const groupVersionPath = (ref: Pick<ResourceRef, 'group' | 'version'>): string =>
  ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;

/**
 * The URL path of a collection: `/api/v1/namespaces/ns/pods`, `/apis/apps/v1/deployments` (all
 * namespaces when `namespace` is omitted). Cluster-scoped resources ignore `namespace`.
 */
export function collectionPath(ref: ResourceRef, namespace?: string): string {
  const ns = ref.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${groupVersionPath(ref)}${ns}/${ref.plural}`;
}

/** The URL path of one object; a namespaced resource needs its namespace. */
export function objectPath(ref: ResourceRef, name: string, namespace?: string): string {
  if (!name) throw new Error(`${describeRef(ref)}: object name is empty`);
  if (ref.namespaced && !namespace) {
    throw new Error(`${describeRef(ref)} "${name}" is namespaced but no namespace was given`);
  }
  return `${collectionPath(ref, namespace)}/${encodeURIComponent(name)}`;
}

/** Sets apiVersion and kind (lists and some watch events omit them on items). Mutates and returns `obj`. */
export function withTypeMeta<T extends KubernetesObject>(obj: T, ref: ResourceRef): T {
  if (!obj.apiVersion) obj.apiVersion = apiVersionOf(ref);
  if (!obj.kind) obj.kind = ref.kind;
  return obj;
}

/** Plain JSON: Dates become ISO strings, class instances plain objects (a JSON round trip). */
export function toPlain<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size; default 500. Pages are followed until the end. */
  pageSize?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ResourceList<T> {
  items: T[];
  metadata: { resourceVersion: string };
}

interface RawList<T> {
  items?: T[] | null;
  metadata?: { resourceVersion?: string; continue?: string };
}

/**
 * Lists a resource (all namespaces unless `namespace`), following pagination. Items get apiVersion
 * and kind. The resourceVersion is the list's, suitable to start a watch from.
 */
export async function listResource<T extends KubernetesObject = KubernetesObject>(
  kc: KubeConfig,
  ref: ResourceRef,
  opts: ListOptions = {},
): Promise<ResourceList<T>> {
  const path = collectionPath(ref, opts.namespace);
  const page = (cont: string | undefined, limit: number | undefined) =>
    kubeRequest<RawList<T>>(kc, {
      method: 'GET',
      path,
      query: { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit, continue: cont },
      timeoutMs: opts.timeoutMs,
      signal: opts.signal,
    });
  const pageSize = opts.pageSize ?? 500;
  const items: T[] = [];
  let first: RawList<T>;
  try {
    first = await page(undefined, pageSize);
    items.push(...(first.items ?? []));
    let cont = first.metadata?.continue;
    while (cont) {
      const next = await page(cont, pageSize);
      items.push(...(next.items ?? []));
      cont = next.metadata?.continue;
    }
  } catch (e) {
    // A continue token expires (410) when a long paged list outlives etcd's compaction; the
    // server then wants a fresh list. One unpaginated list is always consistent.
    if (!(e instanceof KubeApiError && e.code === 410)) throw e;
    items.length = 0;
    first = await page(undefined, undefined);
    items.push(...(first.items ?? []));
  }
  for (const item of items) withTypeMeta(item, ref);
  return { items, metadata: { resourceVersion: first.metadata?.resourceVersion ?? '' } };
}

/** Reads one object; 404 throws (check with isNotFound). */
export async function getResource<T extends KubernetesObject = KubernetesObject>(
  kc: KubeConfig,
  ref: ResourceRef,
  name: string,
  namespace?: string,
): Promise<T> {
  const obj = await kubeRequest<T>(kc, { method: 'GET', path: objectPath(ref, name, namespace) });
  return withTypeMeta(obj, ref);
}

/** Like getResource, but undefined when the object does not exist. */
export async function tryGetResource<T extends KubernetesObject = KubernetesObject>(
  kc: KubeConfig,
  ref: ResourceRef,
  name: string,
  namespace?: string,
): Promise<T | undefined> {
  try {
    return await getResource<T>(kc, ref, name, namespace);
  } catch (e) {
    if (e instanceof KubeApiError && e.code === 404) return undefined;
    throw e;
  }
}

export interface WriteOptions {
  fieldManager?: string;
  dryRun?: boolean;
  /** Strict: unknown or duplicate fields are errors (the API server's default only warns). */
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
}

const writeQuery = (o: WriteOptions = {}) => ({
  fieldManager: o.fieldManager ?? 'fedctl',
  dryRun: o.dryRun ? 'All' : undefined,
  fieldValidation: o.fieldValidation,
});

const nameOf = (ref: ResourceRef, obj: KubernetesObject): string => {
  const name = obj.metadata?.name;
  if (!name) throw new Error(`${describeRef(ref)}: object has no metadata.name`);
  return name;
};

/** Creates `obj` (its namespace from metadata) and returns what the server stored. */
export async function createResource<T extends KubernetesObject = KubernetesObject>(
  kc: KubeConfig,
  ref: ResourceRef,
  obj: T,
  opts?: WriteOptions,
): Promise<T> {
  if (!obj.metadata?.name && !obj.metadata?.generateName) {
    throw new Error(`${describeRef(ref)}: object has neither metadata.name nor metadata.generateName`);
  }
  const namespace = obj.metadata?.namespace;
  if (ref.namespaced && !namespace) {
    throw new Error(
      `${describeRef(ref)} "${obj.metadata?.name}" is namespaced but has no metadata.namespace`,
    );
  }
  const created = await kubeRequest<T>(kc, {
    method: 'POST',
    path: collectionPath(ref, namespace),
    query: writeQuery(opts),
    body: withTypeMeta(toPlain(obj), ref),
  });
  return withTypeMeta(created, ref);
}

/** Replaces (PUT) the object; metadata.resourceVersion, when set, makes it a compare-and-swap (409). */
export async function replaceResource<T extends KubernetesObject = KubernetesObject>(
  kc: KubeConfig,
  ref: ResourceRef,
  obj: T,
  opts?: WriteOptions,
): Promise<T> {
  const replaced = await kubeRequest<T>(kc, {
    method: 'PUT',
    path: objectPath(ref, nameOf(ref, obj), obj.metadata?.namespace),
    query: writeQuery(opts),
    body: withTypeMeta(toPlain(obj), ref),
  });
  return withTypeMeta(replaced, ref);
}

export interface DeleteOptions {
  /** Default Background: dependents (a Job's pods, a Deployment's ReplicaSets) go too. */
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  /** Only delete this exact object (uid) / version (resourceVersion); else 409. */
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
  dryRun?: boolean;
}

/**
 * Deletes one object. 404 throws (check with isNotFound): a caller that wants "gone" either way
 * treats NotFound as success.
 */
export async function deleteResource(
  kc: KubeConfig,
  ref: ResourceRef,
  name: string,
  namespace?: string,
  opts: DeleteOptions = {},
): Promise<void> {
  await kubeRequest(kc, {
    method: 'DELETE',
    path: objectPath(ref, name, namespace),
    query: { dryRun: opts.dryRun ? 'All' : undefined },
    body: {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      propagationPolicy: opts.propagationPolicy ?? 'Background',
      preconditions: opts.preconditions,
      gracePeriodSeconds: opts.gracePeriodSeconds,
    },
  });
}

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface PatchOptions extends WriteOptions {
  /** Default merge (RFC 7386). `strategic` only works on built-in kinds; `apply` is server-side apply. */
  type?: PatchType;
  /** Server-side apply: take ownership of conflicting fields. */
  force?: boolean;
  /** A subresource such as `status` or `scale`. */
  subresource?: string;
}

/**
 * Patches one object. With a merge patch, put `metadata.resourceVersion` in the patch to make it
 * fail with 409 if the object changed meanwhile.
 */
export async function patchResource<T extends KubernetesObject = KubernetesObject>(
  kc: KubeConfig,
  ref: ResourceRef,
  name: string,
  namespace: string | undefined,
  patch: unknown,
  opts: PatchOptions = {},
): Promise<T> {
  const type = opts.type ?? 'merge';
  const sub = opts.subresource ? `/${opts.subresource}` : '';
  const patched = await kubeRequest<T>(kc, {
    method: 'PATCH',
    path: `${objectPath(ref, name, namespace)}${sub}`,
    query: { ...writeQuery(opts), force: type === 'apply' && opts.force ? true : undefined },
    body: toPlain(patch),
    contentType: PATCH_CONTENT_TYPES[type],
  });
  return withTypeMeta(patched, ref);
}

/**
 * Merge-patches the status subresource with `{ status }`: fields of `status` replace the stored
 * ones (arrays such as conditions are replaced whole), fields it leaves out are kept, null removes.
 * The resource must have the status subresource enabled (404 otherwise).
 */
export async function patchStatus<T extends KubernetesObject = KubernetesObject>(
  kc: KubeConfig,
  ref: ResourceRef,
  name: string,
  namespace: string | undefined,
  status: unknown,
  opts: WriteOptions = {},
): Promise<T> {
  return patchResource<T>(
    kc,
    ref,
    name,
    namespace,
    { status },
    { ...opts, type: 'merge', subresource: 'status' },
  );
}

// ---------------------------------------------------------------------------------------------
// Discovery
