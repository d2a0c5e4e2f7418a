import type { KubernetesObject } from '@kubernetes/client-node';
import { DEFAULT_KUBEFED_NAMESPACE } from '../api/constants.ts';
import { coreCustomResourceDefinitions, federatedCrdsForDefaults } from '../api/crds.ts';
import { dnsCustomResourceDefinitions } from '../api/dns.ts';
import { KUBEFED_CONFIG_DEFAULTS } from '../api/schema.ts';
import { defaultTypeConfigs } from '../api/type-configs.ts';
import {
  createIfAbsent,
  type EnsureOutcome,
  ensureObject,
  retryTransient,
  waitEstablished,
} from '../kube/apply.ts';
import type { ClusterClients } from '../kube/clients.ts';
import type { Logger } from '../kube/logger.ts';
import { CONFIGMAP_REF, CRD_REF, FTC_REF, KUBEFEDCONFIG_REF, NAMESPACE_REF } from '../kube/refs.ts';
import { tryGetResource } from '../kube/resources.ts';

/**
 * The record of which default FederatedTypeConfigs fedctl has installed: a ConfigMap in the
 * control-plane namespace, data key DEFAULTS_KEY, one FTC name per line.
 *
 * Why a ConfigMap of its own and not the KubeFedConfig: the KubeFedConfig belongs to the user. It
 * may exist before the controller ever ran (applied from Git, as our e2e harness and KubeFed's Helm
 * chart do), so its existence does not say the defaults were installed; and an annotation on it is
 * lost whenever a tool replaces the whole object (`kubectl replace`, a PUT from a GitOps tool).
 * Nobody but fedctl writes this ConfigMap. Deleting it (or the namespace) means "install the
 * defaults again", which is also what a fresh host needs.
 */
export const INSTALL_RECORD_NAME = 'fedctl-install';
export const DEFAULTS_KEY = 'default-type-configs';

export interface DefaultTypeConfigPlan {
  /** Default FTCs to create if absent: those never installed before. */
  create: string[];
  /** What the record says once they are. */
  record: string[];
}

/**
 * Pure: the default FederatedTypeConfigs are installed once. A name in the record was installed
 * before; if its FTC is gone now, the user disabled the type (`fedctl disable` deletes the FTC) and
 * it stays gone. A default not in the record (a first start, or a default added by a newer fedctl)
 * is created. Without any record (a host set up by a fedctl older than the record) every default is
 * treated as new, once: the behaviour of those versions at every start.
 */
export function planDefaultTypeConfigs(
  defaults: readonly string[],
  recorded: readonly string[] | undefined,
): DefaultTypeConfigPlan {
  const done = new Set(recorded ?? []);
  return {
    create: defaults.filter((d) => !done.has(d)),
    record: [...new Set([...done, ...defaults])].sort(),
  };
}

/** The names a record ConfigMap's data holds (blank lines and spaces ignored). */
export function parseInstallRecord(cm: { data?: Record<string, string> } | undefined): string[] | undefined {
  const text = cm?.data?.[DEFAULTS_KEY];
  if (text === undefined) return undefined;
  return text
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Every CRD fedctl ships: core, scheduling, DNS, and the federated CRDs of the default types. */
export function allCrds(): KubernetesObject[] {
  return [
    ...coreCustomResourceDefinitions(),
    ...dnsCustomResourceDefinitions(),
    ...federatedCrdsForDefaults(),
  ] as KubernetesObject[];
}

export interface InstallOptions {
  log?: Logger;
  /** Stops the retries (the controller lost its lease while installing, or is shutting down). */
  signal?: AbortSignal;
}

/**
 * Install or upgrade fedctl's CRDs and, once, the default FederatedTypeConfigs and the KubeFedConfig,
 * so the quick start needs no separate step. Existing FederatedTypeConfigs and KubeFedConfig are left
 * as the user set them, and a default type the user disabled stays disabled (see
 * planDefaultTypeConfigs).
 *
 * Safe to run while other installers run (`fedctl join` creates the core CRDs, a second controller
 * may be starting): every write survives losing a race (ensureObject, createIfAbsent), and each step
 * is retried with backoff while the host is unreachable or answers 5xx; only a permanent error
 * (forbidden, invalid) is thrown.
 */
export async function installControlPlane(
  host: ClusterClients,
  namespace: string = DEFAULT_KUBEFED_NAMESPACE,
  o: InstallOptions = {},
) {
  const { log, signal } = o;
  const retry = <T>(what: string, fn: () => Promise<T>) =>
    retryTransient(`install: ${what} in host ${host.name}`, fn, { log, signal });
  const outcomes: Record<string, EnsureOutcome> = {};
  outcomes[`namespace/${namespace}`] = await retry(`namespace ${namespace}`, () =>
    ensureObject(host.kc, NAMESPACE_REF, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace },
    }),
  );
  const crds = allCrds();
  await Promise.all(
    crds.map(async (crd) => {
      const name = crd.metadata?.name ?? '';
      outcomes[`crd/${name}`] = await retry(`CRD ${name}`, async () => {
        const outcome = await ensureObject(host.kc, CRD_REF, crd);
        await waitEstablished(host.kc, name);
        return outcome;
      });
    }),
  );

  const record = await retry('reading the install record', () =>
    tryGetResource(host.kc, CONFIGMAP_REF, INSTALL_RECORD_NAME, namespace),
  );
  const ftcs = defaultTypeConfigs(namespace) as KubernetesObject[];
  const plan = planDefaultTypeConfigs(
    ftcs.map((f) => f.metadata?.name ?? ''),
    parseInstallRecord(record as { data?: Record<string, string> } | undefined),
  );
  for (const ftc of ftcs) {
    const name = ftc.metadata?.name ?? '';
    outcomes[`federatedtypeconfig/${name}`] = plan.create.includes(name)
      ? await retry(`FederatedTypeConfig ${name}`, () => createIfAbsent(host.kc, FTC_REF, ftc))
      : 'unchanged';
  }
  // Written after the FTCs: a crash in between installs them again next time, never loses one.
  outcomes[`configmap/${INSTALL_RECORD_NAME}`] = await retry('the install record', () =>
    ensureObject(host.kc, CONFIGMAP_REF, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: INSTALL_RECORD_NAME, namespace },
      data: { [DEFAULTS_KEY]: `${plan.record.join('\n')}\n` },
    } as KubernetesObject),
  );
  outcomes[`kubefedconfig/${KUBEFEDCONFIG_NAME}`] = await retry(`KubeFedConfig ${KUBEFEDCONFIG_NAME}`, () =>
    createIfAbsent(host.kc, KUBEFEDCONFIG_REF, defaultKubeFedConfig(namespace)),
  );
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
