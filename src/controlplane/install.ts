import type { KubernetesObject } from '@kubernetes/client-node';
import { DEFAULT_KUBEFED_NAMESPACE } from '../api/constants.ts';
import { coreCustomResourceDefinitions, federatedCrdsForDefaults } from '../api/crds.ts';
import { dnsCustomResourceDefinitions } from '../api/dns.ts';
import { KUBEFED_CONFIG_DEFAULTS } from '../api/schema.ts';
import { defaultTypeConfigs } from '../api/type-configs.ts';
import { type EnsureOutcome, ensureObject } from '../kube/apply.ts';
import type { ClusterClients } from '../kube/clients.ts';
import type { Logger } from '../kube/logger.ts';
import { getResource, type ResourceRef } from '../kube/resources.ts';
import { FTC_REF } from './type-manager.ts';

export const CRD_REF: ResourceRef = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  plural: 'customresourcedefinitions',
  kind: 'CustomResourceDefinition',
  namespaced: false,
};
const NAMESPACE_REF: ResourceRef = {
  group: '',
  version: 'v1',
  plural: 'namespaces',
  kind: 'Namespace',
  namespaced: false,
};

/** Every CRD fedctl ships: core, scheduling, DNS, and the federated CRDs of the default types. */
export function allCrds(): KubernetesObject[] {
  return [
    ...coreCustomResourceDefinitions(),
    ...dnsCustomResourceDefinitions(),
    ...federatedCrdsForDefaults(),
  ] as KubernetesObject[];
}

/**
 * Install or upgrade fedctl's CRDs and the default FederatedTypeConfigs in the host, so the quick
 * start needs no separate step. Existing FederatedTypeConfigs are left as the user set them
 * (someone may have disabled propagation for a type).
 */
export async function installControlPlane(
  host: ClusterClients,
  namespace: string = DEFAULT_KUBEFED_NAMESPACE,
  log?: Logger,
) {
  const outcomes: Record<string, EnsureOutcome> = {};
  await ensureObject(host.kc, NAMESPACE_REF, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespace },
  });
  const crds = allCrds();
  await Promise.all(
    crds.map(async (crd) => {
      outcomes[`crd/${crd.metadata?.name}`] = await ensureObject(host.kc, CRD_REF, crd);
    }),
  );
  await Promise.all(crds.map((crd) => waitEstablished(host, crd.metadata?.name ?? '')));
  for (const ftc of defaultTypeConfigs(namespace) as KubernetesObject[]) {
    const name = ftc.metadata?.name ?? '';
    try {
      await getResource(host.kc, FTC_REF, name, namespace);
      outcomes[`federatedtypeconfig/${name}`] = 'unchanged';
    } catch {
      outcomes[`federatedtypeconfig/${name}`] = await ensureObject(host.kc, FTC_REF, ftc);
    }
  }
  const configRef = { ...FTC_REF, plural: 'kubefedconfigs', kind: 'KubeFedConfig' };
  try {
    await getResource(host.kc, configRef, KUBEFEDCONFIG_NAME, namespace);
    outcomes[`kubefedconfig/${KUBEFEDCONFIG_NAME}`] = 'unchanged';
  } catch {
    outcomes[`kubefedconfig/${KUBEFEDCONFIG_NAME}`] = await ensureObject(
      host.kc,
      configRef,
      defaultKubeFedConfig(namespace),
    );
  }
  const changed = Object.entries(outcomes).filter(([, o]) => o !== 'unchanged');
  log?.info('control plane installed', {
    objects: Object.keys(outcomes).length,
    changed: changed.map(([k, o]) => `${o} ${k}`),
  });
  return outcomes;
}

export const KUBEFEDCONFIG_NAME = 'kubefed';

/**
 * KubeFed's defaults, written once so users can see and edit them (an existing config is never
 * overwritten). The CRD's schema defaults are the same values (src/api/schema.ts).
 */
export function defaultKubeFedConfig(namespace: string): KubernetesObject {
  return {
    apiVersion: `${FTC_REF.group}/${FTC_REF.version}`,
    kind: 'KubeFedConfig',
    metadata: { name: KUBEFEDCONFIG_NAME, namespace },
    spec: { scope: 'Cluster', ...structuredClone(KUBEFED_CONFIG_DEFAULTS) },
  } as KubernetesObject;
}

export async function waitEstablished(host: ClusterClients, name: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const crd = (await getResource(host.kc, CRD_REF, name)) as {
      status?: { conditions?: Array<{ type: string; status: string }> };
    };
    if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
