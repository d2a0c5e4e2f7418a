// Generic REST access to any resource (core, built-in groups, CRDs) described by a ResourceRef.
//
// Why raw requests instead of KubernetesObjectApi: that client looks every kind up in a type map,
// turns timestamps into Date objects, cannot reach subresources (/status) and, for kinds it does not
// know, needs a discovery round trip per call. Here requests go through the KubeConfig's own
// authentication and TLS settings (applySecurityAuthentication + client-node's fetch library), and
// responses stay plain JSON: timestamps are strings, exactly what the API server sent.
//
// Failures throw KubeApiError, an ApiException with `.code` and the Status JSON *string* in `.body`,
// so `apiStatus()`, `isNotFound()` & co. in errors.ts work on them, and whose message names the
// cluster, the verb and the path.
import {
  ApiException,
  type HttpMethod,
  type KubeConfig,
  type KubernetesObject,
  RequestContext,
} from '@kubernetes/client-node';
import { getGlobalDispatcher } from 'undici';
import { apiStatus } from './errors.ts';
import { limiterFor, NO_LIMITS, type RequestLimits, type TokenBucket } from './rate-limit.ts';
import type { ResourceRef } from './refs.ts';

// Callers import these from here or from refs.ts (their owner).
export { objectKey, type ResourceRef, splitKey } from './refs.ts';

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

/** An API error with the request in its message; `.code`/`.body` as client-node's ApiException. */
export class KubeApiError extends ApiException<string> {
  readonly method: string;
  readonly path: string;
  readonly cluster: string;
  constructor(
    cluster: string,
    method: string,
    path: string,
    code: number,
    body: string,
    headers: Record<string, string>,
  ) {
    super(code, 'Unsuccessful HTTP Request', body, headers);
    this.name = 'KubeApiError';
    this.method = method;
    this.path = path;
    this.cluster = cluster;
    const s = apiStatus(this);
    this.message = `${method} ${path} on cluster "${cluster}": ${s.message} (HTTP ${code}${s.reason ? `, ${s.reason}` : ''})`;
  }
}

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the server URL, starting with `/`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Default application/json when there is a body. */
  contentType?: string;
  /** Default application/json (e.g. the Table form kubectl asks for: `application/json;as=Table;g=meta.k8s.io;v=v1`). */
  accept?: string;
  /** Default 60 s; 0 for none (watches). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface KubeResponse {
  status: number;
  headers: Record<string, string>;
  /** The response body as it arrives; read it once (or text()). */
  chunks(): AsyncIterable<Uint8Array>;
  text(): Promise<string>;
}

const contextName = (kc: KubeConfig): string => kc.getCurrentContext() || kc.getCurrentCluster()?.name || '?';

function networkError(kc: KubeConfig, req: KubeRequest, e: unknown): Error {
  // fetch wraps the socket error in `cause`; the dispatcher throws it directly.
  const err0 = e as {
    code?: string;
    message?: string;
    name?: string;
    cause?: { code?: string; message?: string };
  };
  const name = err0.name;
  const why =
    name === 'TimeoutError'
      ? `timed out after ${req.timeoutMs ?? 60_000} ms`
      : name === 'AbortError'
        ? 'aborted'
        : [err0.cause?.code ?? err0.code, err0.cause?.message ?? err0.message].filter(Boolean).join(' ');
  const server = kc.getCurrentCluster()?.server ?? '?';
  const err = new Error(`${req.method} ${server}${req.path} (cluster "${contextName(kc)}"): ${why}`, {
    cause: e,
  });
  if (name === 'TimeoutError' || name === 'AbortError') err.name = name;
  return err;
}

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/**
 * How requests reach one KubeConfig's cluster: its connection pool (PooledKubeConfig keeps one) and,
 * for static credentials (client certificate, bearer token), the headers computed once. Credentials
 * that can change (exec plugins, auth providers, token files) are applied again per request.
 */
interface Transport {
  origin: string;
  basePath: string;
  dispatcher: Dispatcher;
  staticHeaders?: Record<string, string>;
  limiter?: TokenBucket;
}

const transports = new WeakMap<KubeConfig, Transport>();
let requestLimits: RequestLimits = NO_LIMITS;

/**
 * Client-side limits for every cluster connection made from now on (`fedctl controller
 * --kube-api-qps/--kube-api-burst`): each cluster's API gets at most `qps` requests per second from
 * this process, watches excepted.
 */
export function configureRequestLimits(limits: RequestLimits): void {
  requestLimits = limits;
}

async function authenticate(kc: KubeConfig): Promise<RequestContext> {
  const ctx = new RequestContext('http://unused/', 'GET' as HttpMethod);
  await kc.applySecurityAuthentication(ctx);
  return ctx;
}

async function transportOf(kc: KubeConfig): Promise<Transport> {
  const known = transports.get(kc);
  if (known) return known;
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`kubeconfig context "${kc.getCurrentContext()}" has no cluster`);
  const server = new URL(cluster.server);
  const ctx = await authenticate(kc);
  const user = kc.getCurrentUser();
  const fixed = !user?.exec && !user?.authProvider && !(user as { tokenFile?: string } | null)?.tokenFile;
  const t: Transport = {
    origin: server.origin,
    basePath: server.pathname.replace(/\/+$/, ''),
    // No TLS settings of its own (a public CA, bearer token): Node's shared pool, as fetch would use.
    dispatcher: ctx.getDispatcher() ?? (getGlobalDispatcher() as unknown as Dispatcher),
    ...(fixed ? { staticHeaders: ctx.getHeaders() } : {}),
    limiter: limiterFor(requestLimits),
  };
  transports.set(kc, t);
  return t;
}

/** The request's abort signal: the caller's, and the timeout (cleared by `done`). */
function deadline(req: KubeRequest): { signal?: AbortSignal; done(): void } {
  const timeoutMs = req.timeoutMs ?? 60_000;
  if (timeoutMs <= 0) return { signal: req.signal, done: () => undefined };
  const ctrl = new AbortController();
  const timer = setTimeout(
    () => ctrl.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError')),
    timeoutMs,
  );
  const onAbort = () => ctrl.abort(req.signal?.reason);
  if (req.signal?.aborted) onAbort();
  else req.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: ctrl.signal,
    done: () => {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * Sends one request with the KubeConfig's credentials and returns the response without judging its
 * status. Network failures throw an Error naming the server and path (cause attached). Requests go
 * straight to the KubeConfig's pooled undici dispatcher (not through fetch and web streams, which
 * cost about a third of the controller's CPU under bulk propagation).
 */
export async function kubeFetch(kc: KubeConfig, req: KubeRequest): Promise<KubeResponse> {
  const t = await transportOf(kc);
  let query = '';
  for (const [k, v] of Object.entries(req.query ?? {}))
    if (v !== undefined)
      query += `${query ? '&' : '?'}${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`;
  const headers: Record<string, string> = {
    ...(t.staticHeaders ?? (await authenticate(kc)).getHeaders()),
    accept: req.accept ?? 'application/json',
    'user-agent': 'fedctl',
  };
  let body: string | undefined;
  if (req.body !== undefined) {
    headers['content-type'] = req.contentType ?? 'application/json';
    body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
  }
  if (t.limiter && req.query?.watch === undefined) await t.limiter.take();
  const { signal, done } = deadline(req);
  if (!t.dispatcher) {
    done();
    throw new Error(
      `${req.method} ${t.origin}${req.path} (cluster "${contextName(kc)}"): no connection pool`,
    );
  }
  try {
    const res = await t.dispatcher.request({
      origin: t.origin,
      path: `${t.basePath}${req.path}${query}`,
      method: req.method,
      headers,
      body,
      signal,
      // Deadlines are the signal's; a watch may be silent for minutes.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = String(v);
    return {
      status: res.statusCode,
      headers: flat,
      chunks: () => {
        const body = res.body as AsyncIterable<Uint8Array>;
        return {
          async *[Symbol.asyncIterator]() {
            try {
              yield* body;
            } catch (e) {
              throw networkError(kc, req, signal?.aborted ? signal.reason : e);
            } finally {
              done();
            }
          },
        };
      },
      text: async () => {
        try {
          return await res.body.text();
        } catch (e) {
          throw networkError(kc, req, signal?.aborted ? signal.reason : e);
        } finally {
          done();
        }
      },
    };
  } catch (e) {
    done();
    throw networkError(kc, req, signal?.aborted ? signal.reason : e);
  }
}

/** Sends a request and parses the JSON answer; a non-2xx status throws KubeApiError. */
export async function kubeRequest<T = unknown>(kc: KubeConfig, req: KubeRequest): Promise<T> {
  const res = await kubeFetch(kc, req);
  const text = await res.text();
  if (res.status < 200 || res.status > 299) {
    throw new KubeApiError(contextName(kc), req.method, req.path, res.status, text, res.headers);
  }
  if (text === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(
      `${req.method} ${req.path} on cluster "${contextName(kc)}": response is not JSON: ${text.slice(0, 200)}`,
    );
  }
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
    if (e instanceof ApiException && e.code === 404) return undefined;
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

/** One entry of an APIResourceList (`GET /api/v1`, `GET /apis/<group>/<version>`). */
export interface ApiResource {
  name: string;
  singularName?: string;
  namespaced: boolean;
  kind: string;
  verbs?: string[];
  shortNames?: string[];
}

export interface ApiResourceList {
  groupVersion: string;
  resources: ApiResource[];
}

interface ApiGroupList {
  groups: Array<{
    name: string;
    versions: Array<{ groupVersion: string; version: string }>;
    preferredVersion?: { groupVersion: string; version: string };
  }>;
}

export interface ResourceQuery {
  /** API group ('' = core). Omitted: every group, core first, then in the server's order. */
  group?: string;
  /** A version to use instead of the group's preferred one. */
  version?: string;
  /** Matched case-insensitively against kind, plural, singular and short names. */
  kind?: string;
  /** Same matching as kind; give either or both (fedctl enable passes the user's word as both). */
  plural?: string;
}

const splitGroupVersion = (gv: string): { group: string; version: string } => {
  const i = gv.indexOf('/');
  return i < 0 ? { group: '', version: gv } : { group: gv.slice(0, i), version: gv.slice(i + 1) };
};

/**
 * The first resource in `lists` (in order) that one of the query's words names. Subresources
 * (`deployments/status`) never match. Pure; the discovery calls are in discoverResource.
 */
export function matchResource(
  lists: readonly ApiResourceList[],
  query: ResourceQuery,
): ResourceRef | undefined {
  const words = [query.kind, query.plural].filter((w): w is string => !!w).map((w) => w.toLowerCase());
  if (words.length === 0) throw new Error('resource query needs a kind or a plural');
  for (const list of lists) {
    const { group, version } = splitGroupVersion(list.groupVersion);
    if (query.group !== undefined && group !== query.group) continue;
    for (const r of list.resources ?? []) {
      if (r.name.includes('/')) continue;
      const names = [r.name, r.singularName, r.kind, ...(r.shortNames ?? [])]
        .filter((n): n is string => !!n)
        .map((n) => n.toLowerCase());
      if (words.some((w) => names.includes(w))) {
        return { group, version, plural: r.name, kind: r.kind, namespaced: r.namespaced };
      }
    }
  }
  return undefined;
}

/**
 * Finds a resource through discovery: `{kind: 'Deployment'}`, `{plural: 'deployments', group:
 * 'apps'}`, `{kind: 'FederatedDeployment', group: 'types.kubefed.io'}`. Uses each group's preferred
 * version unless `version` is given. Groups whose discovery fails (an unavailable aggregated API)
 * are skipped unless the query named that group.
 */
export async function discoverResource(kc: KubeConfig, query: ResourceQuery): Promise<ResourceRef> {
  const what = [query.kind, query.plural].filter(Boolean).join(' / ') || '?';
  const where =
    query.group === undefined ? '' : query.group === '' ? ' in the core group' : ` in group "${query.group}"`;
  const notFound = () =>
    new Error(`no resource type "${what}"${where} on cluster "${contextName(kc)}" (is its CRD installed?)`);
  const fetchList = (path: string) => kubeRequest<ApiResourceList>(kc, { method: 'GET', path });

  const lists: ApiResourceList[] = [];
  if (query.group === '' || query.group === undefined)
    lists.push(await fetchList(`/api/${query.version ?? 'v1'}`));
  if (query.group !== '') {
    const hit = matchResource(lists, query);
    if (hit) return hit;
    let versions: string[];
    if (query.group !== undefined) {
      if (query.version) versions = [`${query.group}/${query.version}`];
      else {
        let g: { preferredVersion?: { groupVersion: string }; versions?: Array<{ groupVersion: string }> };
        try {
          g = await kubeRequest(kc, { method: 'GET', path: `/apis/${query.group}` });
        } catch (e) {
          if (e instanceof KubeApiError && e.code === 404) throw notFound();
          throw e;
        }
        const gv = g.preferredVersion?.groupVersion ?? g.versions?.[0]?.groupVersion;
        versions = gv ? [gv] : [];
      }
    } else {
      const groups = await kubeRequest<ApiGroupList>(kc, { method: 'GET', path: '/apis' });
      versions = (groups.groups ?? []).flatMap((g) => {
        const gv = query.version
          ? g.versions.find((v) => v.version === query.version)?.groupVersion
          : (g.preferredVersion?.groupVersion ?? g.versions[0]?.groupVersion);
        return gv ? [gv] : [];
      });
    }
    const fetched = await Promise.all(
      versions.map((gv) =>
        fetchList(`/apis/${gv}`).catch((e: unknown) => {
          if (query.group !== undefined && !(e instanceof KubeApiError && e.code === 404)) throw e;
          return undefined;
        }),
      ),
    );
    for (const l of fetched) if (l) lists.push(l);
  }
  const hit = matchResource(lists, query);
  if (!hit) throw notFound();
  return hit;
}
