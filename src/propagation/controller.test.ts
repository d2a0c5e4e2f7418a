import { describe, expect, it } from 'vitest';
import { federatedKeyFor, refsOf, resyncSpreadMs } from './controller.ts';

const ref = (kind: string, namespaced: boolean) => ({
  group: '',
  version: 'v1',
  plural: `${kind.toLowerCase()}s`,
  kind,
  namespaced,
});

describe('federatedKeyFor', () => {
  it('maps a member Namespace x to its FederatedNamespace x/x', () => {
    expect(
      federatedKeyFor(ref('Namespace', false), ref('FederatedNamespace', true), {
        metadata: { name: 'test' },
      }),
    ).toBe('test/test');
  });
  it('maps a namespaced member object to the same namespace and name', () => {
    expect(
      federatedKeyFor(ref('ConfigMap', true), ref('FederatedConfigMap', true), {
        metadata: { name: 'c', namespace: 'n' },
      }),
    ).toBe('n/c');
  });
  it('maps a cluster-scoped member object to a cluster-scoped key', () => {
    expect(
      federatedKeyFor(ref('ClusterRole', false), ref('FederatedClusterRole', false), {
        metadata: { name: 'r' },
      }),
    ).toBe('r');
  });
});

describe('refsOf', () => {
  it('reads target and federated resources from a FederatedTypeConfig', () => {
    const { target, federated } = refsOf({
      metadata: { name: 'deployments.apps' },
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
    } as never);
    expect(target).toEqual({
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
      plural: 'deployments',
      namespaced: true,
    });
    expect(federated).toEqual({
      group: 'types.kubefed.io',
      version: 'v1beta1',
      kind: 'FederatedDeployment',
      plural: 'federateddeployments',
      namespaced: true,
    });
  });
});

describe('resyncSpreadMs', () => {
  it('spreads resync re-enqueues over half the period, at most 30 s', () => {
    expect(resyncSpreadMs(20_000)).toBe(10_000);
    expect(resyncSpreadMs(300_000)).toBe(30_000);
    expect(resyncSpreadMs()).toBe(30_000);
  });
});
