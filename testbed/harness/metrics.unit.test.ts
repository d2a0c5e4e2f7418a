import { describe, expect, it } from 'vitest';
import { describeWrites, parseWrites, writesBetween } from './metrics.ts';

const page = `# HELP apiserver_request_total [STABLE] Counter of apiserver requests
# TYPE apiserver_request_total counter
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="configmaps",scope="resource",subresource="",verb="PUT",version="v1"} 3
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="configmaps",scope="resource",subresource="",verb="POST",version="v1"} 2
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="configmaps",scope="resource",subresource="",verb="GET",version="v1"} 40
apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="status",verb="PUT",version="v1"} 9
apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="deployments",scope="resource",subresource="",verb="APPLY",version="v1"} 1
apiserver_request_total{code="200",component="apiserver",dry_run="",group="apps",resource="replicasets",scope="resource",subresource="",verb="PUT",version="v1"} 5
apiserver_request_total{code="200",component="apiserver",dry_run="",group="coordination.k8s.io",resource="leases",scope="resource",subresource="",verb="PUT",version="v1"} 100
apiserver_request_total{code="409",component="apiserver",dry_run="",group="",resource="namespaces",scope="resource",subresource="",verb="POST",version="v1"} 1
apiserver_request_duration_seconds_bucket{group="",resource="configmaps",verb="PUT",le="0.1"} 3
`;

describe('member write counts from apiserver_request_total', () => {
  it('counts writes to federated resources only, main resource only, failed attempts included', () => {
    expect(Object.fromEntries(parseWrites(page))).toEqual({
      'PUT /configmaps 200': 3,
      'POST /configmaps 201': 2,
      'APPLY apps/deployments 200': 1,
      'POST /namespaces 409': 1,
    });
  });

  it('honours a narrower filter', () => {
    expect(
      Object.fromEntries(parseWrites(page, { verbs: new Set(['PUT']), resources: { '': ['configmaps'] } })),
    ).toEqual({ 'PUT /configmaps 200': 3 });
  });

  it('reports only what grew between two snapshots, sorted for reading', () => {
    const before = new Map([
      ['cluster1 PUT /configmaps 200', 3],
      ['cluster0 POST /namespaces 201', 1],
    ]);
    const after = new Map([
      ['cluster1 PUT /configmaps 200', 5],
      ['cluster0 POST /namespaces 201', 1],
      ['cluster0 DELETE apps/deployments 200', 1],
    ]);
    const d = writesBetween(before, after);
    expect(describeWrites(d)).toBe(
      '3 (cluster0 DELETE apps/deployments 200: 1, cluster1 PUT /configmaps 200: 2)',
    );
    expect(describeWrites(writesBetween(after, after))).toBe('0');
  });
});
