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
  KubeConfig,
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1PolicyRule,
  V1Secret,
} from '@kubernetes/client-node';
import { CORE_GROUP, CORE_VERSION, DEFAULT_KUBEFED_NAMESPACE } from '../api/constants.ts';
import { coreCustomResourceDefinitions } from '../api/crds.ts';
import type { KubeFedCluster, KubeFedClusterSpec } from '../api/types.ts';
import type { ClusterClients } from '../kube/clients.ts';
import { endpointOf } from '../kube/clients.ts';
import { errorMessage, isAlreadyExists, isNotFound } from '../kube/errors.ts';

/**
 * One line for an API or network error. Network failures reach us as "fetch failed" with the reason
 * (ECONNREFUSED, certificate errors) only in `cause`: fold the cause chain in.
 */

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
}

export interface JoinResult {
  clusterName: string;
  hostClusterName: string;
  namespace: string;
  serviceAccount: string;
  secretName: string;
  spec: KubeFedClusterSpec;
  objects: ObjectOutcome[];
}

/** Names join gives the objects it creates; unjoin and tests use the same function. */
export function joinNames(clusterName: string, hostClusterName: string) {
  const serviceAccount = `${clusterName}-${hostClusterName}`;
  return {
    serviceAccount,
    // kubefedctl names the token Secret like its ServiceAccount.
    tokenSecret: serviceAccount,
    clusterRole: `kubefed-controller-manager:${serviceAccount}`,
    hostSecret: clusterName,
    kubeFedCluster: clusterName,
  };
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Problems with the names join would use; empty when they are fine. */
export function validateJoinNames(clusterName: string, hostClusterName: string): string[] {
  const problems: string[] = [];
  const subdomain = (v: string) => v.length <= 253 && DNS1123_SUBDOMAIN.test(v);
  if (!subdomain(clusterName)) {
    problems.push(
      `cluster name "${clusterName}" is not a valid RFC 1123 subdomain (lower-case letters, digits, '-' and '.')`,
    );
  }
  if (hostClusterName.includes(':') || hostClusterName.includes('/')) {
    problems.push(`host cluster name "${hostClusterName}" may not contain ":" or "/"`);
  } else if (!subdomain(hostClusterName)) {
    problems.push(`host cluster name "${hostClusterName}" is not a valid RFC 1123 subdomain`);
  }
  if (problems.length === 0 && !subdomain(joinNames(clusterName, hostClusterName).serviceAccount)) {
    problems.push(
      `service account name "${clusterName}-${hostClusterName}" would be longer than 253 characters`,
    );
  }
  return problems;
}

/** Full access to the member, as kubefedctl grants for a cluster-scoped control plane. */
export const CLUSTER_POLICY_RULES: V1PolicyRule[] = [
  { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
  { nonResourceURLs: ['*'], verbs: ['get'] },
];

export function desiredClusterRole(names: ReturnType<typeof joinNames>): V1ClusterRole {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: names.clusterRole },
    rules: CLUSTER_POLICY_RULES,
  };
}

export function desiredClusterRoleBinding(
  names: ReturnType<typeof joinNames>,
  namespace: string,
): V1ClusterRoleBinding {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: names.clusterRole },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: names.clusterRole },
    subjects: [{ kind: 'ServiceAccount', name: names.serviceAccount, namespace }],
  };
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

/** Context for errors: "in cluster c1: creating ServiceAccount ns/name: <API message>". */
async function step<T>(where: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof JoinError) throw e;
    throw new JoinError(`${what} in ${where}: ${errorMessage(e)}`, { cause: e });
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
  c: ClusterClients,
  clusterLabel: string,
  name: string,
  timeoutMs: number,
  annotate: boolean,
): Promise<Outcome> {
  const where = `cluster ${clusterLabel}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ns = await step(where, `reading namespace ${name}`, () =>
      readOrUndefined(() => c.core.readNamespace({ name })),
    );
    if (ns && ns.status?.phase !== 'Terminating') return 'unchanged';
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
  host: ClusterClients,
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
      await host.objects.create(crd as unknown as Parameters<ClusterClients['objects']['create']>[0]);
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
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
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
  host: ClusterClients,
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
  const { host, member, clusterName, hostClusterName } = opts;
  const ns = opts.kubefedNamespace ?? DEFAULT_KUBEFED_NAMESPACE;
  const log = opts.log ?? (() => {});
  const tokenTimeoutMs = opts.tokenTimeoutMs ?? DEFAULT_TOKEN_TIMEOUT_MS;
  const problems = validateJoinNames(clusterName, hostClusterName);
  if (problems.length > 0) throw new JoinError(problems.join('; '));

  const names = joinNames(clusterName, hostClusterName);
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
    log(`${side} ${o.cluster}: ${kind} ${namespace ? `${namespace}/` : ''}${name} ${outcome}`, 'debug');
  };

  // Preflight on the host first, so a refused join leaves the member untouched.
  if (opts.installCrds !== false) {
    for (const name of await ensureCoreCrds(host, hostClusterName))
      record('host', 'CustomResourceDefinition', name, 'created');
  }
  const existing = await step(inHost, `reading KubeFedCluster ${ns}/${clusterName}`, () =>
    readKubeFedCluster(host, ns, clusterName),
  );
  if (existing && opts.errorOnExisting) {
    throw new JoinError(
      `KubeFedCluster ${ns}/${clusterName} already exists in ${inHost} (--error-on-existing); unjoin it first or omit the flag to update it`,
    );
  }

  // Member side.
  record('member', 'Namespace', ns, await ensureNamespace(member, clusterName, ns, tokenTimeoutMs, true));

  const saOutcome = await step(
    inMember,
    `ensuring ServiceAccount ${ns}/${names.serviceAccount}`,
    async () => {
      const sa = await readOrUndefined(() =>
        member.core.readNamespacedServiceAccount({ name: names.serviceAccount, namespace: ns }),
      );
      if (!sa) {
        await member.core.createNamespacedServiceAccount({
          namespace: ns,
          // The control plane uses the token from outside; no pod should mount it.
          body: {
            metadata: { name: names.serviceAccount, namespace: ns },
            automountServiceAccountToken: false,
          },
        });
        return 'created' as const;
      }
      if (sa.automountServiceAccountToken === false) return 'unchanged' as const;
      await member.core.replaceNamespacedServiceAccount({
        name: names.serviceAccount,
        namespace: ns,
        body: { ...sa, automountServiceAccountToken: false },
      });
      return 'updated' as const;
    },
  );
  record('member', 'ServiceAccount', names.serviceAccount, saOutcome, ns);

  const tokenOutcome = await step(inMember, `ensuring token Secret ${ns}/${names.tokenSecret}`, () =>
    ensureTokenSecret(member, ns, names),
  );
  record('member', 'Secret', names.tokenSecret, tokenOutcome, ns);

  const role = desiredClusterRole(names);
  const roleOutcome = await step(inMember, `ensuring ClusterRole ${names.clusterRole}`, async () => {
    const cur = await readOrUndefined(() => member.rbac.readClusterRole({ name: names.clusterRole }));
    if (!cur) {
      await member.rbac.createClusterRole({ body: role });
      return 'created' as const;
    }
    if (sameRules(cur.rules, role.rules)) return 'unchanged' as const;
    await member.rbac.replaceClusterRole({ name: names.clusterRole, body: { ...cur, rules: role.rules } });
    return 'updated' as const;
  });
  record('member', 'ClusterRole', names.clusterRole, roleOutcome);

  const binding = desiredClusterRoleBinding(names, ns);
  const bindingOutcome = await step(
    inMember,
    `ensuring ClusterRoleBinding ${names.clusterRole}`,
    async () => {
      const cur = await readOrUndefined(() =>
        member.rbac.readClusterRoleBinding({ name: names.clusterRole }),
      );
      if (!cur) {
        await member.rbac.createClusterRoleBinding({ body: binding });
        return 'created' as const;
      }
      const sameRef = JSON.stringify(cur.roleRef) === JSON.stringify(binding.roleRef);
      const sameSubjects =
        JSON.stringify((cur.subjects ?? []).map((s) => [s.kind, s.name, s.namespace ?? ''])) ===
        JSON.stringify((binding.subjects ?? []).map((s) => [s.kind, s.name, s.namespace ?? '']));
      if (sameRef && sameSubjects) return 'unchanged' as const;
      if (!sameRef) {
        // roleRef is immutable: replace the binding.
        await member.rbac.deleteClusterRoleBinding({ name: names.clusterRole });
        await member.rbac.createClusterRoleBinding({ body: binding });
      } else {
        await member.rbac.replaceClusterRoleBinding({
          name: names.clusterRole,
          body: { ...cur, subjects: binding.subjects },
        });
      }
      return 'updated' as const;
    },
  );
  record('member', 'ClusterRoleBinding', names.clusterRole, bindingOutcome);

  const token = await waitForToken(member, clusterName, ns, names.tokenSecret, tokenTimeoutMs, log);

  // Host side.
  record('host', 'Namespace', ns, await ensureNamespace(host, hostClusterName, ns, tokenTimeoutMs, false));

  // Keep the Secret an existing KubeFedCluster points at (e.g. one kubefedctl generated), else use the
  // deterministic name.
  const secretName = existing?.spec?.secretRef?.name || names.hostSecret;
  const secretData: Record<string, string> = { [TOKEN_KEY]: token.token };
  if (token.ca) secretData[CA_KEY] = token.ca;
  const secretOutcome = await step(inHost, `ensuring Secret ${ns}/${secretName}`, async () => {
    const cur = await readOrUndefined(() =>
      host.core.readNamespacedSecret({ name: secretName, namespace: ns }),
    );
    if (!cur) {
      await host.core.createNamespacedSecret({
        namespace: ns,
        body: { metadata: { name: secretName, namespace: ns }, type: 'Opaque', data: secretData },
      });
      return 'created' as const;
    }
    if (sameData(cur.data, secretData)) return 'unchanged' as const;
    await host.core.replaceNamespacedSecret({
      name: secretName,
      namespace: ns,
      body: { ...cur, data: secretData },
    });
    return 'updated' as const;
  });
  record('host', 'Secret', secretName, secretOutcome, ns);

  const spec = kubeFedClusterSpec({
    access,
    apiEndpoint: opts.apiEndpoint,
    tokenSecretCa: token.ca,
    secretName,
  });
  const kfcOutcome = await step(inHost, `ensuring KubeFedCluster ${ns}/${clusterName}`, async () => {
    const target = { group: CORE_GROUP, version: CORE_VERSION, namespace: ns, plural: KUBEFEDCLUSTER_PLURAL };
    const cur = await readKubeFedCluster(host, ns, clusterName);
    if (!cur) {
      await host.custom.createNamespacedCustomObject({
        ...target,
        body: {
          apiVersion: `${CORE_GROUP}/${CORE_VERSION}`,
          kind: KUBEFEDCLUSTER_KIND,
          metadata: { name: clusterName, namespace: ns },
          spec,
        },
      });
      return 'created' as const;
    }
    if (sameSpec(cur.spec, spec)) return 'unchanged' as const;
    // Replace the whole spec (as kubefedctl does); status is a subresource and stays.
    await host.custom.replaceNamespacedCustomObject({ ...target, name: clusterName, body: { ...cur, spec } });
    return 'updated' as const;
  });
  record('host', KUBEFEDCLUSTER_KIND, clusterName, kfcOutcome, ns);

  return {
    clusterName,
    hostClusterName,
    namespace: ns,
    serviceAccount: names.serviceAccount,
    secretName,
    spec,
    objects,
  };
}

/**
 * Since Kubernetes 1.24 no token Secret is made for a ServiceAccount automatically: create one of type
 * service-account-token and let kube-controller-manager's token controller fill it. A Secret left over
 * from an earlier ServiceAccount of the same name holds a dead token: replace it.
 */
async function ensureTokenSecret(
  member: ClusterClients,
  ns: string,
  names: ReturnType<typeof joinNames>,
): Promise<Outcome> {
  const sa = await member.core.readNamespacedServiceAccount({ name: names.serviceAccount, namespace: ns });
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
    await member.core.createNamespacedSecret({ namespace: ns, body });
    return 'created';
  }
  const uid = cur.metadata?.annotations?.[SA_UID_ANNOTATION];
  const stale =
    cur.type !== SA_TOKEN_TYPE ||
    cur.metadata?.annotations?.[SA_NAME_ANNOTATION] !== names.serviceAccount ||
    (uid !== undefined && sa.metadata?.uid !== undefined && uid !== sa.metadata.uid);
  if (!stale) return 'unchanged';
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

async function waitForToken(
  member: ClusterClients,
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
