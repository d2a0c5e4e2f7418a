import { join } from 'node:path';
import type { KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Federation, startFederation } from '../testbed/harness/federation.ts';
import { apply, mergePatch, read, readManifests, remove } from '../testbed/harness/kube.ts';
import { sleep, waitFor } from '../testbed/harness/wait.ts';

// ReplicaSchedulingPreference on three real local clusters (cluster0 is host and member): the real
// `fedctl controller` spreads a FederatedDeployment's replicas and the sync controller carries them
// into the members, where the Deployments' spec.replicas are checked.

const CLUSTERS = ['cluster0', 'cluster1', 'cluster2'] as const;
const TYPES = 'types.kubefed.io/v1beta1';
const SCHED = 'scheduling.kubefed.io/v1alpha1';
const APP = 'web';
const EXAMPLES = join(import.meta.dirname, '..', 'examples', 'scheduling');
let fed: Federation;
let host: KubernetesObjectApi;
let member: Record<string, KubernetesObjectApi>;
let failed = false;

interface Cond {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}
type Rsp = KubernetesObject & { spec: Record<string, unknown>; status?: { conditions?: Cond[] } };
type FedDeploy = KubernetesObject & {
  spec: {
    placement?: { clusters?: Array<{ name: string }> };
    overrides?: Array<{ clusterName: string; clusterOverrides?: Array<{ path: string; value?: unknown }> }>;
  };
};
type Deploy = KubernetesObject & {
  spec: { replicas?: number; template: { spec: { containers: Array<{ image: string }> } } };
};

const rsp = (spec: Record<string, unknown>, name = APP): Rsp => ({
  apiVersion: SCHED,
  kind: 'ReplicaSchedulingPreference',
  metadata: { name, namespace: APP },
  spec: { targetKind: 'FederatedDeployment', totalReplicas: 9, ...spec },
});

const scheduled = async (name = APP) =>
  (await read<Rsp>(host, SCHED, 'ReplicaSchedulingPreference', name, APP))?.status?.conditions?.find(
    (c) => c.type === 'Scheduled',
  );

/** spec.replicas of the member Deployments, undefined where there is none. */
async function memberReplicas(): Promise<Record<string, number | undefined>> {
  const out: Record<string, number | undefined> = {};
  for (const c of CLUSTERS)
    out[c] = (await read<Deploy>(member[c]!, 'apps/v1', 'Deployment', APP, APP))?.spec.replicas;
  return out;
}

async function waitForReplicas(want: Record<string, number>, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `member Deployments with replicas ${JSON.stringify(want)}`,
    async () => {
      const got = await memberReplicas();
      // Thrown, so a timeout reports what the members had.
      if (!CLUSTERS.every((c) => got[c] === want[c])) throw new Error(`members have ${JSON.stringify(got)}`);
      return true;
    },
    { timeoutMs },
  );
}

beforeAll(async () => {
  fed = await startFederation({ name: 'scheduling' });
  ({ host, api: member } = fed);
}, 900_000);

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') failed = true;
});

afterAll(async () => {
  await fed?.stop(failed);
}, 300_000);

describe('ReplicaSchedulingPreference', () => {
  it('waits for its target (TargetNotFound), then spreads 9 replicas 3/3/3', async () => {
    const [namespace, fedNamespace, fedDeployment] = readManifests(
      join(EXAMPLES, 'federateddeployment.yaml'),
    );
    await apply(host, namespace!);
    await apply(host, fedNamespace!);
    // The RSP first: the controller must report the missing target and act once it appears.
    for (const o of readManifests(join(EXAMPLES, 'replicaschedulingpreference.yaml'))) await apply(host, o);
    const missing = await waitFor('Scheduled False TargetNotFound', async () => {
      const c = await scheduled();
      return c?.status === 'False' && c.reason === 'TargetNotFound' && c;
    });
    expect(missing.message).toContain(`${APP}/${APP}`);
    await apply(host, fedDeployment!);
    await waitForReplicas({ cluster0: 3, cluster1: 3, cluster2: 3 });
    const c = await waitFor('Scheduled True', async () => {
      const c = await scheduled();
      return c?.status === 'True' && c;
    });
    expect(c.message).toBe('replicas cluster0: 3, cluster1: 3, cluster2: 3');
    expect(c.observedGeneration).toBe(1);
    const fd = await read<FedDeploy>(host, TYPES, 'FederatedDeployment', APP, APP);
    expect(fd?.spec.placement?.clusters?.map((x) => x.name).sort()).toEqual([...CLUSTERS]);
    // kwok runs the pods; later steps (rebalance: false) plan from what is ready.
    await waitFor(
      '3 ready replicas in every member',
      async () => {
        for (const c of CLUSTERS) {
          const d = await read<Deploy & { status?: { readyReplicas?: number } }>(
            member[c]!,
            'apps/v1',
            'Deployment',
            APP,
            APP,
          );
          if (d?.status?.readyReplicas !== 3) throw new Error(`${c}: ${d?.status?.readyReplicas} ready`);
        }
        return true;
      },
      { timeoutMs: 90_000 },
    );
  });

  it('does not write the target in steady state', async () => {
    const before = await read<FedDeploy>(host, TYPES, 'FederatedDeployment', APP, APP);
    const rspBefore = await read<Rsp>(host, SCHED, 'ReplicaSchedulingPreference', APP, APP);
    await sleep(4_000);
    const after = await read<FedDeploy>(host, TYPES, 'FederatedDeployment', APP, APP);
    const rspAfter = await read<Rsp>(host, SCHED, 'ReplicaSchedulingPreference', APP, APP);
    expect(after?.metadata?.generation).toBe(before?.metadata?.generation);
    expect(rspAfter?.metadata?.resourceVersion).toBe(rspBefore?.metadata?.resourceVersion);
  });

  it('follows new weights (cluster2 without an entry gets 0) and keeps the user’s other overrides', async () => {
    // A user override of another path in cluster1, added beside the scheduler's replicas override.
    const fd = (await read<FedDeploy>(host, TYPES, 'FederatedDeployment', APP, APP))!;
    const overrides = structuredClone(fd.spec.overrides ?? []);
    const c1 = overrides.find((o) => o.clusterName === 'cluster1')!;
    c1.clusterOverrides = [
      ...(c1.clusterOverrides ?? []),
      { path: '/spec/template/spec/containers/0/image', value: 'nginx:1.27-alpine' },
    ];
    await mergePatch(host, fd, {
      metadata: { resourceVersion: fd.metadata?.resourceVersion },
      spec: { overrides },
    });
    await waitFor('cluster1 image override propagated', async () => {
      const d = await read<Deploy>(member.cluster1!, 'apps/v1', 'Deployment', APP, APP);
      return d?.spec.template.spec.containers[0]?.image === 'nginx:1.27-alpine';
    });
    // Let cluster1's rolling update finish so the plan below (rebalance: false) sees 3 ready everywhere.
    await waitFor(
      'cluster1 rollout done',
      async () => {
        const d = await read<Deploy & { status?: { updatedReplicas?: number; replicas?: number } }>(
          member.cluster1!,
          'apps/v1',
          'Deployment',
          APP,
          APP,
        );
        return d?.status?.updatedReplicas === 3 && d.status.replicas === 3;
      },
      { timeoutMs: 90_000 },
    );

    const current = (await read<Rsp>(host, SCHED, 'ReplicaSchedulingPreference', APP, APP))!;
    await mergePatch(host, current, {
      spec: { clusters: { '*': null, cluster0: { weight: 2 }, cluster1: { weight: 1 } } },
    });
    // KubeFed placed every candidate, those without preferences with 0 replicas.
    await waitForReplicas({ cluster0: 6, cluster1: 3, cluster2: 0 });
    await waitFor('Scheduled True at generation 2', async () => {
      const c = await scheduled();
      return c?.status === 'True' && c.observedGeneration === 2 && c;
    });
    const d1 = await read<Deploy>(member.cluster1!, 'apps/v1', 'Deployment', APP, APP);
    expect(d1?.spec.template.spec.containers[0]?.image).toBe('nginx:1.27-alpine');
  });

  it('respects minReplicas and maxReplicas', async () => {
    await apply(
      host,
      rsp({
        rebalance: true,
        clusters: { cluster0: { minReplicas: 5, weight: 1 }, '*': { weight: 1, maxReplicas: 1 } },
      }),
    );
    await waitForReplicas({ cluster0: 7, cluster1: 1, cluster2: 1 });
  });

  it('reports an unsupported targetKind', async () => {
    await apply(host, rsp({ targetKind: 'FederatedStatefulSet' }, 'other'));
    const c = await waitFor('Scheduled False TargetKindUnsupported', async () => {
      const c = await scheduled('other');
      return c?.status === 'False' && c;
    });
    expect(c.reason).toBe('TargetKindUnsupported');
    await remove(host, SCHED, 'ReplicaSchedulingPreference', 'other', APP);
  });

  it('leaves the target as last written when the RSP is deleted (KubeFed behaviour)', async () => {
    const before = (await read<FedDeploy>(host, TYPES, 'FederatedDeployment', APP, APP))!;
    await remove(host, SCHED, 'ReplicaSchedulingPreference', APP, APP);
    await waitFor(
      'RSP gone',
      async () => (await read(host, SCHED, 'ReplicaSchedulingPreference', APP, APP)) === undefined,
    );
    await sleep(4_000);
    const after = (await read<FedDeploy>(host, TYPES, 'FederatedDeployment', APP, APP))!;
    expect(after.spec.placement).toEqual(before.spec.placement);
    expect(after.spec.overrides).toEqual(before.spec.overrides);
    expect(await memberReplicas()).toEqual({ cluster0: 7, cluster1: 1, cluster2: 1 });
  });
});
