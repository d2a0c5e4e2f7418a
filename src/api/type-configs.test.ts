import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TARGET_TYPES,
  defaultTypeConfigs,
  federatedTypeFor,
  groupQualifiedName,
  isNamespaceTarget,
  pluralName,
  targetApiVersion,
  typeConfigFor,
  withTypeConfigDefaults,
} from './type-configs.ts';
import type { FederatedTypeConfig } from './types.ts';

describe('typeConfigFor', () => {
  it('builds what `kubefedctl enable deployments.apps` created', () => {
    expect(
      typeConfigFor({
        group: 'apps',
        version: 'v1',
        kind: 'Deployment',
        plural: 'deployments',
        scope: 'Namespaced',
      }),
    ).toEqual({
      apiVersion: 'core.kubefed.io/v1beta1',
      kind: 'FederatedTypeConfig',
      metadata: { name: 'deployments.apps', namespace: 'kube-federation-system' },
      spec: {
        targetType: {
          group: 'apps',
          version: 'v1',
          kind: 'Deployment',
          pluralName: 'deployments',
          scope: 'Namespaced',
        },
        federatedType: {
          group: 'types.kubefed.io',
          version: 'v1beta1',
          kind: 'FederatedDeployment',
          pluralName: 'federateddeployments',
          scope: 'Namespaced',
        },
        propagation: 'Enabled',
      },
    });
  });

  it('omits the group of a core type and names the config by its plural alone', () => {
    const ftc = typeConfigFor({
      group: '',
      version: 'v1',
      kind: 'ConfigMap',
      plural: 'configmaps',
      scope: 'Namespaced',
    });
    expect(ftc.metadata.name).toBe('configmaps');
    expect(ftc.spec.targetType).not.toHaveProperty('group');
  });

  it('makes FederatedNamespace namespaced although Namespace is cluster-scoped', () => {
    const ftc = typeConfigFor({
      group: '',
      version: 'v1',
      kind: 'Namespace',
      plural: 'namespaces',
      scope: 'Cluster',
    });
    expect(ftc.spec.targetType.scope).toBe('Cluster');
    expect(ftc.spec.federatedType.scope).toBe('Namespaced');
  });

  it('keeps a cluster-scoped target cluster-scoped', () => {
    const ftc = typeConfigFor({
      group: 'rbac.authorization.k8s.io',
      version: 'v1',
      kind: 'ClusterRole',
      plural: 'clusterroles',
      scope: 'Cluster',
    });
    expect(ftc.metadata.name).toBe('clusterroles.rbac.authorization.k8s.io');
    expect(ftc.spec.federatedType.scope).toBe('Cluster');
  });

  it('takes a namespace and a status collection mode', () => {
    const ftc = typeConfigFor(DEFAULT_TARGET_TYPES[1]!, { namespace: 'fed', statusCollection: 'Enabled' });
    expect(ftc.metadata.namespace).toBe('fed');
    expect(ftc.spec.statusCollection).toBe('Enabled');
  });
});

describe('defaultTypeConfigs', () => {
  it('enables the ten KubeFed default types at v1, named <plural>.<group>', () => {
    expect(defaultTypeConfigs().map((c) => `${c.metadata.name} ${c.spec.targetType.version}`)).toEqual([
      'namespaces v1',
      'configmaps v1',
      'secrets v1',
      'serviceaccounts v1',
      'services v1',
      'deployments.apps v1',
      'replicasets.apps v1',
      'jobs.batch v1',
      'ingresses.networking.k8s.io v1',
      'clusterroles.rbac.authorization.k8s.io v1',
    ]);
  });
});

describe('helpers', () => {
  it.each([
    ['Deployment', 'deployments'],
    ['Ingress', 'ingresses'],
    ['Policy', 'policies'],
    ['Box', 'boxes'],
    ['Patch', 'patches'],
    ['Mesh', 'meshes'],
    ['Quiz', 'quizes'],
    ['Echo', 'echoes'],
  ])('pluralName(%s) = %s, as KubeFed defaulted', (kind, plural) => {
    expect(pluralName(kind)).toBe(plural);
  });

  it('qualify names and api versions with the group only when there is one', () => {
    expect(groupQualifiedName('services', '')).toBe('services');
    expect(groupQualifiedName('jobs', 'batch')).toBe('jobs.batch');
    expect(targetApiVersion({ version: 'v1' })).toBe('v1');
    expect(targetApiVersion({ group: 'apps', version: 'v1' })).toBe('apps/v1');
  });

  it('recognise the namespace target in both shapes', () => {
    expect(isNamespaceTarget({ group: '', plural: 'namespaces' })).toBe(true);
    expect(isNamespaceTarget({ pluralName: 'namespaces' })).toBe(true);
    expect(isNamespaceTarget({ group: 'example.com', plural: 'namespaces' })).toBe(false);
  });

  it('derive the federated type from an FTC-style target type', () => {
    expect(
      federatedTypeFor({ version: 'v1', kind: 'Secret', pluralName: 'secrets', scope: 'Namespaced' }),
    ).toMatchObject({
      kind: 'FederatedSecret',
      pluralName: 'federatedsecrets',
    });
  });

  it('fill the defaults KubeFed’s webhook set from the FTC name', () => {
    const ftc = {
      metadata: { name: 'widgets.example.com' },
      spec: {
        targetType: { version: 'v1', kind: 'Widget', pluralName: '', scope: 'Namespaced' },
        federatedType: {
          group: 'types.kubefed.io',
          version: 'v1beta1',
          kind: 'FederatedWidget',
          pluralName: '',
          scope: 'Namespaced',
        },
        propagation: 'Enabled',
      },
    } as FederatedTypeConfig;
    const out = withTypeConfigDefaults(ftc);
    expect(out.spec.targetType).toMatchObject({ group: 'example.com', pluralName: 'widgets' });
    expect(out.spec.federatedType.pluralName).toBe('federatedwidgets');
    expect(ftc.spec.targetType.pluralName).toBe('');
  });
});
