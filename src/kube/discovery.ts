// API discovery: which resource a kind, plural or short name means on a cluster (`fedctl enable`,
// `federate`), from the server's APIResourceLists.
import type { KubeConfig } from './kubeconfig.ts';
import type { ResourceRef } from './refs.ts';
import { contextName, KubeApiError, kubeRequest } from './transport.ts';

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
