import { describe, expect, it } from 'vitest';
import { typeConfigFor } from '../api/type-configs.ts';
import { federatedUnderScope, limitedScopePlacement } from './type-manager.ts';

const members = [{ name: 'a' }, { name: 'b' }];

describe('limitedScopePlacement (KubeFedConfig scope Namespaced)', () => {
  it('federates the control-plane namespace to every member, so the object placement decides', () => {
    expect(limitedScopePlacement('fed-system', 'fed-system', members)).toEqual({
      known: true,
      clusters: ['a', 'b'],
    });
  });

  it('federates no other namespace (known, without clusters: not federated)', () => {
    expect(limitedScopePlacement('apps', 'fed-system', members)).toEqual({ known: true });
  });
});

describe('federatedUnderScope', () => {
  const configMaps = typeConfigFor({
    group: '',
    version: 'v1',
    kind: 'ConfigMap',
    plural: 'configmaps',
    scope: 'Namespaced',
  });
  const clusterRoles = typeConfigFor({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind: 'ClusterRole',
    plural: 'clusterroles',
    scope: 'Cluster',
  });
  const namespaces = typeConfigFor({
    group: '',
    version: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    scope: 'Cluster',
  });

  it.each([
    ['ConfigMap', configMaps, 'Namespaced', true],
    ['ClusterRole', clusterRoles, 'Namespaced', false],
    ['Namespace', namespaces, 'Namespaced', false],
    ['ClusterRole', clusterRoles, 'Cluster', true],
    ['Namespace', namespaces, 'Cluster', true],
  ] as const)('%s under scope %s: federated %s', (_kind, ftc, scope, expected) => {
    expect(federatedUnderScope(ftc, scope)).toBe(expected);
  });
});
