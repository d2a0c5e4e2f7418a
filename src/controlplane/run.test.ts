import { describe, expect, it } from 'vitest';
import { healthSettings, parseDuration } from './run.ts';

describe('healthSettings', () => {
  it("uses KubeFed's defaults when the KubeFedConfig says nothing", () => {
    expect(healthSettings(undefined)).toEqual({
      periodMs: 10_000,
      timeoutMs: 3000,
      thresholds: { failureThreshold: 3, successThreshold: 1 },
    });
  });

  it('reads period, timeout and thresholds from clusterHealthCheck', () => {
    expect(
      healthSettings({ period: '1s', timeout: '500ms', failureThreshold: 2, successThreshold: 4 }),
    ).toEqual({ periodMs: 1000, timeoutMs: 500, thresholds: { failureThreshold: 2, successThreshold: 4 } });
  });

  it('lets a fixed period (tests, flags) win over the KubeFedConfig', () => {
    expect(healthSettings({ period: '1m' }, 250).periodMs).toBe(250);
  });
});

describe('parseDuration', () => {
  it('reads Go durations and falls back on anything else', () => {
    expect(parseDuration('1m30s', 0)).toBe(90_000);
    expect(parseDuration('10x', 7)).toBe(7);
    expect(parseDuration(undefined, 7)).toBe(7);
  });
});
