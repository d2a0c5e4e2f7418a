// `fedctl join`: register a member cluster with the control plane, object for object what kubefedctl
// join creates, so KubeFed users find the same names in both clusters:
//   member: namespace, ServiceAccount <member>-<host>, its token Secret (same name), ClusterRole and
//           ClusterRoleBinding kubefed-controller-manager:<sa> (full access + non-resource GETs);
//   host:   namespace, Secret with the token (and ca.crt), KubeFedCluster <member>.
// Unlike kubefedctl, every step is idempotent and reports created | updated | unchanged, and the host
// Secret has a deterministic name (<member>) instead of a generated one, so re-running join never
// leaves orphaned credential Secrets behind.
import { readFileSync } from 'node:fs';
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1PolicyRule,
  V1Role,
  V1RoleBinding,
  V1Secret,
} from '@kubernetes/client-node';
import { CRD_ESTABLISHED } from '../api/conditions.ts';
import { CORE_GROUP, CORE_VERSION, DEFAULT_KUBEFED_NAMESPACE } from '../api/constants.ts';
import { coreCustomResourceDefinitions } from '../api/crds.ts';
import type { FederatedTypeConfig, KubeFedCluster, KubeFedClusterSpec } from '../api/types.ts';
import { KUBEFEDCONFIG_NAME } from '../controlplane/install.ts';
import { type ClusterClients, endpointOf, type TypedClients, typedClients } from '../kube/clients.ts';
import { apiStatus, errorMessage, isAlreadyExists, isNotFound } from '../kube/errors.ts';
import type { KubeConfig } from '../kube/kubeconfig.ts';
import { FTC_REF, KUBEFEDCONFIG_REF } from '../kube/refs.ts';
import {
  DNS1123_SUBDOMAIN,
  type JoinNames,
  joinNames,
  type RbacMode,
  type Scope,
  validateJoinNames,
} from './join-names.ts';

export const KUBEFEDCLUSTER_PLURAL = 'kubefedclusters';
export const KUBEFEDCLUSTER_KIND = 'KubeFedCluster';
export const KUBEFEDCLUSTER_CRD = `${KUBEFEDCLUSTER_PLURAL}.${CORE_GROUP}`;
/** Keys of the host Secret and of the member's token Secret (as the token controller writes them). */
export const TOKEN_KEY = 'token';
export const CA_KEY = 'ca.crt';
const SA_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
const SA_UID_ANNOTATION = 'kubernetes.io/service-account.uid';
const SA_TOKEN_TYPE = 'kubernetes.io/service-account-token';
/**
 * Marks a member namespace that join created, so unjoin removes only namespaces it made. (kubefedctl
 * deleted the member's kubefed namespace whatever else lived in it.)
 */
export const CREATED_BY_ANNOTATION = 'fedctl.io/created-by';
const CREATED_BY_JOIN = 'join';
/** kubefedctl waits 30 s for the token controller; a loaded testbed can be slower. */
const DEFAULT_TOKEN_TIMEOUT_MS = 60_000;

export type Outcome = 'created' | 'updated' | 'unchanged';
export type Side = 'member' | 'host';

export interface ObjectOutcome {
  side: Side;
  /** The cluster's name as the federation knows it (member: the joined name; host: the host name). */
  cluster: string;
  kind: string;
  namespace?: string;
  name: string;
  outcome: Outcome;
}

export interface JoinOptions {
  host: ClusterClients;
  member: ClusterClients;
  /** Name of the KubeFedCluster; an RFC 1123 subdomain. */
  clusterName: string;
  /** Name of the host cluster; part of the member ServiceAccount's name. */
  hostClusterName: string;
  kubefedNamespace?: string;
  /** Fail when the KubeFedCluster already exists instead of updating it. */
  errorOnExisting?: boolean;
  /** API endpoint the control plane uses for the member (default: the member kubeconfig's server). */
  apiEndpoint?: string;
  /**
   * Create the core CRDs when the host lacks them (default true). Only created CRDs appear in
   * `objects`; existing ones are neither compared nor upgraded.
   */
  installCrds?: boolean;
  /** How long to wait for the token controller to fill the ServiceAccount token Secret. */
  tokenTimeoutMs?: number;
  /** Progress: 'debug' for per-object outcomes, 'info' for waits a user should know about. */
  log?: (message: string, level?: 'info' | 'debug') => void;
  /** kubefedctl --secret-name: the host Secret holding the member's token (default: <clusterName>). */
  secretName?: string;
  /** kubefedctl --dry-run: read both clusters and report every outcome; write nothing. */
  dryRun?: boolean;
  /** full (kubefedctl's full access) or minimal (only the enabled federated types). Default full. */
  rbac?: RbacMode;
  /** The control plane's scope; default: the host KubeFedConfig's spec.scope (Cluster without one). */
  scope?: Scope;
  /** The kubeconfig context used for the member, recorded for `fedctl enable` (--rbac=minimal). */
  memberContext?: string;
}

export interface JoinResult {
  clusterName: string;
  hostClusterName: string;
  namespace: string;
  serviceAccount: string;
  secretName: string;
  scope: Scope;
  rbac: RbacMode;
  /** True when nothing was written (--dry-run): outcomes say what would have happened. */
  dryRun: boolean;
  spec: KubeFedClusterSpec;
  objects: ObjectOutcome[];
}

/** Full access to the member, as kubefedctl grants for a cluster-scoped control plane. */
export const CLUSTER_POLICY_RULES: V1PolicyRule[] = [
  { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
  { nonResourceURLs: ['*'], verbs: ['get'] },
];
/** Full access to the control-plane namespace, as kubefedctl grants for a namespace-scoped one. */
export const NAMESPACED_POLICY_RULES: V1PolicyRule[] = [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }];
/** What the health prober reads (KubeFed also listed nodes for zone/region; fedctl does not). */
export const HEALTH_CHECK_RULES: V1PolicyRule[] = [
  { nonResourceURLs: ['/healthz', '/version'], verbs: ['get'] },
];
/** What the sync controller does with a federated type's objects in a member. */
export const MEMBER_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

/** Marks a member role join made with --rbac=minimal; `fedctl enable` extends only those. */
export const RBAC_MODE_LABEL = 'fedctl.io/rbac';
/** On the KubeFedCluster: the kubeconfig context join used for the member, for `fedctl enable`. */
export const JOIN_CONTEXT_ANNOTATION = 'fedctl.io/join-context';

/** A federated type as minimal RBAC needs it: where its target lives. */
export interface TypeAccess {
  group: string;
  plural: string;
  namespaced: boolean;
}

/**
 * Rules for --rbac=minimal: the sync controller's verbs on exactly the target types given, one rule
 * per API group (sorted, so the role compares equal across runs). Namespaced scope grants a Role in the
 * control-plane namespace, which cannot name cluster-scoped types: those are left out.
 */
export function minimalPolicyRules(types: readonly TypeAccess[], scope: Scope): V1PolicyRule[] {
  const byGroup = new Map<string, Set<string>>();
  for (const t of types) {
    if (scope === 'Namespaced' && !t.namespaced) continue;
    const set = byGroup.get(t.group) ?? new Set<string>();
    set.add(t.plural);
    byGroup.set(t.group, set);
  }
  const rules: V1PolicyRule[] = [...byGroup]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([group, plurals]) => ({ apiGroups: [group], resources: [...plurals].sort(), verbs: MEMBER_VERBS }));
  return scope === 'Cluster' ? [...rules, ...HEALTH_CHECK_RULES] : rules;
}

/** One RBAC object join keeps in the member. */
export interface RbacObject {
  kind: 'ClusterRole' | 'ClusterRoleBinding' | 'Role' | 'RoleBinding';
  name: string;
  namespace?: string;
  body: V1ClusterRole | V1ClusterRoleBinding;
}

/**
 * The member's RBAC for a join, as kubefedctl: cluster scope → ClusterRole + ClusterRoleBinding;
 * namespaced scope → Role + RoleBinding in the control-plane namespace, plus a health-check
 * ClusterRole + ClusterRoleBinding. `rules` replaces the full-access rules (--rbac=minimal).
 */
export function desiredRbac(
  names: JoinNames,
  namespace: string,
  scope: Scope,
  minimalRules?: V1PolicyRule[],
): RbacObject[] {
  const rbacApi = 'rbac.authorization.k8s.io/v1';
  const labels = minimalRules ? { labels: { [RBAC_MODE_LABEL]: 'minimal' } } : {};
  const subjects = [{ kind: 'ServiceAccount', name: names.serviceAccount, namespace }];
  const pair = (
    kind: 'ClusterRole' | 'Role',
    name: string,
    rules: V1PolicyRule[],
    ns: string | undefined,
    withLabels: boolean,
  ): RbacObject[] => {
    const meta = { name, ...(ns ? { namespace: ns } : {}), ...(withLabels ? labels : {}) };
    return [
      { kind, name, namespace: ns, body: { apiVersion: rbacApi, kind, metadata: meta, rules } },
      {
        kind: `${kind}Binding`,
        name,
        namespace: ns,
        body: {
          apiVersion: rbacApi,
          kind: `${kind}Binding`,
          metadata: { name, ...(ns ? { namespace: ns } : {}) },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name },
          subjects,
        },
      },
    ];
  };
  if (scope === 'Cluster')
    return pair('ClusterRole', names.clusterRole, minimalRules ?? CLUSTER_POLICY_RULES, undefined, true);
  return [
    ...pair('Role', names.role, minimalRules ?? NAMESPACED_POLICY_RULES, namespace, true),
    ...pair('ClusterRole', names.healthCheckRole, HEALTH_CHECK_RULES, undefined, false),
  ];
}

/** Rules compared as sets of their fields, ignoring order and empty lists the server may drop. */
export function sameRules(
  a: readonly V1PolicyRule[] | undefined,
  b: readonly V1PolicyRule[] | undefined,
): boolean {
  const norm = (rules: readonly V1PolicyRule[] | undefined) =>
    (rules ?? [])
      .map((r) =>
        JSON.stringify([
          [...(r.apiGroups ?? [])].sort(),
          [...(r.resources ?? [])].sort(),
          [...(r.resourceNames ?? [])].sort(),
          [...(r.nonResourceURLs ?? [])].sort(),
          [...(r.verbs ?? [])].sort(),
        ]),
      )
      .sort();
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

export interface MemberAccess {
  server: string;
  /** base64 PEM from the kubeconfig (inline data or the file it names). */
  caData?: string;
  skipTLSVerify: boolean;
  proxyUrl?: string;
}

/** How the member kubeconfig reaches its API server: what the KubeFedCluster must reproduce. */
export function memberAccess(kc: KubeConfig): MemberAccess {
  const ep = endpointOf(kc);
  const cluster = kc.getCurrentCluster();
  let caData = ep.caData || undefined;
  if (!caData && cluster?.caFile) {
    try {
      caData = readFileSync(cluster.caFile).toString('base64');
    } catch (e) {
      throw new Error(
        `cannot read certificate-authority file ${cluster.caFile} of cluster ${cluster.name}: ${errorMessage(e)}`,
      );
    }
  }
  return {
    server: ep.server,
    caData,
    skipTLSVerify: ep.skipTLSVerify === true,
    proxyUrl: cluster?.proxyUrl || undefined,
  };
}

/**
 * KubeFedCluster.spec for a member. The CA comes from the member's kubeconfig, else from the token
 * Secret's ca.crt (the cluster's root CA); disabledTLSValidations is ['*'] when the kubeconfig skips
 * verification, as kubefedctl does.
 */
export function kubeFedClusterSpec(input: {
  access: MemberAccess;
  apiEndpoint?: string;
  tokenSecretCa?: string;
  secretName: string;
}): KubeFedClusterSpec {
  const caBundle = input.access.caData || input.tokenSecretCa || undefined;
  return {
    apiEndpoint: input.apiEndpoint || input.access.server,
    ...(caBundle ? { caBundle } : {}),
    secretRef: { name: input.secretName },
    disabledTLSValidations: input.access.skipTLSVerify ? ['*'] : [],
    ...(input.access.proxyUrl ? { proxyURL: input.access.proxyUrl } : {}),
  };
}

/** Equal as far as the control plane cares: absent and empty lists/strings are the same. */
export function sameSpec(a: Partial<KubeFedClusterSpec> | undefined, b: KubeFedClusterSpec): boolean {
  const norm = (s: Partial<KubeFedClusterSpec> | undefined) =>
    JSON.stringify([
      s?.apiEndpoint ?? '',
      s?.caBundle ?? '',
      s?.secretRef?.name ?? '',
      [...(s?.disabledTLSValidations ?? [])].sort(),
      s?.proxyURL ?? '',
    ]);
  return norm(a) === norm(b);
}

const sameData = (a: Record<string, string> | undefined, b: Record<string, string>): boolean => {
  const ka = Object.keys(a ?? {}).sort();
  const kb = Object.keys(b).sort();
  return JSON.stringify(ka) === JSON.stringify(kb) && kb.every((k) => a?.[k] === b[k]);
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Context for errors: "in cluster c1: creating ServiceAccount ns/name: <API message>". Every step is an
 * idempotent ensure, so an API server that is briefly unavailable (503 while it restarts, 429 while a
 * new CRD's storage initialises) is asked again a few times before join fails.
 */
async function step<T>(where: string, what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof JoinError) throw e;
      const code = apiStatus(e).code;
      const transient = code !== undefined && (code === 429 || code >= 500);
      if (!transient || attempt >= 5)
        throw new JoinError(`${what} in ${where}: ${errorMessage(e)}`, { cause: e });
      await sleep(250 * 2 ** attempt);
    }
  }
}

/** A join or unjoin step failed; the message names the cluster and object. */
export class JoinError extends Error {
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = 'JoinError';
  }
}

async function readOrUndefined<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/**
 * Ensures a namespace exists. A namespace still terminating (an unjoin moments ago) cannot take new
 * objects, so wait for it to go away first instead of failing with "namespace is being terminated".
 */
async function ensureNamespace(
  c: TypedClients,
  clusterLabel: string,
  name: string,
  timeoutMs: number,
  annotate: boolean,
  dryRun = false,
): Promise<Outcome> {
  const where = `cluster ${clusterLabel}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ns = await step(where, `reading namespace ${name}`, () =>
      readOrUndefined(() => c.core.readNamespace({ name })),
    );
    if (ns && ns.status?.phase !== 'Terminating') return 'unchanged';
    if (dryRun) return 'created';
    if (ns) {
      if (Date.now() > deadline) {
        throw new JoinError(
          `namespace ${name} in ${where} is still terminating after ${timeoutMs / 1000}s; retry later`,
        );
      }
      await sleep(1000);
      continue;
    }
    try {
      await c.core.createNamespace({
        body: {
          metadata: {
            name,
            ...(annotate ? { annotations: { [CREATED_BY_ANNOTATION]: CREATED_BY_JOIN } } : {}),
          },
        },
      });
      return 'created';
    } catch (e) {
      if (isAlreadyExists(e)) continue;
      throw new JoinError(`creating namespace ${name} in ${where}: ${errorMessage(e)}`, { cause: e });
    }
  }
}

const CRD_API_VERSION = 'apiextensions.k8s.io/v1';

/**
 * Creates the core CRDs (KubeFedCluster, KubeFedConfig, FederatedTypeConfig,
 * ReplicaSchedulingPreference) that the host lacks, so join works before `fedctl controller` ever ran,
 * and waits until they are served. Existing CRDs are left alone: upgrading a schema under a running
 * controller is the controller's business. Returns the names of the CRDs it created.
 */
export async function ensureCoreCrds(
  host: TypedClients,
  hostLabel: string,
  timeoutMs = 30_000,
): Promise<string[]> {
  const created: string[] = [];
  for (const crd of coreCustomResourceDefinitions()) {
    const name = crd.metadata.name;
    const ref = { apiVersion: CRD_API_VERSION, kind: 'CustomResourceDefinition', metadata: { name } };
    try {
      await host.objects.read(ref);
      continue;
    } catch (e) {
      // Without permission to read CRDs, do not guess: the KubeFedCluster write will tell.
      if ((e as { code?: number }).code === 403) return created;
      if (!isNotFound(e)) {
        throw new JoinError(`checking CRD ${name} in host cluster ${hostLabel}: ${errorMessage(e)}`, {
          cause: e,
        });
      }
    }
    try {
      await host.objects.create(crd as unknown as Parameters<TypedClients['objects']['create']>[0]);
      created.push(name);
    } catch (e) {
      if (isAlreadyExists(e)) continue;
      throw new JoinError(
        `KubeFedCluster CRD not installed in host cluster ${hostLabel}, and creating CRD ${name} failed: ${errorMessage(e)}; run \`fedctl controller\` once or apply crds/`,
        { cause: e },
      );
    }
  }
  // Every one, not only those created here: another installer (the controller, a concurrent join)
  // may have created one a moment ago, and the KubeFedCluster write needs its kind served.
  const deadline = Date.now() + timeoutMs;
  for (const { metadata } of coreCustomResourceDefinitions()) {
    for (;;) {
      const crd = (await host.objects.read({
        apiVersion: CRD_API_VERSION,
        kind: 'CustomResourceDefinition',
        metadata: { name: metadata.name },
      })) as {
        status?: { conditions?: Array<{ type: string; status: string }> };
      };
      if (crd.status?.conditions?.some((c) => c.type === CRD_ESTABLISHED && c.status === 'True')) break;
      if (Date.now() > deadline) {
        throw new JoinError(
          `CRD ${metadata.name} in host cluster ${hostLabel} not Established after ${timeoutMs / 1000}s`,
        );
      }
      await sleep(200);
    }
  }
  return created;
}

export async function readKubeFedCluster(
  host: TypedClients,
  namespace: string,
  name: string,
): Promise<KubeFedCluster | undefined> {
  return readOrUndefined(
    () =>
      host.custom.getNamespacedCustomObject({
        group: CORE_GROUP,
        version: CORE_VERSION,
        namespace,
        plural: KUBEFEDCLUSTER_PLURAL,
        name,
      }) as Promise<KubeFedCluster>,
  );
}

export async function joinCluster(opts: JoinOptions): Promise<JoinResult> {
  const { clusterName, hostClusterName } = opts;
  // join writes through client-node's typed clients, loaded here (never by the controller).
  const host = await typedClients(opts.host);
  const member = await typedClients(opts.member);
  const ns = opts.kubefedNamespace ?? DEFAULT_KUBEFED_NAMESPACE;
  const log = opts.log ?? (() => {});
  const dryRun = opts.dryRun === true;
  const tokenTimeoutMs = opts.tokenTimeoutMs ?? DEFAULT_TOKEN_TIMEOUT_MS;
  const problems = validateJoinNames(clusterName, hostClusterName);
  if (problems.length > 0) throw new JoinError(problems.join('; '));
  if (opts.secretName !== undefined && !DNS1123_SUBDOMAIN.test(opts.secretName))
    throw new JoinError(`secret name "${opts.secretName}" is not a valid RFC 1123 name`);

  const names = joinNames(clusterName, hostClusterName, ns);
  const access = memberAccess(member.kc);
  const inMember = `member cluster ${clusterName}`;
  const inHost = `host cluster ${hostClusterName}`;
  const objects: ObjectOutcome[] = [];
  const record = (side: Side, kind: string, name: string, outcome: Outcome, namespace?: string) => {
    const o: ObjectOutcome = {
      side,
      cluster: side === 'member' ? clusterName : hostClusterName,
      kind,
      name,
      outcome,
    };
    if (namespace) o.namespace = namespace;
    objects.push(o);
    log(
      `${side} ${o.cluster}: ${kind} ${namespace ? `${namespace}/` : ''}${name} ${outcome}${dryRun ? ' (dry run)' : ''}`,
      'debug',
    );
  };
  // Preflight on the host first, so a refused join leaves the member untouched.
  if (opts.installCrds !== false && !dryRun) {
    for (const name of await ensureCoreCrds(host, hostClusterName))
      record('host', 'CustomResourceDefinition', name, 'created');
  }
  const existing = await step(inHost, `reading KubeFedCluster ${ns}/${clusterName}`, () =>
    readKubeFedCluster(host, ns, clusterName),
  );
  const scope =
    opts.scope ?? (await step(inHost, `reading KubeFedConfig ${ns}/kubefed`, () => readScope(host, ns)));
  const rbacMode = opts.rbac ?? 'full';
  const minimalRules =
    rbacMode === 'minimal'
      ? minimalPolicyRules(
          await step(inHost, `listing FederatedTypeConfigs in ${ns}`, () => enabledTypes(host, ns)),
          scope,
        )
      : undefined;
  const rbac = desiredRbac(names, ns, scope, minimalRules);
  const secretName = opts.secretName || existing?.spec?.secretRef?.name || names.hostSecret;

  // kubefedctl's --error-on-existing: refuse before writing anything if any object join makes exists.
  const readRbac = (o: RbacObject) =>
    step(inMember, `reading ${o.kind} ${o.name}`, () => readOrUndefined(() => rbacApi(member, o).read()));
  if (opts.errorOnExisting) {
    const found: string[] = [];
    if (existing) found.push(`KubeFedCluster ${ns}/${clusterName} in ${inHost}`);
    const sa = await step(inMember, `reading ServiceAccount ${ns}/${names.serviceAccount}`, () =>
      readOrUndefined(() =>
        member.core.readNamespacedServiceAccount({ name: names.serviceAccount, namespace: ns }),
      ),
    );
    if (sa) found.push(`ServiceAccount ${ns}/${names.serviceAccount} in ${inMember}`);
    for (const o of rbac) if (await readRbac(o)) found.push(`${o.kind} ${o.name} in ${inMember}`);
    if (opts.secretName) {
      const hs = await step(inHost, `reading Secret ${ns}/${opts.secretName}`, () =>
        readOrUndefined(() => host.core.readNamespacedSecret({ name: opts.secretName ?? '', namespace: ns })),
      );
      if (hs) found.push(`Secret ${ns}/${opts.secretName} in ${inHost}`);
    }
    if (found.length > 0)
      throw new JoinError(
        `${found.join(', ')} already exist${found.length === 1 ? 's' : ''} (--error-on-existing, on by default as in kubefedctl); nothing was changed. Unjoin first, or pass --error-on-existing=false to update them in place`,
      );
  }

  // Another federation's objects are never taken over: a binding of ours that names someone else's
  // ServiceAccount was not made by this join (kubefedctl would have rebound it).
  for (const o of rbac.filter((x) => x.kind.endsWith('Binding'))) {
    const cur = (await readRbac(o)) as V1ClusterRoleBinding | undefined;
    const theirs = (cur?.subjects ?? []).filter(
      (sub) => !(sub.kind === 'ServiceAccount' && sub.name === names.serviceAccount && sub.namespace === ns),
    );
    if (cur && theirs.length > 0)
      throw new JoinError(
        `${o.kind} ${o.name} in ${inMember} binds ${theirs.map((t) => `${t.kind} ${t.namespace ? `${t.namespace}/` : ''}${t.name}`).join(', ')}, not this join's ServiceAccount ${ns}/${names.serviceAccount}; it belongs to another federation or user and is left alone. Nothing was changed`,
      );
  }

  const runSteps = async (steps: readonly EnsureStep[]) => {
    for (const s of steps) record(s.side, s.kind, s.name, await s.ensure(), s.namespace);
  };

  // Member side: what the host's credentials for this member are made of.
  await runSteps([
    {
      side: 'member',
      kind: 'Namespace',
      name: ns,
      ensure: () => ensureNamespace(member, clusterName, ns, tokenTimeoutMs, true, dryRun),
    },
    {
      side: 'member',
      kind: 'ServiceAccount',
      name: names.serviceAccount,
      namespace: ns,
      ensure: () =>
        step(inMember, `ensuring ServiceAccount ${ns}/${names.serviceAccount}`, () =>
          ensureServiceAccount(member, ns, names.serviceAccount, dryRun),
        ),
    },
    {
      side: 'member',
      kind: 'Secret',
      name: names.tokenSecret,
      namespace: ns,
      ensure: () =>
        step(inMember, `ensuring token Secret ${ns}/${names.tokenSecret}`, () =>
          ensureTokenSecret(member, ns, names, dryRun),
        ),
    },
    ...rbac.map(
      (o): EnsureStep => ({
        side: 'member',
        kind: o.kind,
        name: o.name,
        namespace: o.namespace,
        ensure: () => step(inMember, `ensuring ${o.kind} ${o.name}`, () => ensureRbac(member, o, dryRun)),
      }),
    ),
  ]);

  const token = dryRun
    ? await readToken(member, clusterName, ns, names.tokenSecret)
    : await waitForToken(member, clusterName, ns, names.tokenSecret, tokenTimeoutMs, log);

  const spec = kubeFedClusterSpec({
    access,
    apiEndpoint: opts.apiEndpoint,
    tokenSecretCa: token?.ca,
    secretName,
  });
  // What `fedctl enable` needs to extend a minimal role later: the mode and the member's context.
  const annotations: Record<string, string> = {
    [RBAC_MODE_LABEL]: rbacMode,
    ...(opts.memberContext ? { [JOIN_CONTEXT_ANNOTATION]: opts.memberContext } : {}),
  };

  // Host side: the member's credentials and its KubeFedCluster.
  await runSteps([
    {
      side: 'host',
      kind: 'Namespace',
      name: ns,
      ensure: () => ensureNamespace(host, hostClusterName, ns, tokenTimeoutMs, false, dryRun),
    },
    {
      side: 'host',
      kind: 'Secret',
      name: secretName,
      namespace: ns,
      ensure: () =>
        step(inHost, `ensuring Secret ${ns}/${secretName}`, () =>
          ensureHostSecret(host, ns, secretName, token, dryRun),
        ),
    },
    {
      side: 'host',
      kind: KUBEFEDCLUSTER_KIND,
      name: clusterName,
      namespace: ns,
      ensure: () =>
        step(inHost, `ensuring KubeFedCluster ${ns}/${clusterName}`, () =>
          ensureKubeFedCluster(host, ns, clusterName, { spec, annotations }, dryRun),
        ),
    },
  ]);

  return {
    clusterName,
    hostClusterName,
    namespace: ns,
    serviceAccount: names.serviceAccount,
    secretName,
    scope,
    rbac: rbacMode,
    dryRun,
    spec,
    objects,
  };
}

/** One idempotent step of a join: the object it ensures, and how. */
interface EnsureStep {
  side: Side;
  kind: string;
  name: string;
  namespace?: string;
  ensure: () => Promise<Outcome>;
}

/** Runs a write unless it is a dry run; the outcome is reported either way. */
const writeUnless = async (dryRun: boolean, fn: () => Promise<unknown>) => {
  if (!dryRun) await fn();
};

/** The member ServiceAccount whose token the host uses from outside, so no pod should mount it. */
async function ensureServiceAccount(
  member: TypedClients,
  ns: string,
  name: string,
  dryRun: boolean,
): Promise<Outcome> {
  const sa = await readOrUndefined(() => member.core.readNamespacedServiceAccount({ name, namespace: ns }));
  if (!sa) {
    await writeUnless(dryRun, () =>
      member.core.createNamespacedServiceAccount({
        namespace: ns,
        body: { metadata: { name, namespace: ns }, automountServiceAccountToken: false },
      }),
    );
    return 'created';
  }
  if (sa.automountServiceAccountToken === false) return 'unchanged';
  await writeUnless(dryRun, () =>
    member.core.replaceNamespacedServiceAccount({
      name,
      namespace: ns,
      body: { ...sa, automountServiceAccountToken: false },
    }),
  );
  return 'updated';
}

/**
 * The host Secret holding the member's token (and CA). An existing KubeFedCluster's Secret (e.g. one
 * kubefedctl generated) is kept unless --secret-name names another; the caller picks `name`.
 */
async function ensureHostSecret(
  host: TypedClients,
  ns: string,
  name: string,
  token: { token: string; ca?: string } | undefined,
  dryRun: boolean,
): Promise<Outcome> {
  const cur = await readOrUndefined(() => host.core.readNamespacedSecret({ name, namespace: ns }));
  // Dry run before the token controller filled the token: say what will happen, compare nothing.
  if (!token) return cur ? 'updated' : 'created';
  const secretData: Record<string, string> = { [TOKEN_KEY]: token.token };
  if (token.ca) secretData[CA_KEY] = token.ca;
  if (!cur) {
    await writeUnless(dryRun, () =>
      host.core.createNamespacedSecret({
        namespace: ns,
        body: { metadata: { name, namespace: ns }, type: 'Opaque', data: secretData },
      }),
    );
    return 'created';
  }
  if (sameData(cur.data, secretData)) return 'unchanged';
  await writeUnless(dryRun, () =>
    host.core.replaceNamespacedSecret({ name, namespace: ns, body: { ...cur, data: secretData } }),
  );
  return 'updated';
}

/** The member's KubeFedCluster: spec replaced whole (as kubefedctl does), join's annotations merged. */
async function ensureKubeFedCluster(
  host: TypedClients,
  ns: string,
  name: string,
  want: { spec: KubeFedClusterSpec; annotations: Record<string, string> },
  dryRun: boolean,
): Promise<Outcome> {
  const target = { group: CORE_GROUP, version: CORE_VERSION, namespace: ns, plural: KUBEFEDCLUSTER_PLURAL };
  const cur = await readKubeFedCluster(host, ns, name);
  if (!cur) {
    await writeUnless(dryRun, () =>
      host.custom.createNamespacedCustomObject({
        ...target,
        body: {
          apiVersion: `${CORE_GROUP}/${CORE_VERSION}`,
          kind: KUBEFEDCLUSTER_KIND,
          metadata: { name, namespace: ns, annotations: want.annotations },
          spec: want.spec,
        },
      }),
    );
    return 'created';
  }
  const curAnnotations = cur.metadata?.annotations ?? {};
  const sameAnnotations = Object.entries(want.annotations).every(([k, v]) => curAnnotations[k] === v);
  if (sameSpec(cur.spec, want.spec) && sameAnnotations) return 'unchanged';
  // Status is a subresource and stays.
  await writeUnless(dryRun, () =>
    host.custom.replaceNamespacedCustomObject({
      ...target,
      name,
      body: {
        ...cur,
        metadata: { ...cur.metadata, annotations: { ...curAnnotations, ...want.annotations } },
        spec: want.spec,
      },
    }),
  );
  return 'updated';
}

/** The typed RBAC calls for one kind, so join and unjoin treat the four kinds alike. */
interface RbacCalls {
  read(): Promise<unknown>;
  create(body: RbacObject['body']): Promise<unknown>;
  replace(body: RbacObject['body']): Promise<unknown>;
  delete(): Promise<unknown>;
}

export function rbacApi(c: TypedClients, o: Pick<RbacObject, 'kind' | 'name' | 'namespace'>): RbacCalls {
  const { name } = o;
  const namespace = o.namespace ?? '';
  const r = c.rbac;
  switch (o.kind) {
    case 'ClusterRole':
      return {
        read: () => r.readClusterRole({ name }),
        create: (body: RbacObject['body']) => r.createClusterRole({ body: body as V1ClusterRole }),
        replace: (body: RbacObject['body']) => r.replaceClusterRole({ name, body: body as V1ClusterRole }),
        delete: () => r.deleteClusterRole({ name }),
      };
    case 'ClusterRoleBinding':
      return {
        read: () => r.readClusterRoleBinding({ name }),
        create: (body: RbacObject['body']) =>
          r.createClusterRoleBinding({ body: body as V1ClusterRoleBinding }),
        replace: (body: RbacObject['body']) =>
          r.replaceClusterRoleBinding({ name, body: body as V1ClusterRoleBinding }),
        delete: () => r.deleteClusterRoleBinding({ name }),
      };
    case 'Role':
      return {
        read: () => r.readNamespacedRole({ name, namespace }),
        create: (body: RbacObject['body']) => r.createNamespacedRole({ namespace, body: body as V1Role }),
        replace: (body: RbacObject['body']) =>
          r.replaceNamespacedRole({ name, namespace, body: body as V1Role }),
        delete: () => r.deleteNamespacedRole({ name, namespace }),
      };
    case 'RoleBinding':
      return {
        read: () => r.readNamespacedRoleBinding({ name, namespace }),
        create: (body: RbacObject['body']) =>
          r.createNamespacedRoleBinding({ namespace, body: body as V1RoleBinding }),
        replace: (body: RbacObject['body']) =>
          r.replaceNamespacedRoleBinding({ name, namespace, body: body as V1RoleBinding }),
        delete: () => r.deleteNamespacedRoleBinding({ name, namespace }),
      };
  }
}

/** Creates or updates one RBAC object; a binding whose roleRef changed is recreated (roleRef is immutable). */
async function ensureRbac(member: TypedClients, o: RbacObject, dryRun: boolean): Promise<Outcome> {
  const api = rbacApi(member, o);
  const write = async (fn: () => Promise<unknown>) => {
    if (!dryRun) await fn();
  };
  const cur = (await readOrUndefined(() => api.read())) as (V1ClusterRole & V1ClusterRoleBinding) | undefined;
  if (!cur) {
    await write(() => api.create(o.body));
    return 'created';
  }
  if (o.kind === 'ClusterRole' || o.kind === 'Role') {
    const want = o.body as V1ClusterRole;
    const labels = want.metadata?.labels ?? {};
    const sameLabels = Object.entries(labels).every(([k, v]) => cur.metadata?.labels?.[k] === v);
    // A role made minimal before and full now loses its label, so enable stops extending it.
    const staleLabel = !labels[RBAC_MODE_LABEL] && cur.metadata?.labels?.[RBAC_MODE_LABEL] !== undefined;
    if (sameRules(cur.rules, want.rules) && sameLabels && !staleLabel) return 'unchanged';
    const nextLabels = { ...(cur.metadata?.labels ?? {}), ...labels };
    if (staleLabel) delete nextLabels[RBAC_MODE_LABEL];
    await write(() =>
      api.replace({ ...cur, metadata: { ...cur.metadata, labels: nextLabels }, rules: want.rules }),
    );
    return 'updated';
  }
  const want = o.body as V1ClusterRoleBinding;
  const sameRef = JSON.stringify(cur.roleRef) === JSON.stringify(want.roleRef);
  const key = (subs: V1ClusterRoleBinding['subjects']) =>
    JSON.stringify((subs ?? []).map((x) => [x.kind, x.name, x.namespace ?? '']));
  if (sameRef && key(cur.subjects) === key(want.subjects)) return 'unchanged';
  if (!sameRef) {
    await write(async () => {
      await api.delete();
      await api.create(want);
    });
  } else await write(() => api.replace({ ...cur, subjects: want.subjects }));
  return 'updated';
}

/** KubeFedConfig spec.scope; Cluster (KubeFed's default) when there is no KubeFedConfig yet. */
export async function readScope(host: TypedClients, ns: string): Promise<Scope> {
  const cfg = (await readOrUndefined(() =>
    host.custom.getNamespacedCustomObject({
      group: CORE_GROUP,
      version: CORE_VERSION,
      namespace: ns,
      plural: KUBEFEDCONFIG_REF.plural,
      name: KUBEFEDCONFIG_NAME,
    }),
  )) as { spec?: { scope?: string } } | undefined;
  return cfg?.spec?.scope === 'Namespaced' ? 'Namespaced' : 'Cluster';
}

/** The target types of the FederatedTypeConfigs with propagation enabled in `ns`. */
export async function enabledTypes(host: TypedClients, ns: string): Promise<TypeAccess[]> {
  const list = (await readOrUndefined(() =>
    host.custom.listNamespacedCustomObject({
      group: CORE_GROUP,
      version: CORE_VERSION,
      namespace: ns,
      plural: FTC_REF.plural,
    }),
  )) as { items?: FederatedTypeConfig[] } | undefined;
  return (list?.items ?? [])
    .filter((f) => f.spec?.propagation !== 'Disabled')
    .map((f) => ({
      group: f.spec.targetType.group ?? '',
      plural: f.spec.targetType.pluralName,
      namespaced: f.spec.targetType.scope === 'Namespaced',
    }));
}

/** One member's result of extendMinimalRoles. */
export interface RoleExtension {
  cluster: string;
  ok: boolean;
  message: string;
}

/**
 * After `fedctl enable`: bring every member joined with --rbac=minimal up to the enabled types. The
 * host holds only the member's own minimal token, which cannot widen its own role (RBAC forbids
 * escalation), so this goes through the user's kubeconfig context for the member (the one join used,
 * else the cluster's name). A member that cannot be reached is reported, not fatal.
 */
export async function extendMinimalRoles(
  hostClients: ClusterClients,
  ns: string,
  connect: (context: string) => ClusterClients,
): Promise<RoleExtension[]> {
  const host = await typedClients(hostClients);
  const list = (await readOrUndefined(() =>
    host.custom.listNamespacedCustomObject({
      group: CORE_GROUP,
      version: CORE_VERSION,
      namespace: ns,
      plural: KUBEFEDCLUSTER_PLURAL,
    }),
  )) as { items?: KubeFedCluster[] } | undefined;
  const minimal = (list?.items ?? []).filter((k) => k.metadata?.annotations?.[RBAC_MODE_LABEL] === 'minimal');
  if (minimal.length === 0) return [];
  const types = await enabledTypes(host, ns);
  const scope = await readScope(host, ns);
  const rules = minimalPolicyRules(types, scope);
  const out: RoleExtension[] = [];
  for (const k of minimal) {
    const cluster = k.metadata?.name ?? '';
    const context = k.metadata?.annotations?.[JOIN_CONTEXT_ANNOTATION] || cluster;
    try {
      const member = await typedClients(connect(context));
      const kind = scope === 'Cluster' ? 'ClusterRole' : 'Role';
      const found = (await (scope === 'Cluster'
        ? member.rbac.listClusterRole({ labelSelector: `${RBAC_MODE_LABEL}=minimal` })
        : member.rbac.listNamespacedRole({
            namespace: ns,
            labelSelector: `${RBAC_MODE_LABEL}=minimal`,
          }))) as {
        items: V1ClusterRole[];
      };
      // Only the roles bound to this federation's account: another federation's minimal role is its own.
      const mine = found.items.filter((r) => roleServesNamespace(r.metadata?.name ?? '', ns, scope));
      if (mine.length === 0) {
        out.push({
          cluster,
          ok: false,
          message: `member ${cluster}: no minimal ${kind} of this federation found; re-run join with --rbac=minimal`,
        });
        continue;
      }
      for (const r of mine) {
        if (sameRules(r.rules, rules)) continue;
        await rbacApi(member, {
          kind,
          name: r.metadata?.name ?? '',
          namespace: scope === 'Cluster' ? undefined : ns,
        }).replace({
          ...r,
          rules,
        });
        out.push({
          cluster,
          ok: true,
          message: `member ${cluster}: ${kind} ${r.metadata?.name} now grants the enabled types`,
        });
      }
    } catch (e) {
      out.push({
        cluster,
        ok: false,
        message: `member ${cluster}: could not extend its role through kubeconfig context "${context}": ${errorMessage(e)}; run \`fedctl join ${cluster} --rbac=minimal --error-on-existing=false\` with its context`,
      });
    }
  }
  return out;
}

/** Whether a join role name (see joinNames) belongs to the federation in `ns`. */
export function roleServesNamespace(roleName: string, ns: string, scope: Scope): boolean {
  const prefix = 'kubefed-controller-manager:';
  if (!roleName.startsWith(prefix)) return false;
  const rest = roleName.slice(prefix.length);
  // Namespaced scope: the Role lives in ns already. Cluster scope: default namespace names carry no
  // namespace; others are <ns>:<sa>.
  if (scope === 'Namespaced') return true;
  return ns === DEFAULT_KUBEFED_NAMESPACE ? !rest.includes(':') : rest.startsWith(`${ns}:`);
}

/**
 * Since Kubernetes 1.24 no token Secret is made for a ServiceAccount automatically: create one of type
 * service-account-token and let kube-controller-manager's token controller fill it. A Secret left over
 * from an earlier ServiceAccount of the same name holds a dead token: replace it.
 */
async function ensureTokenSecret(
  member: TypedClients,
  ns: string,
  names: JoinNames,
  dryRun = false,
): Promise<Outcome> {
  const sa = await readOrUndefined(() =>
    member.core.readNamespacedServiceAccount({ name: names.serviceAccount, namespace: ns }),
  );
  if (!sa) {
    // Only in a dry run: the ServiceAccount join would have created a moment ago does not exist.
    if (dryRun) return 'created';
    throw new JoinError(`ServiceAccount ${ns}/${names.serviceAccount} vanished while joining`);
  }
  const body: V1Secret = {
    metadata: {
      name: names.tokenSecret,
      namespace: ns,
      annotations: { [SA_NAME_ANNOTATION]: names.serviceAccount },
    },
    type: SA_TOKEN_TYPE,
  };
  const cur = await readOrUndefined(() =>
    member.core.readNamespacedSecret({ name: names.tokenSecret, namespace: ns }),
  );
  if (!cur) {
    if (!dryRun) await member.core.createNamespacedSecret({ namespace: ns, body });
    return 'created';
  }
  const uid = cur.metadata?.annotations?.[SA_UID_ANNOTATION];
  const stale =
    cur.type !== SA_TOKEN_TYPE ||
    cur.metadata?.annotations?.[SA_NAME_ANNOTATION] !== names.serviceAccount ||
    (uid !== undefined && sa.metadata?.uid !== undefined && uid !== sa.metadata.uid);
  if (!stale) return 'unchanged';
  if (dryRun) return 'updated';
  // type is immutable, and the token controller only fills new Secrets: recreate.
  await member.core.deleteNamespacedSecret({ name: names.tokenSecret, namespace: ns });
  for (let i = 0; ; i++) {
    try {
      await member.core.createNamespacedSecret({ namespace: ns, body });
      return 'updated';
    } catch (e) {
      if (!isAlreadyExists(e) || i >= 20) throw e;
      await sleep(250);
    }
  }
}

/** The token, if the token controller has filled the Secret already (dry run: no waiting). */
async function readToken(
  member: TypedClients,
  clusterName: string,
  ns: string,
  name: string,
): Promise<{ token: string; ca?: string } | undefined> {
  const s = await step(`member cluster ${clusterName}`, `reading token Secret ${ns}/${name}`, () =>
    readOrUndefined(() => member.core.readNamespacedSecret({ name, namespace: ns })),
  );
  const token = s?.data?.[TOKEN_KEY];
  return token ? { token, ca: s?.data?.[CA_KEY] || undefined } : undefined;
}

async function waitForToken(
  member: TypedClients,
  clusterName: string,
  ns: string,
  name: string,
  timeoutMs: number,
  log: (m: string, level?: 'info' | 'debug') => void,
): Promise<{ token: string; ca?: string }> {
  const deadline = Date.now() + timeoutMs;
  let said = false;
  for (;;) {
    const s = await step(`member cluster ${clusterName}`, `reading token Secret ${ns}/${name}`, () =>
      readOrUndefined(() => member.core.readNamespacedSecret({ name, namespace: ns })),
    );
    const token = s?.data?.[TOKEN_KEY];
    if (token) return { token, ca: s?.data?.[CA_KEY] || undefined };
    if (Date.now() >= deadline) {
      throw new JoinError(
        `timed out after ${Math.round(timeoutMs / 1000)}s waiting for a token in Secret ${ns}/${name} of member cluster ${clusterName}: is kube-controller-manager running in ${clusterName}?`,
      );
    }
    if (!said) {
      log(`member ${clusterName}: waiting for the token controller to fill Secret ${ns}/${name}`, 'info');
      said = true;
    }
    await sleep(500);
  }
}
