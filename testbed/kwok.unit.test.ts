import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { fakeNode, kwokArgs, kwokConfig } from './kwok.ts';
import { newTestbedId, nodeNetnsName, parseNetnsList, usedIdBytes } from './netns.ts';
import { planClusters } from './plan.ts';

describe('kwok setup', () => {
  it('ships node and pod stages as separate YAML documents', () => {
    const docs = parseAllDocuments(kwokConfig()).map((d) => d.toJS());
    expect(docs.map((d) => `${d.spec.resourceRef.kind}/${d.metadata.name}`)).toEqual([
      'Node/testbed-node-ready',
      'Node/testbed-node-heartbeat',
      'Pod/testbed-pod-running',
      'Pod/testbed-pod-job-complete',
      'Pod/testbed-pod-delete',
    ]);
    expect(docs.every((d) => d.kind === 'Stage' && d.apiVersion === 'kwok.x-k8s.io/v1alpha1')).toBe(true);
  });

  it('manages only annotated nodes and allocates from the cluster pod range', () => {
    expect(kwokArgs('/k', '/c', '10.101.0.0/16')).toEqual(
      expect.arrayContaining([
        '--manage-all-nodes=false',
        '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
        '--cidr=10.101.0.0/16',
      ]),
    );
  });

  it('creates fake nodes with labels, annotation and the netns address', () => {
    const [plan] = planClusters(1, 'distinct');
    const n = fakeNode(plan!, 1, '172.31.4.12') as {
      metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
      status: { addresses: { type: string; address: string }[] };
    };
    expect(n.metadata.name).toBe('cluster0-node1');
    expect(n.metadata.annotations['kwok.x-k8s.io/node']).toBe('fake');
    expect(n.metadata.labels).toMatchObject({
      type: 'kwok',
      'topology.kubernetes.io/region': 'region-0',
      'topology.kubernetes.io/zone': 'region-0-a',
    });
    expect(n.status.addresses).toContainEqual({ type: 'InternalIP', address: '172.31.4.12' });
  });
});

describe('network namespace naming', () => {
  it('parses `ip netns list` with and without ids', () => {
    expect(parseNetnsList('fedtb-0a01-c0n1 (id: 3)\nother\n\n')).toEqual(['fedtb-0a01-c0n1', 'other']);
  });

  it('avoids id bytes other testbeds use', () => {
    const used = usedIdBytes(['fedtb-0a01-fabric', 'fedtb-0a01-c0n0', 'fedtb-ff12-fabric', 'unrelated']);
    expect([...used].sort()).toEqual([10, 255]);
    let i = 0;
    const id = newTestbedId(used, () => [0.04, 0.5][i++ % 2]!);
    expect(id).toMatch(/^[0-9a-f]{4}$/);
    expect(used.has(Number.parseInt(id.slice(0, 2), 16))).toBe(false);
  });

  it('prefixes node namespaces with the testbed id', () => {
    expect(nodeNetnsName('0a01', 2, 1)).toBe('fedtb-0a01-c2n1');
  });
});
