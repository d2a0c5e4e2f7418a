import type { KubernetesObject } from '@kubernetes/client-node';
import type { ResourceRef } from '../../src/kube/refs.ts';
import { FTC_REF } from '../../src/kube/refs.ts';

// What KubeFed v0.10.0's Helm chart would create on the host, as data. Pure.

export const KUBEFED_NAMESPACE = 'kube-federation-system';

/** KubeFedConfig lives beside the FederatedTypeConfigs, in core.kubefed.io. */
export const KUBEFED_CONFIG_REF: ResourceRef = {
  ...FTC_REF,
  kind: 'KubeFedConfig',
  plural: 'kubefedconfigs',
};

/** FederatedTypeConfigs the bench enables (names as in the chart's federatedtypeconfig.yaml). */
export const ENABLED_TYPES: readonly string[] = ['namespaces', 'configmaps', 'deployments.apps'];

/**
 * The chart's KubeFedConfig with its defaults (charts/controllermanager/templates/kubefedconfig.yaml),
 * feature gates as its post-install hook patches them in (post-install-job.yaml).
 * Every field is set: without the chart's mutating webhook nothing fills them in, and the
 * controller-manager dereferences them unchecked.
 */
export function kubeFedConfig(workers: number): KubernetesObject {
  if (!Number.isInteger(workers) || workers < 1)
    throw new Error(`KubeFed sync workers must be a positive integer, got ${workers}`);
  return {
    apiVersion: 'core.kubefed.io/v1beta1',
    kind: 'KubeFedConfig',
    metadata: { name: 'kubefed', namespace: KUBEFED_NAMESPACE },
    spec: {
      scope: 'Cluster',
      controllerDuration: { availableDelay: '20s', unavailableDelay: '60s', cacheSyncTimeout: '5m' },
      leaderElect: {
        leaseDuration: '15s',
        renewDeadline: '10s',
        retryPeriod: '5s',
        resourceLock: 'configmaps',
      },
      clusterHealthCheck: { period: '10s', failureThreshold: 3, successThreshold: 1, timeout: '3s' },
      syncController: { maxConcurrentReconciles: workers, adoptResources: 'Enabled' },
      statusController: { maxConcurrentReconciles: 1 },
      featureGates: [
        { name: 'PushReconciler', configuration: 'Enabled' },
        { name: 'RawResourceStatusCollection', configuration: 'Disabled' },
        { name: 'SchedulerPreferences', configuration: 'Enabled' },
      ],
    },
  } as KubernetesObject;
}
