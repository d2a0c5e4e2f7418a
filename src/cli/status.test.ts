import { describe, expect, it } from 'vitest';
import type { FederatedStatus } from '../api/types.ts';
import { renderTable } from './output.ts';
import { statusReport, statusRows } from './status.ts';

const NOW = new Date('2026-01-01T00:10:00Z');
const fed = (status: FederatedStatus) => ({
  metadata: { name: 'web', namespace: 'shop', generation: 4 },
  status,
});
const healthy = { desired: 3, replicas: 3, updated: 3, ready: 3, available: 3, healthy: true };

describe('fedctl status report', () => {
  it('shows one row per cluster with sync outcome, ready/desired, age and why not, then the total', () => {
    const report = statusReport(
      'FederatedDeployment',
      fed({
        observedGeneration: 4,
        clusters: [
          {
            name: 'c3',
            status: 'UpdateFailed',
            message: 'denied by webhook',
            workload: healthy,
            lastChange: '2026-01-01T00:09:00Z',
          },
          { name: 'c1', workload: healthy, lastChange: '2026-01-01T00:00:00Z' },
          {
            name: 'c2',
            workload: { ...healthy, ready: 1, available: 1, healthy: false },
            lastChange: '2026-01-01T00:09:30Z',
          },
        ],
      }),
    );
    const table = renderTable(['CLUSTER', 'SYNC', 'READY', 'AGE', 'MESSAGE'], statusRows(report, NOW), {
      sortBy: false,
    });
    expect(table).toBe(
      [
        'CLUSTER   SYNC                 READY   AGE   MESSAGE',
        'c1        OK                   3/3     10m',
        'c2        OK                   1/3     30s   1 of 3 ready',
        'c3        UpdateFailed         3/3     60s   denied by webhook',
        'TOTAL     1/3 clusters ready   7/9',
        '',
      ].join('\n'),
    );
    expect(report).toMatchObject({ ready: '7/9', readyClusters: '1/3', totals: { desired: 9, ready: 7 } });
  });

  it.each<[string, FederatedStatus['clusters'], string, string]>([
    [
      'a member failure reason',
      [
        {
          name: 'a',
          workload: {
            desired: 2,
            ready: 0,
            healthy: false,
            reason: 'ProgressDeadlineExceeded',
            message: 'timed out',
          },
        },
      ],
      '0/2',
      'ProgressDeadlineExceeded: timed out',
    ],
    [
      'not yet observed',
      [{ name: 'a', workload: { desired: 2, ready: 2, observed: false, healthy: false } }],
      '2/2',
      'the member has not yet acted on the latest spec',
    ],
    [
      'rolling out',
      [{ name: 'a', workload: { desired: 4, updated: 1, ready: 4, healthy: false } }],
      '4/4',
      'rolling out: 1 of 4 updated',
    ],
    [
      'a kind without replicas',
      [{ name: 'a', workload: { healthy: false, reason: 'Reconciling' } }],
      'no',
      'Reconciling',
    ],
    ['a ConfigMap', [{ name: 'a' }], '', ''],
  ])('%s', (_name, clusters, ready, message) => {
    const [row] = statusReport('X', fed({ clusters })).clusters;
    expect([row?.ready, row?.message]).toEqual([ready, message]);
  });

  it('derives totals for a status written before workload reporting (KubeFed or an older fedctl)', () => {
    const report = statusReport(
      'FederatedConfigMap',
      fed({ clusters: [{ name: 'a' }, { name: 'b', status: 'ClusterNotReady' }] }),
    );
    expect(report).toMatchObject({ readyClusters: '1/2', totals: { clusters: 2, readyClusters: 1 } });
    expect(report).not.toHaveProperty('ready');
  });
});

describe('fedctl get clusters: objects per cluster', () => {
  it('counts the federated objects each cluster holds and the ones failing there', async () => {
    const { countByCluster } = await import('./get.ts');
    const counts = countByCluster([
      { status: { clusters: [{ name: 'a' }, { name: 'b', status: 'UpdateFailed' }] } },
      {
        status: {
          clusters: [
            { name: 'a', workload: { healthy: false } },
            { name: 'b', workload: { healthy: true } },
          ],
        },
      },
      { status: { clusters: [{ name: 'a' }] } },
      {},
    ]);
    expect(Object.fromEntries(counts)).toEqual({
      a: { objects: 3, failing: 1 },
      b: { objects: 2, failing: 1 },
    });
  });
});
