import { describe, expect, it } from 'vitest';
import type { FederatedObject } from '../api/types.ts';
import { desiredObject } from './desired.ts';
import { OverrideError, overridesByCluster } from './overrides.ts';

const deploymentTarget = { apiVersion: 'apps/v1', kind: 'Deployment', namespaced: true };

const fedDeployment = (): FederatedObject => ({
  apiVersion: 'types.kubefed.io/v1beta1',
  kind: 'FederatedDeployment',
  metadata: {
    name: 'web',
    namespace: 'shop',
    uid: 'host-uid',
    resourceVersion: '99',
    generation: 4,
    labels: { fed: 'yes' },
  },
  spec: {
    template: {
      metadata: { labels: { app: 'web' }, annotations: { note: 'hi' } },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } } },
    },
    placement: { clusters: [{ name: 'c1' }] },
  },
});

describe('desiredObject', () => {
  it('builds the member object from the template, named like the federated object', () => {
    expect(desiredObject(fedDeployment(), deploymentTarget)).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'web',
        namespace: 'shop',
        labels: { app: 'web', 'kubefed.io/managed': 'true' },
        annotations: { note: 'hi' },
      },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } } },
    });
  });

  it('does not copy the federated object’s own labels, uid or resourceVersion', () => {
    const out = desiredObject(fedDeployment(), deploymentTarget);
    expect(out.metadata?.labels).not.toHaveProperty('fed');
    expect(out.metadata).not.toHaveProperty('uid');
    expect(out.metadata).not.toHaveProperty('resourceVersion');
  });

  it('targets the namespace named like a FederatedNamespace, without a namespace of its own', () => {
    const fedNs: FederatedObject = {
      kind: 'FederatedNamespace',
      metadata: { name: 'shop', namespace: 'shop' },
      spec: { placement: { clusterSelector: {} } },
    };
    expect(desiredObject(fedNs, { apiVersion: 'v1', kind: 'Namespace', namespaced: false })).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'shop', labels: { 'kubefed.io/managed': 'true' } },
    });
  });

  it('gives a cluster-scoped target no namespace even if the template has one', () => {
    const fed: FederatedObject = {
      metadata: { name: 'reader' },
      spec: { template: { metadata: { namespace: 'x' }, rules: [{ verbs: ['get'] }] } },
    };
    const out = desiredObject(fed, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      namespaced: false,
    });
    expect(out.metadata).toEqual({ name: 'reader', labels: { 'kubefed.io/managed': 'true' } });
    expect(out.rules).toEqual([{ verbs: ['get'] }]);
  });

  it('ignores identity, server-owned fields, finalizers, owner references and status in the template', () => {
    const fed = fedDeployment();
    fed.spec.template = {
      apiVersion: 'apps/v1beta1',
      kind: 'Wrong',
      metadata: {
        name: 'other',
        generateName: 'web-',
        namespace: 'elsewhere',
        uid: 'u',
        resourceVersion: '1',
        generation: 7,
        creationTimestamp: '2020-01-01T00:00:00Z',
        managedFields: [{}],
        finalizers: ['example.com/block'],
        ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 'u' }],
      },
      spec: { replicas: 1 },
      status: { replicas: 1 },
    };
    expect(desiredObject(fed, deploymentTarget)).toEqual({
      apiVersion: 'apps/v1beta1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'shop', labels: { 'kubefed.io/managed': 'true' } },
      spec: { replicas: 1 },
    });
  });

  it('honours the template’s apiVersion, and uses the type config’s when the template sets none', () => {
    const fed = fedDeployment();
    expect(desiredObject(fed, deploymentTarget).apiVersion).toBe('apps/v1');
    fed.spec.template = { apiVersion: 'autoscaling/v1', spec: {} };
    expect(desiredObject(fed, deploymentTarget).apiVersion).toBe('autoscaling/v1');
    fed.spec.template = { apiVersion: '', spec: {} };
    expect(desiredObject(fed, deploymentTarget).apiVersion).toBe('apps/v1');
  });

  it('builds an object from an absent or malformed template (e.g. a namespace needs none)', () => {
    const fed = fedDeployment();
    fed.spec.template = undefined;
    expect(desiredObject(fed, deploymentTarget).metadata).toEqual({
      name: 'web',
      namespace: 'shop',
      labels: { 'kubefed.io/managed': 'true' },
    });
    fed.spec.template = 'nonsense' as never;
    expect(desiredObject(fed, deploymentTarget).kind).toBe('Deployment');
  });

  it('overrides the template managed label, so a template cannot unmanage its members', () => {
    const fed = fedDeployment();
    fed.spec.template!.metadata = { labels: { 'kubefed.io/managed': 'false' } };
    expect(desiredObject(fed, deploymentTarget).metadata?.labels).toEqual({ 'kubefed.io/managed': 'true' });
  });

  it('lets an override add an annotation to a template without annotations', () => {
    const fed = fedDeployment();
    fed.spec.template = { spec: {} };
    const out = desiredObject(fed, deploymentTarget, [
      { op: 'add', path: '/metadata/annotations/foo', value: 'bar' },
    ]);
    expect(out.metadata?.annotations).toEqual({ foo: 'bar' });
  });

  it('applies overrides last, over the template', () => {
    const fed = fedDeployment();
    const ops = overridesByCluster([
      {
        clusterName: 'c1',
        clusterOverrides: [
          { path: '/spec/replicas', value: 5 },
          { op: 'add', path: '/metadata/labels/tier', value: 'gold' },
          { op: 'add', path: '/metadata/annotations/extra', value: 'yes' },
        ],
      },
    ]).get('c1')!;
    const out = desiredObject(fed, deploymentTarget, ops, 'c1');
    expect(out.spec).toEqual({ replicas: 5, selector: { matchLabels: { app: 'web' } } });
    expect(out.metadata?.labels).toEqual({ app: 'web', 'kubefed.io/managed': 'true', tier: 'gold' });
    expect(out.metadata?.annotations).toEqual({ note: 'hi', extra: 'yes' });
  });

  it('lets an override add a label to a template without labels (the managed label is already there)', () => {
    const fed = fedDeployment();
    fed.spec.template = { spec: {} };
    const out = desiredObject(fed, deploymentTarget, [
      { op: 'add', path: '/metadata/labels/tier', value: 'gold' },
    ]);
    expect(out.metadata?.labels).toEqual({ 'kubefed.io/managed': 'true', tier: 'gold' });
  });

  it('keeps name, namespace, kind and the managed label even when an override replaces metadata or labels', () => {
    const out = desiredObject(fedDeployment(), deploymentTarget, [
      {
        op: 'replace',
        path: '/metadata',
        value: { name: 'evil', namespace: 'other', generateName: 'x-', labels: { a: 'b' } },
      },
    ]);
    expect(out.metadata).toEqual({
      name: 'web',
      namespace: 'shop',
      labels: { a: 'b', 'kubefed.io/managed': 'true' },
    });
    const removed = desiredObject(fedDeployment(), deploymentTarget, [
      { op: 'remove', path: '/metadata/labels' },
    ]);
    expect(removed.metadata?.labels).toEqual({ 'kubefed.io/managed': 'true' });
  });

  it('lets an override change apiVersion (KubeFed allowed it), not kind', () => {
    const out = desiredObject(fedDeployment(), deploymentTarget, [
      { op: 'replace', path: '/apiVersion', value: 'apps/v1beta2' },
    ]);
    expect(out.apiVersion).toBe('apps/v1beta2');
    expect(out.kind).toBe('Deployment');
  });

  it('throws an OverrideError naming the cluster when an override does not apply', () => {
    const build = () =>
      desiredObject(fedDeployment(), deploymentTarget, [{ op: 'remove', path: '/spec/missing' }], 'c1');
    expect(build).toThrow(OverrideError);
    expect(build).toThrow(
      'override remove /spec/missing for cluster "c1" failed: the path does not exist in the object',
    );
  });

  it('never mutates the federated object, its template or the operations', () => {
    const fed = fedDeployment();
    const before = structuredClone(fed);
    const ops = [{ op: 'add' as const, path: '/spec/extra', value: { list: [1] } }];
    const out = desiredObject(fed, deploymentTarget, ops) as {
      spec: { extra: { list: number[] } };
      metadata: { labels: Record<string, string> };
    };
    out.spec.extra.list.push(2);
    out.metadata.labels.changed = 'yes';
    expect(fed).toEqual(before);
    expect(ops[0]!.value.list).toEqual([1]);
    const plain = desiredObject(fed, deploymentTarget) as {
      spec: { selector: { matchLabels: Record<string, string> } };
    };
    plain.spec.selector.matchLabels.app = 'changed';
    expect(fed).toEqual(before);
  });

  it('refuses a namespaced target for a federated object without a namespace', () => {
    const fed = fedDeployment();
    delete fed.metadata.namespace;
    expect(() => desiredObject(fed, deploymentTarget)).toThrow(
      'federated object web has no namespace, but its target Deployment is namespaced',
    );
  });

  it('refuses a federated object without a name', () => {
    expect(() => desiredObject({ metadata: {}, spec: {} }, deploymentTarget)).toThrow('no metadata.name');
  });
});
