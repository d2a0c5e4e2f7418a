import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../src/kube/clients.ts';
import { dryRunCreate } from '../testbed/harness/dry-run.ts';
import { readManifests } from '../testbed/harness/kube.ts';
import { type E2ETestbed, startTestbed } from '../testbed/harness/testbed.ts';

// deploy/controller.yaml cannot be run here (no container runtime), but a real API server can validate
// every object in it with a server-side dry run.

let tb: E2ETestbed;

beforeAll(async () => {
  tb = await startTestbed({
    clusters: 1,
    stateDir: join(mkdtempSync(join(tmpdir(), 'fedctl-e2e-deploy-')), 'testbed'),
  });
}, 600_000);

afterAll(async () => {
  await tb?.down();
}, 120_000);

describe('deploy/controller.yaml', () => {
  it('is accepted by a real API server (server-side dry run)', async () => {
    const kc = loadKubeConfig({ kubeconfig: tb.status.kubeconfig, context: 'cluster0' });
    const docs = readManifests(join(import.meta.dirname, '..', 'deploy', 'controller.yaml'));
    expect(docs.map((d) => d.kind)).toEqual([
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'Service',
    ]);
    await dryRunCreate(kc, docs);
  });
});
