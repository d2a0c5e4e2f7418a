import type { KubernetesObject } from '@kubernetes/client-node';
import { TYPES_GROUP } from '../api/constants.ts';
import { federatedCrd } from '../api/crds.ts';
import type { JSONSchemaProps } from '../api/schema.ts';
import { federatedTypeFor, type TargetType, toTargetType, typeConfigFor } from '../api/type-configs.ts';
import type { FederatedTypeConfig } from '../api/types.ts';
import { type EnsureOutcome, ensureObject, waitEstablished } from '../kube/apply.ts';
import type { ClusterClients } from '../kube/clients.ts';
import { discoverResource } from '../kube/discovery.ts';
import { isNotFound } from '../kube/errors.ts';
import { CRD_REF, FTC_REF, type ResourceRef } from '../kube/refs.ts';
import { deleteResource, getResource, listResource, tryGetResource } from '../kube/resources.ts';
import { refsOf } from '../propagation/controller.ts';
import { needsUpdate } from '../propagation/equality.ts';

/** A type name as users type it: `deployments.apps`, `deployments`, `Deployment`, `deployment.apps`. */
export function parseTypeName(input: string): { name: string; group?: string } {
  const dot = input.indexOf('.');
  return dot < 0 ? { name: input } : { name: input.slice(0, dot), group: input.slice(dot + 1) };
}

/**
 * The FederatedTypeConfig a user means by TYPE: matched against its name, the target's kind or plural
 * (optionally group-qualified), or the federated kind/plural (`FederatedDeployment`).
 */
export async function findTypeConfig(
  host: ClusterClients,
  namespace: string,
  input: string,
): Promise<FederatedTypeConfig & KubernetesObject> {
  const { items } = await listResource(host.kc, FTC_REF, { namespace });
  const ftcs = items as unknown as Array<FederatedTypeConfig & KubernetesObject>;
  const { name, group } = parseTypeName(input);
  const lower = name.toLowerCase();
  const matches = ftcs.filter((f) => {
    const t = f.spec.targetType;
    const fed = f.spec.federatedType;
    if (f.metadata?.name === input) return true;
    const groupOk = group === undefined || (t.group ?? '') === group || fed.group === group;
    const names = [t.kind, t.pluralName, fed.kind, fed.pluralName].map((s) => s?.toLowerCase());
    return groupOk && (names.includes(lower) || names.includes(`${lower}s`));
  });
  if (matches.length === 1) return matches[0]!;
  const known = ftcs
    .map((f) => f.metadata?.name)
    .sort()
    .join(', ');
  if (matches.length === 0)
    throw new NoTypeConfigError(
      `no enabled type matches "${input}" (enabled: ${known || 'none'}); run \`fedctl enable ${input}\``,
    );
  throw new Error(
    `"${input}" is ambiguous: ${matches.map((m) => m.metadata?.name).join(', ')}; qualify it with its group`,
  );
}

/** No FederatedTypeConfig matches what the user typed. */
export class NoTypeConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoTypeConfigError';
  }
}

export interface EnableOptions {
  /** kubefedctl --federated-group: API group of the Federated<Kind> (default types.kubefed.io). */
  federatedGroup?: string;
  /** kubefedctl --federated-version: its version (default v1beta1). */
  federatedVersion?: string;
  /** kubefedctl --version: a version of the target type other than the preferred one. */
  targetVersion?: string;
  /** Report created/updated/unchanged as they would be; write nothing. */
  dryRun?: boolean;
  /** Only build the objects (kubefedctl enable -o yaml); nothing is read but discovery, nothing written. */
  printOnly?: boolean;
}

export interface EnableResult {
  typeConfig: string;
  federatedCrd: string;
  outcomes: Record<string, EnsureOutcome>;
  /** The FederatedTypeConfig and CRD as enable writes (or would write) them. */
  objects: KubernetesObject[];
}

/**
 * The FederatedTypeConfig and federated CRD for a discovered type, with kubefedctl's
 * --federated-group / --federated-version applied (the CRD's name follows its group).
 */
export function enableObjects(
  target: TargetType,
  templateSchema: JSONSchemaProps | undefined,
  namespace: string,
  opts: Pick<EnableOptions, 'federatedGroup' | 'federatedVersion'> = {},
): { ftc: FederatedTypeConfig & KubernetesObject; crd: KubernetesObject } {
  const crd = federatedCrd(target, templateSchema);
  const ftc = typeConfigFor(target, { namespace }) as FederatedTypeConfig & KubernetesObject;
  const group = opts.federatedGroup || crd.spec.group;
  const version = opts.federatedVersion || crd.spec.versions[0]?.name || '';
  crd.spec.group = group;
  crd.metadata.name = `${crd.spec.names.plural}.${group}`;
  for (const v of crd.spec.versions) v.name = version;
  ftc.spec.federatedType = { ...ftc.spec.federatedType, group, version };
  return { ftc, crd: crd as unknown as KubernetesObject };
}

/**
 * `fedctl enable`: the federated CRD and FederatedTypeConfig for any API type the host serves,
 * custom resources included (their CRD's schema validates the template).
 */
export async function enableType(
  host: ClusterClients,
  namespace: string,
  input: string,
  opts: EnableOptions = {},
): Promise<EnableResult> {
  const ref = await discoverTarget(host, input, opts.targetVersion);
  const target: TargetType = {
    group: ref.group,
    version: ref.version,
    kind: ref.kind,
    plural: ref.plural,
    scope: ref.namespaced ? 'Namespaced' : 'Cluster',
    scalable: await hasReplicas(host, ref),
  };
  const templateSchema = await customResourceSchema(host, ref);
  const { ftc, crd } = enableObjects(target, templateSchema, namespace, opts);
  const result: EnableResult = {
    typeConfig: ftc.metadata?.name ?? '',
    federatedCrd: crd.metadata?.name ?? '',
    outcomes: {},
    objects: [ftc, crd],
  };
  if (opts.printOnly) return result;
  const outcomes = result.outcomes;
  const crdKey = `customresourcedefinition/${crd.metadata?.name}`;
  const ftcKey = `federatedtypeconfig/${ftc.metadata?.name}`;
  if (opts.dryRun) {
    outcomes[crdKey] = await plannedOutcome(host, CRD_REF, crd);
    outcomes[ftcKey] = await plannedOutcome(host, FTC_REF, ftc);
    return result;
  }
  outcomes[crdKey] = await ensureObject(host.kc, CRD_REF, crd);
  await waitEstablished(host.kc, crd.metadata?.name ?? '');
  outcomes[ftcKey] = await ensureObject(host.kc, FTC_REF, ftc);
  return result;
}

/** The API type a user means by TYPE (`deployments.apps`, `Deployment`), at `version` if given. */
function discoverTarget(host: ClusterClients, input: string, version?: string): Promise<ResourceRef> {
  const { name, group } = parseTypeName(input);
  return discoverResource(host.kc, { group, kind: name, plural: name, version });
}

/** What ensureObject would report, without writing (for --dry-run). */
async function plannedOutcome(host: ClusterClients, ref: ResourceRef, desired: KubernetesObject) {
  const live = await tryGetResource(host.kc, ref, desired.metadata?.name ?? '', desired.metadata?.namespace);
  if (!live) return 'created' as const;
  return needsUpdate(desired, live) ? ('updated' as const) : ('unchanged' as const);
}

export interface DisableOptions {
  /** Also delete the Federated<Kind> CRD (refused while objects of it exist). */
  deleteCrd?: boolean;
  /** Check and say what would happen; write nothing. */
  dryRun?: boolean;
  /**
   * kubefedctl's --federated-group / --version: where the federated CRD lives when no
   * FederatedTypeConfig names it any more (only with deleteCrd).
   */
  federatedGroup?: string;
  targetVersion?: string;
}

/** Objects standing in the way of deleting a federated CRD, counted per namespace. */
export interface Blockers {
  total: number;
  /** namespace ('' for cluster-scoped objects) → count, sorted by namespace. */
  byNamespace: Array<[string, number]>;
}

export function countByNamespace(items: readonly KubernetesObject[]): Blockers {
  const counts = new Map<string, number>();
  for (const o of items) {
    const ns = o.metadata?.namespace ?? '';
    counts.set(ns, (counts.get(ns) ?? 0) + 1);
  }
  return { total: items.length, byNamespace: [...counts].sort(([a], [b]) => a.localeCompare(b)) };
}

/**
 * Why `disable --delete-crd` refuses, or undefined when nothing is in the way. Deleting the CRD would
 * delete every object of it, and the controller would then delete their copies in every member: a
 * script written for kubefedctl (which refused too) must not wipe workloads here.
 */
export function deleteCrdRefusal(crdName: string, kind: string, blockers: Blockers): string | undefined {
  if (blockers.total === 0) return undefined;
  const where = blockers.byNamespace
    .map(([ns, n]) => (ns ? `${n} in namespace ${ns}` : `${n} cluster-scoped`))
    .join(', ');
  return `cannot delete CRD ${crdName} while ${blockers.total} ${kind} object(s) exist (${where}); delete them first (without orphaning, their member copies go too) and run disable again, or disable without --delete-crd. Nothing was changed`;
}

/**
 * `fedctl disable`: remove the FederatedTypeConfig (propagation stops, member objects stay), and with
 * deleteCrd its federated CRD, but only when no federated object of the type exists. As kubefedctl,
 * a type whose FederatedTypeConfig is gone can still have its CRD removed with --delete-crd.
 */
export async function disableType(
  host: ClusterClients,
  namespace: string,
  input: string,
  opts: DisableOptions = {},
): Promise<string[]> {
  const ftc = await findTypeConfig(host, namespace, input).catch(async (e: unknown) => {
    if (!opts.deleteCrd || !(e instanceof NoTypeConfigError)) throw e;
    return undefined;
  });
  const done: string[] = [];
  const would = opts.dryRun ? 'would be ' : '';
  let federated: ResourceRef;
  if (ftc) {
    federated = refsOf(ftc).federated;
  } else {
    // No FederatedTypeConfig: derive the federated CRD from the target type, as enable names it.
    const target = await discoverTarget(host, input, opts.targetVersion);
    const fed = federatedTypeFor(
      toTargetType({ ...target, scope: target.namespaced ? 'Namespaced' : 'Cluster' }),
    );
    federated = {
      group: opts.federatedGroup ?? fed.group ?? TYPES_GROUP,
      version: fed.version,
      plural: fed.pluralName,
      kind: fed.kind,
      namespaced: target.namespaced,
    };
    done.push(`federatedtypeconfig for ${input} does not exist`);
  }
  const crdName = `${federated.plural}.${federated.group}`;
  if (opts.deleteCrd) {
    const items = await listResource(host.kc, federated).then(
      (l) => l.items,
      (e: unknown) => (isNotFound(e) ? [] : Promise.reject(e)),
    );
    const refusal = deleteCrdRefusal(crdName, federated.kind, countByNamespace(items));
    if (refusal) throw new DisableRefused(refusal);
  }
  if (ftc) {
    if (!opts.dryRun) await deleteResource(host.kc, FTC_REF, ftc.metadata?.name ?? '', namespace);
    done.push(`federatedtypeconfig/${ftc.metadata?.name} ${would}deleted`);
  }
  if (opts.deleteCrd) {
    const exists = await tryGetResource(host.kc, CRD_REF, crdName);
    if (!exists) done.push(`customresourcedefinition/${crdName} does not exist`);
    else {
      if (!opts.dryRun)
        await deleteResource(host.kc, CRD_REF, crdName).catch((e) =>
          isNotFound(e) ? undefined : Promise.reject(e),
        );
      done.push(`customresourcedefinition/${crdName} ${would}deleted`);
    }
  }
  return done;
}

/** disable --delete-crd refused: objects of the type exist (the message says how many and where). */
export class DisableRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DisableRefused';
  }
}

// Scalable built-ins get `retainReplicas` in their federated schema.
async function hasReplicas(host: ClusterClients, ref: ResourceRef): Promise<boolean> {
  return ['Deployment', 'ReplicaSet', 'StatefulSet'].includes(ref.kind) && ['apps', ''].includes(ref.group)
    ? true
    : Boolean((await customResourceSchema(host, ref))?.properties?.spec?.properties?.replicas);
}

async function customResourceSchema(host: ClusterClients, ref: ResourceRef) {
  if (!ref.group?.includes('.')) return undefined;
  try {
    const crd = (await getResource(host.kc, CRD_REF, `${ref.plural}.${ref.group}`)) as {
      spec?: { versions?: Array<{ name: string; schema?: { openAPIV3Schema?: unknown } }> };
    };
    const version = crd.spec?.versions?.find((v) => v.name === ref.version);
    return templateSchemaFrom(version?.schema?.openAPIV3Schema as JSONSchemaProps | undefined);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** A target CRD's schema as a template schema: without apiVersion, kind, metadata (set by fedctl) and status. */
export function templateSchemaFrom(schema: JSONSchemaProps | undefined): JSONSchemaProps | undefined {
  if (!schema?.properties) return undefined;
  const properties = { ...schema.properties };
  for (const k of ['apiVersion', 'kind', 'metadata', 'status']) delete properties[k];
  return { ...schema, properties, required: schema.required?.filter((r) => r in properties) };
}
