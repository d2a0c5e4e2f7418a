import { describe, expect, it } from 'vitest';
import { federatedFrom, templateFrom } from './federate.ts';

describe('templateFrom', () => {
  it('drops server-owned metadata, status and tool annotations but keeps user labels and annotations', () => {
    const t = templateFrom({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'c',
        namespace: 'n',
        uid: 'u',
        resourceVersion: '1',
        creationTimestamp: new Date(0),
        managedFields: [],
        labels: { app: 'x', 'kubefed.io/managed': 'true' },
        annotations: { keep: 'me', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      },
      data: { a: 'b' },
    } as never);
    expect(t).toEqual({ metadata: { labels: { app: 'x' }, annotations: { keep: 'me' } }, data: { a: 'b' } });
  });

  it('removes the addresses and ports a Service gets from its own cluster', () => {
    const t = templateFrom({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's', namespace: 'n' },
      spec: {
        clusterIP: '10.0.0.1',
        clusterIPs: ['10.0.0.1'],
        type: 'NodePort',
        ports: [{ port: 80, nodePort: 30080 }],
      },
      status: { loadBalancer: {} },
    } as never);
    expect(t).toEqual({ spec: { type: 'NodePort', ports: [{ port: 80 }] } });
  });

  it('removes the controller-generated selector of a Job', () => {
    const t = templateFrom({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j', namespace: 'n' },
      spec: {
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'abc' } },
        template: {
          metadata: { labels: { 'batch.kubernetes.io/controller-uid': 'abc', 'job-name': 'j', app: 'a' } },
          spec: {},
        },
      },
    } as never);
    expect(t).toEqual({ spec: { template: { metadata: { labels: { app: 'a' } }, spec: {} } } });
  });

  it('does not mutate its input', () => {
    const obj = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's', uid: 'u' },
      spec: { clusterIP: '1.2.3.4' },
    };
    const copy = structuredClone(obj);
    templateFrom(obj as never);
    expect(obj).toEqual(copy);
  });
});

describe('federatedFrom', () => {
  it('wraps the template in a Federated<Kind> placed on every cluster', () => {
    expect(
      federatedFrom({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'c', namespace: 'n' },
        data: { a: 'b' },
      } as never),
    ).toEqual({
      apiVersion: 'types.kubefed.io/v1beta1',
      kind: 'FederatedConfigMap',
      metadata: { name: 'c', namespace: 'n' },
      spec: { template: { data: { a: 'b' } }, placement: { clusterSelector: {} } },
    });
  });

  it('puts a FederatedNamespace into the namespace it federates', () => {
    const f = federatedFrom({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'test' },
      spec: { finalizers: ['kubernetes'] },
    } as never);
    expect(f.metadata).toEqual({ name: 'test', namespace: 'test' });
    expect((f as { spec: { template: unknown } }).spec.template).toEqual({ spec: {} });
  });
});
