// `fedctl unjoin`: undo join on both sides. Everything tolerates NotFound, so unjoin can be re-run after
// a partial failure. A member that cannot be reached blocks unjoin (its credentials would stay valid)
// unless `force` is set, which removes the host-side registration and says what stayed behind.
import { CORE_GROUP, CORE_VERSION, DEFAULT_KUBEFED_NAMESPACE } from '../api/constants.ts';
import { type ClusterClients, type TypedClients, typedClients } from '../kube/clients.ts';
import { errorMessage, isNotFound } from '../kube/errors.ts';
import { probeCluster } from './health.ts';
import {
  CREATED_BY_ANNOTATION,
  desiredRbac,
  JoinError,
  KUBEFEDCLUSTER_KIND,
  KUBEFEDCLUSTER_PLURAL,
  type RbacObject,
  rbacApi,
  readKubeFedCluster,
  readScope,
  type Side,
} from './join.ts';
import { joinNames, type Scope } from './join-names.ts';

export type RemovalOutcome = 'deleted' | 'would-delete' | 'not-found' | 'kept' | 'skipped' | 'failed';

export interface RemovalResult {
  side: Side;
  cluster: string;
  kind: string;
  namespace?: string;
  name: string;
  outcome: RemovalOutcome;
  /** Why an object was kept, skipped or could not be deleted. */
  detail?: string;
}

export interface UnjoinOptions {
  host: ClusterClients;
  /** Absent when the member's kubeconfig context could not even be loaded. */
  member?: ClusterClients;
  /** Why `member` is absent; reported with --force. */
  memberError?: string;
  clusterName: string;
  hostClusterName: string;
  kubefedNamespace?: string;
  /** Remove the host-side objects even when the member cannot be reached or cleaned. */
  force?: boolean;
  /** Reachability check before touching the member (default: probeCluster with 5 s). */
  probe?: (c: ClusterClients) => Promise<{ offline: boolean; error?: string }>;
  /** Per-object progress. */
  log?: (message: string) => void;
  /** What --force skipped or could not remove (also returned in `warnings`). */
  warn?: (message: string) => void;
  /** kubefedctl --dry-run: check and report what would be removed; delete nothing. */
  dryRun?: boolean;
}

export interface UnjoinResult {
  clusterName: string;
  hostClusterName: string;
  namespace: string;
  /** False when --force skipped (part of) the member cleanup. */
  memberCleaned: boolean;
  objects: RemovalResult[];
  warnings: string[];
}

export interface PlannedRemoval {
  side: Side;
  kind: RbacObject['kind'] | 'Secret' | 'ServiceAccount' | 'Namespace' | typeof KUBEFEDCLUSTER_KIND;
  namespace?: string;
  name: string;
}

/**
 * What unjoin removes, in order. Member first: RBAC (so the token stops working at once), then the
 * token Secret and ServiceAccount, then the namespace (only when join created it and it is not the
 * host's own namespace; decided at run time). Host last: the KubeFedCluster (the controller stops using
 * the member), then its Secret.
 */
export function unjoinPlan(
  clusterName: string,
  hostClusterName: string,
  namespace: string,
  hostSecret: string,
  scope: Scope = 'Cluster',
): PlannedRemoval[] {
  const n = joinNames(clusterName, hostClusterName, namespace);
  // The RBAC objects join made for this scope (see desiredRbac), bindings before roles.
  const rbac: PlannedRemoval[] = desiredRbac(n, namespace, scope)
    .map((o) => ({
      side: 'member' as const,
      kind: o.kind,
      name: o.name,
      ...(o.namespace ? { namespace: o.namespace } : {}),
    }))
    .sort((a, b) => Number(b.kind.endsWith('Binding')) - Number(a.kind.endsWith('Binding')));
  return [
    ...rbac,
    { side: 'member', kind: 'Secret', namespace, name: n.tokenSecret },
    { side: 'member', kind: 'ServiceAccount', namespace, name: n.serviceAccount },
    { side: 'member', kind: 'Namespace', name: namespace },
    { side: 'host', kind: KUBEFEDCLUSTER_KIND, namespace, name: clusterName },
    { side: 'host', kind: 'Secret', namespace, name: hostSecret },
  ];
}

/** How to read (for --dry-run) and delete one planned object. */
function calls(c: TypedClients, p: PlannedRemoval): { read(): Promise<unknown>; delete(): Promise<unknown> } {
  const ns = p.namespace ?? '';
  const name = p.name;
  switch (p.kind) {
    case 'ClusterRoleBinding':
    case 'ClusterRole':
    case 'RoleBinding':
    case 'Role':
      return rbacApi(c, { kind: p.kind as RbacObject['kind'], name, namespace: p.namespace });
    case 'Secret':
      return {
        read: () => c.core.readNamespacedSecret({ name, namespace: ns }),
        delete: () => c.core.deleteNamespacedSecret({ name, namespace: ns }),
      };
    case 'ServiceAccount':
      return {
        read: () => c.core.readNamespacedServiceAccount({ name, namespace: ns }),
        delete: () => c.core.deleteNamespacedServiceAccount({ name, namespace: ns }),
      };
    case 'Namespace':
      return { read: () => c.core.readNamespace({ name }), delete: () => c.core.deleteNamespace({ name }) };
    case KUBEFEDCLUSTER_KIND: {
      const where = {
        group: CORE_GROUP,
        version: CORE_VERSION,
        namespace: ns,
        plural: KUBEFEDCLUSTER_PLURAL,
        name,
      };
      return {
        read: () => c.custom.getNamespacedCustomObject(where),
        delete: () => c.custom.deleteNamespacedCustomObject(where),
      };
    }
  }
}

export async function unjoinCluster(opts: UnjoinOptions): Promise<UnjoinResult> {
  const { clusterName, hostClusterName } = opts;
  // unjoin deletes through client-node's typed clients, loaded here (never by the controller).
  const host = await typedClients(opts.host);
  const member = opts.member && (await typedClients(opts.member));
  const ns = opts.kubefedNamespace ?? DEFAULT_KUBEFED_NAMESPACE;
  const log = opts.log ?? (() => {});
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    (opts.warn ?? log)(m);
  };
  const objects: RemovalResult[] = [];
  const record = (p: PlannedRemoval, outcome: RemovalOutcome, detail?: string) => {
    const r: RemovalResult = {
      side: p.side,
      cluster: p.side === 'member' ? clusterName : hostClusterName,
      kind: p.kind,
      name: p.name,
      outcome,
    };
    if (p.namespace) r.namespace = p.namespace;
    if (detail) r.detail = detail;
    objects.push(r);
    log(
      `${r.side} ${r.cluster}: ${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name} ${outcome}${detail ? ` (${detail})` : ''}`,
    );
  };

  // The host Secret's name comes from the KubeFedCluster (kubefedctl generated names; we use <name>).
  let kfc: Awaited<ReturnType<typeof readKubeFedCluster>>;
  try {
    kfc = await readKubeFedCluster(host, ns, clusterName);
  } catch (e) {
    // No CRD (404 without a Status) means nothing was registered; anything else is a real failure.
    if (!isNotFound(e)) {
      throw new JoinError(
        `reading KubeFedCluster ${ns}/${clusterName} in host cluster ${hostClusterName}: ${errorMessage(e)}`,
        {
          cause: e,
        },
      );
    }
  }
  const hostSecret = kfc?.spec?.secretRef?.name || joinNames(clusterName, hostClusterName).hostSecret;
  const scope = await readScope(host, ns).catch(() => 'Cluster' as const);
  const plan = unjoinPlan(clusterName, hostClusterName, ns, hostSecret, scope);
  const memberSteps = plan.filter((p) => p.side === 'member');
  const hostSteps = plan.filter((p) => p.side === 'host');

  // Is the member there at all? Probing first keeps a dead member from hanging every delete.
  let memberProblem: string | undefined;
  if (!member) {
    memberProblem = opts.memberError ?? 'no kubeconfig context for it';
  } else {
    const probe = opts.probe ?? ((c: ClusterClients) => probeCluster(c, 5000));
    const r = await probe(member);
    if (r.offline) memberProblem = `cannot reach it: ${r.error ?? 'unreachable'}`;
  }
  if (memberProblem !== undefined) {
    if (!opts.force) {
      throw new JoinError(
        `member cluster ${clusterName}: ${memberProblem}; nothing was removed. Re-run with --force to remove the host-side registration anyway (its ServiceAccount, token and RBAC then stay in ${clusterName})`,
      );
    }
    warn(
      `member cluster ${clusterName}: ${memberProblem}; --force: removing only the host-side objects. Left in ${clusterName}: ServiceAccount ${ns}/${joinNames(clusterName, hostClusterName).serviceAccount}, its token Secret, ClusterRole and ClusterRoleBinding ${joinNames(clusterName, hostClusterName).clusterRole}`,
    );
    for (const p of memberSteps) record(p, 'skipped', 'member unreachable');
  }

  let memberCleaned = memberProblem === undefined;
  if (member && memberProblem === undefined) {
    for (const p of memberSteps) {
      if (p.kind === 'Namespace') {
        const why = await namespaceKeepReason(host, member, ns, clusterName, hostClusterName);
        if (why) {
          record(p, 'kept', why);
          continue;
        }
      }
      const ok = await remove(member, p, record, opts.force === true, warn, opts.dryRun === true);
      if (!ok) memberCleaned = false;
    }
  }

  for (const p of hostSteps) await remove(host, p, record, opts.force === true, warn, opts.dryRun === true);

  return { clusterName, hostClusterName, namespace: ns, memberCleaned, objects, warnings };
}

async function remove(
  c: TypedClients,
  p: PlannedRemoval,
  record: (p: PlannedRemoval, o: RemovalOutcome, detail?: string) => void,
  force: boolean,
  warn: (m: string) => void,
  dryRun = false,
): Promise<boolean> {
  try {
    if (dryRun) {
      // The object's existence is what a dry run can tell; nothing is deleted.
      await calls(c, p).read();
      record(p, 'would-delete');
      return true;
    }
    await calls(c, p).delete();
    record(p, 'deleted');
    return true;
  } catch (e) {
    if (isNotFound(e)) {
      record(p, 'not-found');
      return true;
    }
    const msg = `deleting ${p.kind} ${p.namespace ? `${p.namespace}/` : ''}${p.name} in ${p.side} cluster: ${errorMessage(e)}`;
    if (!force) throw new JoinError(`${msg} (re-run with --force to continue past failures)`, { cause: e });
    record(p, 'failed', errorMessage(e));
    warn(msg);
    return false;
  }
}

/**
 * The member's kubefed namespace goes only if join created it, it is not the host's own namespace
 * (a host that is also a member: same namespace UID), and no other joins' ServiceAccounts live there.
 */
async function namespaceKeepReason(
  host: TypedClients,
  member: TypedClients,
  ns: string,
  clusterName: string,
  hostClusterName: string,
): Promise<string | undefined> {
  const read = async (c: TypedClients) => {
    try {
      return await c.core.readNamespace({ name: ns });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  };
  try {
    const [h, m] = await Promise.all([read(host), read(member)]);
    if (!m) return undefined;
    if (h?.metadata?.uid && h.metadata.uid === m.metadata?.uid)
      return "it is the host cluster's own namespace";
    if (m.metadata?.annotations?.[CREATED_BY_ANNOTATION] === undefined) return 'not created by fedctl join';
    const sas = await member.core.listNamespacedServiceAccount({ namespace: ns });
    const mine = joinNames(clusterName, hostClusterName).serviceAccount;
    const others = (sas.items ?? [])
      .map((s) => s.metadata?.name ?? '')
      .filter((n) => n !== 'default' && n !== mine);
    if (others.length > 0) return `still holds ServiceAccounts ${others.sort().join(', ')}`;
    return undefined;
  } catch (e) {
    return `could not check whether it is safe to delete: ${errorMessage(e)}`;
  }
}
