import type { KubernetesObject } from '@kubernetes/client-node';
import { federatedCrd } from '../api/crds.ts';
import type { JSONSchemaProps } from '../api/schema.ts';
import { type TargetType, typeConfigFor } from '../api/type-configs.ts';
import type { FederatedTypeConfig } from '../api/types.ts';
import { CRD_REF, type EnsureOutcome, ensureObject, waitEstablished } from '../kube/apply.ts';
import type { ClusterClients } from '../kube/clients.ts';
import { isNotFound } from '../kube/errors.ts';
import {
  deleteResource,
  discoverResource,
  getResource,
  listResource,
  type ResourceRef,
} from '../kube/resources.ts';
import { refsOf } from '../propagation/controller.ts';
import { FTC_REF } from './type-manager.ts';

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
    throw new Error(
      `no enabled type matches "${input}" (enabled: ${known || 'none'}); run \`fedctl enable ${input}\``,
    );
  throw new Error(
    `"${input}" is ambiguous: ${matches.map((m) => m.metadata?.name).join(', ')}; qualify it with its group`,
  );
}

export interface EnableResult {
  typeConfig: string;
  federatedCrd: string;
  outcomes: Record<string, EnsureOutcome>;
}

/**
 * `fedctl enable`: the federated CRD and FederatedTypeConfig for any API type the host serves,
 * custom resources included (their CRD's schema validates the template).
 */
export async function enableType(
  host: ClusterClients,
  namespace: string,
  input: string,
): Promise<EnableResult> {
  const { name, group } = parseTypeName(input);
  const ref = await discoverResource(host.kc, { group, kind: name, plural: name });
  const target: TargetType = {
    group: ref.group,
    version: ref.version,
    kind: ref.kind,
    plural: ref.plural,
    scope: ref.namespaced ? 'Namespaced' : 'Cluster',
    scalable: await hasReplicas(host, ref),
  };
  const templateSchema = await customResourceSchema(host, ref);
  const crd = federatedCrd(target, templateSchema) as unknown as KubernetesObject;
  const ftc = typeConfigFor(target, { namespace }) as unknown as KubernetesObject;
  const outcomes: Record<string, EnsureOutcome> = {};
  outcomes[`customresourcedefinition/${crd.metadata?.name}`] = await ensureObject(host.kc, CRD_REF, crd);
  await waitEstablished(host.kc, crd.metadata?.name ?? '');
  outcomes[`federatedtypeconfig/${ftc.metadata?.name}`] = await ensureObject(host.kc, FTC_REF, ftc);
  return { typeConfig: ftc.metadata?.name ?? '', federatedCrd: crd.metadata?.name ?? '', outcomes };
}

/** `fedctl disable`: remove the FederatedTypeConfig (propagation stops), and with deleteCrd its federated CRD. */
export async function disableType(
  host: ClusterClients,
  namespace: string,
  input: string,
  deleteCrd: boolean,
  opts: { timeoutMs?: number } = {},
): Promise<string[]> {
  const ftc = await findTypeConfig(host, namespace, input);
  const { federated } = refsOf(ftc);
  const done: string[] = [];
  if (deleteCrd) {
    // Federated objects carry the sync finalizer. Deleting the type config first would stop their
    // controller and leave the CRD Terminating forever, so they go first, while the controller still
    // removes their member copies (or orphans them where asked).
    const { items } = await listResource(host.kc, federated);
    await Promise.all(
      items.map((o) =>
        deleteResource(host.kc, federated, o.metadata?.name ?? '', o.metadata?.namespace).catch((e) =>
          isNotFound(e) ? undefined : Promise.reject(e),
        ),
      ),
    );
    const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
    for (;;) {
      const left = (await listResource(host.kc, federated)).items;
      if (left.length === 0) break;
      if (Date.now() > deadline) {
        const names = left
          .map((o) => `${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`)
          .join(', ');
        throw new Error(
          `${federated.kind} objects still being deleted (${names}): is fedctl controller running? Nothing else was changed`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    if (items.length > 0) done.push(`${items.length} ${federated.kind} object(s) deleted`);
  }
  await deleteResource(host.kc, FTC_REF, ftc.metadata?.name ?? '', namespace);
  done.push(`federatedtypeconfig/${ftc.metadata?.name} deleted`);
  if (deleteCrd) {
    const crdName = `${federated.plural}.${federated.group}`;
    try {
      await deleteResource(host.kc, CRD_REF, crdName);
      done.push(`customresourcedefinition/${crdName} deleted`);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  return done;
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
