import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiResourceList, discoverResource, matchResource } from './discovery.ts';
import { apiStatus, errorMessage, isAlreadyExists, isConflict, isNotFound } from './errors.ts';
import { KubeConfig } from './kubeconfig.ts';
import { NO_LIMITS } from './rate-limit.ts';
import { objectKey, type ResourceRef, splitKey } from './refs.ts';
import {
  apiVersionOf,
  collectionPath,
  createResource,
  deleteResource,
  getResource,
  listResource,
  objectPath,
  patchResource,
  patchStatus,
  replaceResource,
  tryGetResource,
} from './resources.ts';
import { configureRequestLimits, KubeApiError } from './transport.ts';

const DEPLOYMENTS: ResourceRef = {
  group: 'apps',
  version: 'v1',
  plural: 'deployments',
  kind: 'Deployment',
  namespaced: true,
};
const PODS: ResourceRef = { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true };
const NAMESPACES: ResourceRef = {
  group: '',
  version: 'v1',
  plural: 'namespaces',
  kind: 'Namespace',
  namespaced: false,
};
const FED_DEPLOYMENTS: ResourceRef = {
  group: 'types.kubefed.io',
  version: 'v1beta1',
  plural: 'federateddeployments',
  kind: 'FederatedDeployment',
  namespaced: true,
};

describe('paths and keys', () => {
  it.each([
    [PODS, undefined, '/api/v1/pods'],
    [PODS, 'default', '/api/v1/namespaces/default/pods'],
    [DEPLOYMENTS, 'web', '/apis/apps/v1/namespaces/web/deployments'],
    [FED_DEPLOYMENTS, undefined, '/apis/types.kubefed.io/v1beta1/federateddeployments'],
    [NAMESPACES, 'ignored', '/api/v1/namespaces'],
  ])('collectionPath(%o, %s) is %s', (ref, ns, path) => {
    expect(collectionPath(ref, ns)).toBe(path);
  });

  it('builds object paths and refuses a namespaced object without namespace', () => {
    expect(objectPath(DEPLOYMENTS, 'web', 'prod')).toBe('/apis/apps/v1/namespaces/prod/deployments/web');
    expect(objectPath(NAMESPACES, 'prod')).toBe('/api/v1/namespaces/prod');
    expect(() => objectPath(DEPLOYMENTS, 'web')).toThrow(
      'deployments.apps/v1 "web" is namespaced but no namespace was given',
    );
    expect(() => objectPath(NAMESPACES, '')).toThrow(/name is empty/);
  });

  it('spells apiVersion with and without group', () => {
    expect(apiVersionOf(PODS)).toBe('v1');
    expect(apiVersionOf(DEPLOYMENTS)).toBe('apps/v1');
  });

  it('makes namespace/name keys and splits them back', () => {
    expect(objectKey({ metadata: { name: 'web', namespace: 'prod' } })).toBe('prod/web');
    expect(objectKey({ metadata: { name: 'prod' } })).toBe('prod');
    expect(splitKey('prod/web')).toEqual(['prod', 'web']);
    expect(splitKey('prod')).toEqual([undefined, 'prod']);
  });
});

// --- a scripted API server ---------------------------------------------------------------------

interface Seen {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}
type Handler = (req: Seen) => { status?: number; body?: unknown } | undefined;

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

async function apiServer(handler: Handler): Promise<{ kc: KubeConfig; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const s = {
        method: req.method ?? '',
        url: new URL(req.url ?? '/', 'http://x'),
        headers: req.headers,
        body,
      };
      seen.push(s);
      const r = handler(s) ?? {
        status: 404,
        body: {
          kind: 'Status',
          reason: 'NotFound',
          message: 'the server could not find the requested resource',
        },
      };
      res.writeHead(r.status ?? 200, { 'content-type': 'application/json' });
      res.end(r.body === undefined ? '' : JSON.stringify(r.body));
    });
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'member1', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'member1', token: 'sekret' }],
    contexts: [{ name: 'member1', cluster: 'member1', user: 'member1' }],
    currentContext: 'member1',
  });
  return { kc, seen };
}

const notFound = (what: string) => ({
  status: 404,
  body: {
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    reason: 'NotFound',
    code: 404,
    message: `${what} not found`,
  },
});

describe('client-side request limits', () => {
  afterEach(() => configureRequestLimits(NO_LIMITS));

  it('spaces requests of a connection made under --kube-api-qps; watches do not wait', async () => {
    configureRequestLimits({ qps: 20, burst: 1 });
    const { kc, seen } = await apiServer(() => ({ body: { metadata: { name: 'x' } } }));
    const start = performance.now();
    for (let i = 0; i < 5; i++) await getResource(kc, DEPLOYMENTS, 'x', 'prod');
    // One token at once, then one every 50 ms.
    expect(performance.now() - start).toBeGreaterThanOrEqual(190);
    expect(seen).toHaveLength(5);
  });
});

describe('listResource', () => {
  it('fills in apiVersion and kind, returns the resourceVersion and sends credentials and selectors', async () => {
    const { kc, seen } = await apiServer(() => ({
      body: {
        kind: 'DeploymentList',
        apiVersion: 'apps/v1',
        metadata: { resourceVersion: '42' },
        items: [{ metadata: { name: 'web', namespace: 'prod', creationTimestamp: '2025-01-01T00:00:00Z' } }],
      },
    }));
    const list = await listResource(kc, DEPLOYMENTS, {
      namespace: 'prod',
      labelSelector: 'kubefed.io/managed=true',
    });
    expect(list.metadata.resourceVersion).toBe('42');
    expect(list.items).toEqual([
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: 'prod', creationTimestamp: '2025-01-01T00:00:00Z' },
      },
    ]);
    expect(seen[0]?.url.pathname).toBe('/apis/apps/v1/namespaces/prod/deployments');
    expect(seen[0]?.url.searchParams.get('labelSelector')).toBe('kubefed.io/managed=true');
    expect(seen[0]?.headers.authorization).toBe('Bearer sekret');
  });

  it('follows continue tokens and keeps the first page resourceVersion', async () => {
    const { kc, seen } = await apiServer((r) => {
      const cont = r.url.searchParams.get('continue');
      if (!cont)
        return {
          body: { metadata: { resourceVersion: '7', continue: 'p2' }, items: [{ metadata: { name: 'a' } }] },
        };
      return { body: { metadata: { resourceVersion: '9' }, items: [{ metadata: { name: 'b' } }] } };
    });
    const list = await listResource(kc, NAMESPACES, { pageSize: 1 });
    expect(list.items.map((i) => i.metadata?.name)).toEqual(['a', 'b']);
    expect(list.metadata.resourceVersion).toBe('7');
    expect(seen.map((s) => s.url.search)).toEqual(['?limit=1', '?limit=1&continue=p2']);
  });

  it('relists without paging when a continue token has expired', async () => {
    const { kc, seen } = await apiServer((r) => {
      if (r.url.searchParams.get('continue'))
        return {
          status: 410,
          body: { kind: 'Status', reason: 'Expired', code: 410, message: 'continue expired' },
        };
      if (r.url.searchParams.get('limit'))
        return {
          body: { metadata: { resourceVersion: '1', continue: 'x' }, items: [{ metadata: { name: 'a' } }] },
        };
      return {
        body: {
          metadata: { resourceVersion: '3' },
          items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }],
        },
      };
    });
    const list = await listResource(kc, NAMESPACES);
    expect(list.items.map((i) => i.metadata?.name)).toEqual(['a', 'b']);
    expect(list.metadata.resourceVersion).toBe('3');
    expect(seen).toHaveLength(3);
  });

  it('treats items: null as an empty list', async () => {
    const { kc } = await apiServer(() => ({ body: { metadata: { resourceVersion: '5' }, items: null } }));
    expect((await listResource(kc, FED_DEPLOYMENTS)).items).toEqual([]);
  });
});

describe('errors', () => {
  it('throws a KubeApiError that errors.ts understands and whose message names cluster and path', async () => {
    const { kc } = await apiServer(() => notFound('deployments.apps "web"'));
    const err = await getResource(kc, DEPLOYMENTS, 'web', 'prod').catch((e) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(isNotFound(err)).toBe(true);
    expect(apiStatus(err)).toEqual({
      code: 404,
      reason: 'NotFound',
      message: 'deployments.apps "web" not found',
    });
    expect(err.message).toBe(
      'GET /apis/apps/v1/namespaces/prod/deployments/web on cluster "member1": deployments.apps "web" not found (HTTP 404, NotFound)',
    );
    expect(errorMessage(err)).toBe('deployments.apps "web" not found (HTTP 404, NotFound)');
  });

  it('tells AlreadyExists from Conflict', async () => {
    const { kc } = await apiServer((r) =>
      r.method === 'POST'
        ? { status: 409, body: { kind: 'Status', reason: 'AlreadyExists', code: 409, message: 'exists' } }
        : { status: 409, body: { kind: 'Status', reason: 'Conflict', code: 409, message: 'modified' } },
    );
    const obj = { metadata: { name: 'a', namespace: 'n' } };
    const created = await createResource(kc, PODS, obj).catch((e) => e);
    expect(isAlreadyExists(created)).toBe(true);
    const replaced = await replaceResource(kc, PODS, obj).catch((e) => e);
    expect(isConflict(replaced)).toBe(true);
  });

  it('names server and path when the server cannot be reached', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'gone', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'gone' }],
      contexts: [{ name: 'gone', cluster: 'gone', user: 'gone' }],
      currentContext: 'gone',
    });
    await expect(getResource(kc, NAMESPACES, 'x')).rejects.toThrow(
      new RegExp(
        `^GET http://127\\.0\\.0\\.1:${port}/api/v1/namespaces/x \\(cluster "gone"\\): ECONNREFUSED`,
      ),
    );
  });

  it('returns undefined from tryGetResource for a missing object only', async () => {
    const { kc } = await apiServer((r) =>
      r.url.pathname.endsWith('/there') ? { body: { metadata: { name: 'there' } } } : notFound('x'),
    );
    expect(await tryGetResource(kc, NAMESPACES, 'missing')).toBeUndefined();
    expect((await tryGetResource(kc, NAMESPACES, 'there'))?.kind).toBe('Namespace');
  });
});

describe('writes', () => {
  it('creates in the object namespace with fedctl as field manager, sending plain JSON', async () => {
    const { kc, seen } = await apiServer((r) => ({ status: 201, body: JSON.parse(r.body) }));
    const created = await createResource(kc, DEPLOYMENTS, {
      metadata: { name: 'web', namespace: 'prod', creationTimestamp: new Date(0) },
    });
    expect(seen[0]?.method).toBe('POST');
    expect(seen[0]?.url.pathname).toBe('/apis/apps/v1/namespaces/prod/deployments');
    expect(seen[0]?.url.searchParams.get('fieldManager')).toBe('fedctl');
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'prod', creationTimestamp: '1970-01-01T00:00:00.000Z' },
    });
    expect((created as { kind?: string }).kind).toBe('Deployment');
  });

  it('refuses to create a namespaced object without namespace before calling the server', async () => {
    const { kc, seen } = await apiServer(() => ({ body: {} }));
    await expect(createResource(kc, DEPLOYMENTS, { metadata: { name: 'web' } })).rejects.toThrow(
      /has no metadata.namespace/,
    );
    expect(seen).toHaveLength(0);
  });

  it('replaces with PUT on the object path', async () => {
    const { kc, seen } = await apiServer((r) => ({ body: JSON.parse(r.body) }));
    await replaceResource(kc, NAMESPACES, { metadata: { name: 'prod', resourceVersion: '5' } });
    expect(seen[0]?.method).toBe('PUT');
    expect(seen[0]?.url.pathname).toBe('/api/v1/namespaces/prod');
    expect(JSON.parse(seen[0]?.body ?? '').metadata.resourceVersion).toBe('5');
  });

  it('deletes with propagationPolicy Background', async () => {
    const { kc, seen } = await apiServer(() => ({ body: { kind: 'Status', status: 'Success' } }));
    await deleteResource(kc, DEPLOYMENTS, 'web', 'prod');
    expect(seen[0]?.method).toBe('DELETE');
    expect(seen[0]?.url.pathname).toBe('/apis/apps/v1/namespaces/prod/deployments/web');
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      propagationPolicy: 'Background',
    });
  });

  it('merge-patches the status subresource with { status }', async () => {
    const { kc, seen } = await apiServer((r) => ({
      body: { metadata: { name: 'web' }, ...JSON.parse(r.body) },
    }));
    const status = { conditions: [{ type: 'Propagation', status: 'True' }] };
    await patchStatus(kc, FED_DEPLOYMENTS, 'web', 'prod', status);
    expect(seen[0]?.method).toBe('PATCH');
    expect(seen[0]?.url.pathname).toBe(
      '/apis/types.kubefed.io/v1beta1/namespaces/prod/federateddeployments/web/status',
    );
    expect(seen[0]?.headers['content-type']).toBe('application/merge-patch+json');
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({ status });
  });

  it('patches with the content type of the patch kind', async () => {
    const { kc, seen } = await apiServer(() => ({ body: { metadata: { name: 'web' } } }));
    await patchResource(kc, DEPLOYMENTS, 'web', 'prod', [{ op: 'remove', path: '/metadata/finalizers' }], {
      type: 'json',
    });
    await patchResource(kc, DEPLOYMENTS, 'web', 'prod', { metadata: { labels: { a: 'b' } } });
    expect(seen.map((s) => s.headers['content-type'])).toEqual([
      'application/json-patch+json',
      'application/merge-patch+json',
    ]);
  });
});

// --- discovery ---------------------------------------------------------------------------------

const CORE_LIST: ApiResourceList = {
  groupVersion: 'v1',
  resources: [
    { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', shortNames: ['po'] },
    { name: 'pods/status', singularName: '', namespaced: true, kind: 'Pod' },
    { name: 'events', singularName: 'event', namespaced: true, kind: 'Event', shortNames: ['ev'] },
    {
      name: 'namespaces',
      singularName: 'namespace',
      namespaced: false,
      kind: 'Namespace',
      shortNames: ['ns'],
    },
  ],
};
const APPS_LIST: ApiResourceList = {
  groupVersion: 'apps/v1',
  resources: [
    {
      name: 'deployments',
      singularName: 'deployment',
      namespaced: true,
      kind: 'Deployment',
      shortNames: ['deploy'],
    },
    { name: 'deployments/scale', singularName: '', namespaced: true, kind: 'Scale' },
  ],
};
const EVENTS_LIST: ApiResourceList = {
  groupVersion: 'events.k8s.io/v1',
  resources: [{ name: 'events', singularName: 'event', namespaced: true, kind: 'Event', shortNames: ['ev'] }],
};
const TYPES_LIST: ApiResourceList = {
  groupVersion: 'types.kubefed.io/v1beta1',
  resources: [
    {
      name: 'federateddeployments',
      singularName: 'federateddeployment',
      namespaced: true,
      kind: 'FederatedDeployment',
    },
  ],
};

describe('matchResource', () => {
  const lists = [CORE_LIST, APPS_LIST, EVENTS_LIST, TYPES_LIST];
  it.each([
    [{ kind: 'Deployment' }, 'apps/v1 deployments'],
    [{ plural: 'deployments' }, 'apps/v1 deployments'],
    [{ plural: 'deployment' }, 'apps/v1 deployments'],
    [{ plural: 'deploy' }, 'apps/v1 deployments'],
    [{ kind: 'deployments', plural: 'deployments', group: 'apps' }, 'apps/v1 deployments'],
    [{ kind: 'Event' }, 'v1 events'],
    [{ kind: 'Event', group: 'events.k8s.io' }, 'events.k8s.io/v1 events'],
    [{ kind: 'ns' }, 'v1 namespaces'],
    [{ kind: 'FederatedDeployment' }, 'types.kubefed.io/v1beta1 federateddeployments'],
  ])('finds %o as %s', (query, expected) => {
    const ref = matchResource(lists, query);
    expect(ref && `${apiVersionOf(ref)} ${ref.plural}`).toBe(expected);
  });

  it('never matches subresources or the wrong group', () => {
    expect(matchResource(lists, { kind: 'Scale' })).toBeUndefined();
    expect(matchResource(lists, { plural: 'deployments', group: '' })).toBeUndefined();
  });

  it('returns the full ResourceRef including scope', () => {
    expect(matchResource(lists, { kind: 'Namespace' })).toEqual(NAMESPACES);
  });
});

describe('discoverResource', () => {
  const discovery: Handler = (r) => {
    switch (r.url.pathname) {
      case '/api/v1':
        return { body: CORE_LIST };
      case '/apis':
        return {
          body: {
            groups: [
              {
                name: 'apps',
                versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
                preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
              },
              {
                name: 'metrics.k8s.io',
                versions: [{ groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' }],
              },
              {
                name: 'types.kubefed.io',
                versions: [{ groupVersion: 'types.kubefed.io/v1beta1', version: 'v1beta1' }],
              },
            ],
          },
        };
      case '/apis/apps':
        return { body: { preferredVersion: { groupVersion: 'apps/v1' } } };
      case '/apis/apps/v1':
        return { body: APPS_LIST };
      case '/apis/types.kubefed.io/v1beta1':
        return { body: TYPES_LIST };
      case '/apis/metrics.k8s.io/v1beta1':
        return { status: 503, body: { kind: 'Status', code: 503, message: 'service unavailable' } };
      default:
        return undefined;
    }
  };

  it('finds a core kind without looking at other groups', async () => {
    const { kc, seen } = await apiServer(discovery);
    expect(await discoverResource(kc, { kind: 'Pod' })).toEqual(PODS);
    expect(seen.map((s) => s.url.pathname)).toEqual(['/api/v1']);
  });

  it('finds a kind of another group, skipping groups whose discovery fails', async () => {
    const { kc } = await apiServer(discovery);
    expect(
      await discoverResource(kc, { kind: 'FederatedDeployment', plural: 'FederatedDeployment' }),
    ).toEqual(FED_DEPLOYMENTS);
  });

  it('asks only the named group, in its preferred version', async () => {
    const { kc, seen } = await apiServer(discovery);
    expect(await discoverResource(kc, { group: 'apps', kind: 'deployments', plural: 'deployments' })).toEqual(
      DEPLOYMENTS,
    );
    expect(seen.map((s) => s.url.pathname)).toEqual(['/apis/apps', '/apis/apps/v1']);
  });

  it('says which type it could not find, and on which cluster', async () => {
    const { kc } = await apiServer(discovery);
    await expect(discoverResource(kc, { kind: 'Widget' })).rejects.toThrow(
      'no resource type "Widget" on cluster "member1" (is its CRD installed?)',
    );
    await expect(discoverResource(kc, { plural: 'widgets', group: 'example.com' })).rejects.toThrow(
      'no resource type "widgets" in group "example.com" on cluster "member1"',
    );
  });
});
