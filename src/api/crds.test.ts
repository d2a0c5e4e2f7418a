import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  type CustomResourceDefinition,
  coreCustomResourceDefinitions,
  defaultFederatedCustomResourceDefinitions,
  federatedCrd,
  kubeFedClusterCrd,
  replicaSchedulingPreferenceCrd,
} from './crds.ts';
import { CRDS_DIR, renderCrdFiles } from './generate-crds.ts';
import { sortKeys } from './json.ts';
import type { JSONSchemaProps } from './schema.ts';

/** Problems that would make the API server refuse a CRD as non-structural, as path: message. */
function structuralProblems(schema: JSONSchemaProps, path = 'openAPIV3Schema'): string[] {
  const problems: string[] = [];
  const open =
    schema['x-kubernetes-preserve-unknown-fields'] === true || schema['x-kubernetes-int-or-string'] === true;
  if (schema.type === undefined && !open) problems.push(`${path}: no type`);
  if (schema.properties && schema.type !== 'object') problems.push(`${path}: properties on a non-object`);
  if (schema.type === 'array' && !schema.items) problems.push(`${path}: array without items`);
  if (schema.properties && schema.additionalProperties !== undefined) {
    problems.push(`${path}: both properties and additionalProperties`);
  }
  for (const r of schema.required ?? []) {
    if (!schema.properties?.[r]) problems.push(`${path}: required ${r} is not a property`);
  }
  if (schema['x-kubernetes-list-type'] === 'map') {
    for (const key of schema['x-kubernetes-list-map-keys'] ?? []) {
      if (!schema.items?.required?.includes(key))
        problems.push(`${path}: list-map key ${key} is not required`);
    }
  }
  for (const [k, v] of Object.entries(schema.properties ?? {}))
    problems.push(...structuralProblems(v, `${path}.${k}`));
  if (schema.items) problems.push(...structuralProblems(schema.items, `${path}[]`));
  if (typeof schema.additionalProperties === 'object') {
    problems.push(...structuralProblems(schema.additionalProperties, `${path}{}`));
  }
  return problems;
}

const schemaOf = (crd: CustomResourceDefinition) => crd.spec.versions[0]!.schema.openAPIV3Schema;
const at = (schema: JSONSchemaProps, ...path: string[]): JSONSchemaProps =>
  path.reduce<JSONSchemaProps>((s, p) => (p === '[]' ? s.items! : s.properties![p]!), schema);

const all = [...coreCustomResourceDefinitions(), ...defaultFederatedCustomResourceDefinitions()];

describe('crds/', () => {
  it('is up to date with src/api (run `npm run crds` after changing a schema)', async () => {
    const expected = renderCrdFiles();
    const onDisk = (await readdir(CRDS_DIR)).filter((f) => f.endsWith('.yaml')).sort();
    expect(onDisk).toEqual([...expected.keys()]);
    for (const [name, content] of expected) {
      expect(await readFile(join(CRDS_DIR, name), 'utf8'), `crds/${name} is stale`).toBe(content);
    }
  });

  it('holds one parseable CRD per file, named after the CRD', async () => {
    for (const [name, content] of renderCrdFiles()) {
      const crd = parse(content) as CustomResourceDefinition;
      expect(crd.kind).toBe('CustomResourceDefinition');
      expect(`${crd.metadata.name}.yaml`).toBe(name);
    }
  });

  it('renders deterministically, keys sorted', () => {
    expect([...renderCrdFiles()]).toEqual([...renderCrdFiles()]);
    expect(sortKeys({ b: 1, a: [{ d: 1, c: 2 }] })).toEqual({ a: [{ c: 2, d: 1 }], b: 1 });
    expect(JSON.stringify(sortKeys({ b: 1, a: 2 }))).toBe('{"a":2,"b":1}');
  });
});

describe('CRD builders', () => {
  it.each(all.map((c) => [c.metadata.name, c] as const))(
    '%s has a structural schema and a consistent name',
    (_n, crd) => {
      expect(crd.metadata.name).toBe(`${crd.spec.names.plural}.${crd.spec.group}`);
      expect(crd.spec.names.listKind).toBe(`${crd.spec.names.kind}List`);
      expect(crd.spec.names.singular).toBe(crd.spec.names.kind.toLowerCase());
      expect(crd.spec.versions).toHaveLength(1);
      expect(crd.spec.versions[0]).toMatchObject({ served: true, storage: true });
      expect(structuralProblems(schemaOf(crd))).toEqual([]);
    },
  );

  it('builds the core kinds in their KubeFed groups, versions and scopes', () => {
    expect(
      coreCustomResourceDefinitions().map((c) => [c.metadata.name, c.spec.versions[0]!.name, c.spec.scope]),
    ).toEqual([
      ['kubefedclusters.core.kubefed.io', 'v1beta1', 'Namespaced'],
      ['kubefedconfigs.core.kubefed.io', 'v1beta1', 'Namespaced'],
      ['federatedtypeconfigs.core.kubefed.io', 'v1beta1', 'Namespaced'],
      ['replicaschedulingpreferences.scheduling.kubefed.io', 'v1alpha1', 'Namespaced'],
    ]);
  });

  it('gives KubeFedCluster the columns `kubectl get kubefedclusters` shows in KubeFed, and a status subresource', () => {
    const v = kubeFedClusterCrd().spec.versions[0]!;
    expect(v.subresources).toEqual({ status: {} });
    expect(v.additionalPrinterColumns?.filter((c) => !c.priority).map((c) => [c.name, c.jsonPath])).toEqual([
      ['age', '.metadata.creationTimestamp'],
      ['ready', ".status.conditions[?(@.type=='Ready')].status"],
      ['kubernetes-version', '.status.kubernetesVersion'],
    ]);
    expect(kubeFedClusterCrd().spec.names.shortNames).toEqual(['kfc']);
  });

  it('requires apiEndpoint and secretRef.name on a KubeFedCluster', () => {
    const spec = at(schemaOf(kubeFedClusterCrd()), 'spec');
    expect(spec.required).toEqual(['apiEndpoint', 'secretRef']);
    expect(at(spec, 'secretRef').required).toEqual(['name']);
    expect(at(spec, 'disabledTLSValidations', '[]').enum).toEqual(['*', 'SubjectName', 'ValidityPeriod']);
  });

  it('keeps minReplicas ≤ maxReplicas in a ReplicaSchedulingPreference with a readable CEL rule', () => {
    const clusters = at(schemaOf(replicaSchedulingPreferenceCrd()), 'spec', 'clusters');
    const prefs = clusters.additionalProperties as JSONSchemaProps;
    expect(prefs['x-kubernetes-validations']?.[0]?.message).toBe('minReplicas must not exceed maxReplicas');
    expect(clusters.maxProperties).toBeGreaterThan(0);
  });
});

describe('federatedCrd', () => {
  const deployments = {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    scope: 'Namespaced',
  } as const;

  it('names the CRD federated<plural>.types.kubefed.io with kind Federated<Kind>', () => {
    const crd = federatedCrd(deployments);
    expect(crd.metadata.name).toBe('federateddeployments.types.kubefed.io');
    expect(crd.spec.names).toMatchObject({ kind: 'FederatedDeployment', plural: 'federateddeployments' });
    expect(crd.spec.versions[0]!.name).toBe('v1beta1');
    expect(crd.spec.versions[0]!.subresources).toEqual({ status: {} });
  });

  it('takes the scope of the target, except FederatedNamespace which is namespaced as in KubeFed', () => {
    const cr = federatedCrd({
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      kind: 'ClusterRole',
      plural: 'clusterroles',
      scope: 'Cluster',
    });
    expect(cr.spec.scope).toBe('Cluster');
    const ns = federatedCrd({
      group: '',
      version: 'v1',
      kind: 'Namespace',
      plural: 'namespaces',
      scope: 'Cluster',
    });
    expect(ns.spec.scope).toBe('Namespaced');
    expect(federatedCrd(deployments).spec.scope).toBe('Namespaced');
  });

  it('accepts a FederatedTypeConfig-style APIResource as well', () => {
    const crd = federatedCrd({
      group: 'batch',
      version: 'v1',
      kind: 'Job',
      pluralName: 'jobs',
      scope: 'Namespaced',
    });
    expect(crd.metadata.name).toBe('federatedjobs.types.kubefed.io');
  });

  it('keeps any template without a schema, and types placement and overrides strictly', () => {
    const spec = at(schemaOf(federatedCrd(deployments)), 'spec');
    expect(at(spec, 'template')).toMatchObject({
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
    });
    const op = at(spec, 'overrides', '[]', 'clusterOverrides', '[]');
    expect(op.required).toEqual(['path']);
    expect(at(op, 'op').enum).toEqual(['add', 'remove', 'replace', '']);
    expect(at(op, 'path').pattern).toBe('^/');
    expect(at(op, 'value')['x-kubernetes-preserve-unknown-fields']).toBe(true);
    expect(at(spec, 'overrides', '[]').required).toEqual(['clusterName']);
    // Duplicates are refused by the API server ("Duplicate value").
    expect(at(spec, 'overrides')['x-kubernetes-list-map-keys']).toEqual(['clusterName']);
    expect(at(spec, 'overrides', '[]', 'clusterOverrides')['x-kubernetes-list-map-keys']).toEqual(['path']);
    expect(at(spec, 'placement', 'clusters', '[]').required).toEqual(['name']);
    expect(at(spec, 'placement', 'clusterSelector', 'matchExpressions', '[]', 'operator').enum).toEqual([
      'In',
      'NotIn',
      'Exists',
      'DoesNotExist',
    ]);
    expect(schemaOf(federatedCrd(deployments)).required).toEqual(['spec']);
  });

  it('offers spec.retainReplicas only for scalable targets', () => {
    const spec = (t: Parameters<typeof federatedCrd>[0], opts?: Parameters<typeof federatedCrd>[2]) =>
      at(schemaOf(federatedCrd(t, undefined, opts)), 'spec').properties!;
    expect(spec(deployments)).not.toHaveProperty('retainReplicas');
    expect(spec({ ...deployments, scalable: true })).toHaveProperty('retainReplicas', {
      description: expect.any(String),
      type: 'boolean',
    });
    expect(spec(deployments, { retainReplicas: true })).toHaveProperty('retainReplicas');
    const defaults = Object.fromEntries(
      defaultFederatedCustomResourceDefinitions().map((c) => [
        c.spec.names.kind,
        'retainReplicas' in at(schemaOf(c), 'spec').properties!,
      ]),
    );
    expect(defaults).toMatchObject({
      FederatedDeployment: true,
      FederatedReplicaSet: true,
      FederatedJob: false,
      FederatedService: false,
    });
  });

  it('validates the template with a given schema, keeping template metadata open and dropping status', () => {
    const template: JSONSchemaProps = {
      type: 'object',
      properties: {
        metadata: { type: 'object' },
        data: { type: 'object', additionalProperties: { type: 'string' } },
        status: { type: 'object' },
      },
    };
    const t = at(
      schemaOf(
        federatedCrd(
          { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', scope: 'Namespaced' },
          template,
        ),
      ),
      'spec',
      'template',
    );
    expect(at(t, 'data')).toEqual({ type: 'object', additionalProperties: { type: 'string' } });
    expect(at(t, 'metadata')['x-kubernetes-preserve-unknown-fields']).toBe(true);
    expect(t.properties).not.toHaveProperty('status');
    expect(template.properties).toHaveProperty('status'); // input untouched
  });

  it('builds a CRD for each default type', () => {
    expect(defaultFederatedCustomResourceDefinitions().map((c) => c.metadata.name)).toEqual([
      'federatednamespaces.types.kubefed.io',
      'federatedconfigmaps.types.kubefed.io',
      'federatedsecrets.types.kubefed.io',
      'federatedserviceaccounts.types.kubefed.io',
      'federatedservices.types.kubefed.io',
      'federateddeployments.types.kubefed.io',
      'federatedreplicasets.types.kubefed.io',
      'federatedjobs.types.kubefed.io',
      'federatedingresses.types.kubefed.io',
      'federatedclusterroles.types.kubefed.io',
    ]);
  });
});
