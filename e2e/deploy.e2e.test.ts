import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../src/kube/clients.ts';
import { createResource, discoverResource } from '../src/kube/resources.ts';
import { readManifests } from './support/kube.ts';
import { type E2ETestbed, startTestbed } from './support/testbed.ts';

// deploy/controller.yaml cannot be run here (no image builder), but a real API server can validate
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
    for (const doc of docs) {
      const [group, version] = doc.apiVersion?.includes('/')
        ? doc.apiVersion.split('/')
        : ['', doc.apiVersion];
      const ref = await discoverResource(kc, { group, version, kind: doc.kind });
      // The namespace is created for real so the namespaced objects can be validated inside it.
      await createResource(kc, ref, doc, { dryRun: doc.kind !== 'Namespace', fieldValidation: 'Strict' });
    }
  });
});
