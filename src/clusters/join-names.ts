// The names `fedctl join` gives what it creates, and the checks on them: pure, and light enough for
// the CLI to validate its flags before it loads join itself.
import { DEFAULT_KUBEFED_NAMESPACE } from '../api/constants.ts';

/**
 * Names join gives the objects it creates; unjoin and tests use the same function. In KubeFed's
 * default namespace they are kubefedctl's exactly. The ServiceAccount lives in the control-plane
 * namespace, so it is already distinct per federation; the cluster-wide ClusterRole(Binding) is not,
 * so for any other namespace its name carries the namespace (as kubefedctl's health-check role does),
 * and a second federation joining the same member never rebinds the first one's.
 */
export function joinNames(
  clusterName: string,
  hostClusterName: string,
  namespace: string = DEFAULT_KUBEFED_NAMESPACE,
) {
  const serviceAccount = `${clusterName}-${hostClusterName}`;
  return {
    serviceAccount,
    // kubefedctl names the token Secret like its ServiceAccount.
    tokenSecret: serviceAccount,
    clusterRole:
      namespace === DEFAULT_KUBEFED_NAMESPACE
        ? `kubefed-controller-manager:${serviceAccount}`
        : `kubefed-controller-manager:${namespace}:${serviceAccount}`,
    /** Namespaced scope: the Role and RoleBinding in the control-plane namespace (kubefedctl's name). */
    role: `kubefed-controller-manager:${serviceAccount}`,
    /** Namespaced scope: the ClusterRole(Binding) for /healthz (kubefedctl's name). */
    healthCheckRole: `kubefed-controller-manager:${namespace}:healthcheck-${serviceAccount}`,
    hostSecret: clusterName,
    kubeFedCluster: clusterName,
  };
}

export type JoinNames = ReturnType<typeof joinNames>;

export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

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

/** `fedctl join --rbac`: full is kubefedctl's; minimal grants only the enabled federated types. */
export const RBAC_MODES = ['full', 'minimal'] as const;
export type RbacMode = (typeof RBAC_MODES)[number];
export type Scope = 'Cluster' | 'Namespaced';
