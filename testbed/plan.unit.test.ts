import { describe, expect, it } from 'vitest';
import { type Profile, planProfile } from './plan.ts';

describe('planProfile', () => {
  it('runs the whole control plane, two netns-backed nodes and DNS in the full profile by default', () => {
    expect(planProfile('full', {})).toEqual({
      profile: 'full',
      components: ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'coredns'],
      kcmControllers: ['*'],
      nodes: 2,
      netns: true,
      dns: true,
    });
  });

  it('keeps the caller’s node count and netns choice in the full profile', () => {
    const p = planProfile('full', { nodes: 4, netns: false });
    expect([p.nodes, p.netns]).toEqual([4, false]);
  });

  it('rejects a node count outside 1..10 in the full profile', () => {
    expect(() => planProfile('full', { nodes: 0 })).toThrow(/--nodes must be an integer between 1 and 10/);
  });

  it('runs etcd, kube-apiserver and only the token and namespace controllers, without nodes, netns or DNS, in the light profile', () => {
    expect(planProfile('light', { netns: true })).toEqual({
      profile: 'light',
      components: ['etcd', 'kube-apiserver', 'kube-controller-manager'],
      kcmControllers: ['serviceaccount-token', 'namespace'],
      nodes: 0,
      netns: false,
      dns: false,
    });
  });

  it('refuses nodes in the light profile and names the way out', () => {
    expect(() => planProfile('light', { nodes: 2 })).toThrow(
      /no nodes; drop --nodes 2 or use --profile full/,
    );
    expect(planProfile('light', { nodes: 0 }).nodes).toBe(0);
  });

  it('rejects an unknown profile', () => {
    expect(() => planProfile('tiny' as Profile, {})).toThrow(
      /--profile must be one of full, light, got "tiny"/,
    );
  });
});
