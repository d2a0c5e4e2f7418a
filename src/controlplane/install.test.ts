import { describe, expect, it } from 'vitest';
import { defaultTypeConfigs } from '../api/type-configs.ts';
import { DEFAULTS_KEY, parseInstallRecord, planDefaultTypeConfigs } from './install.ts';

const DEFAULTS = ['configmaps', 'deployments.apps', 'secrets'];

describe('planDefaultTypeConfigs', () => {
  it('creates every default on a host that has no install record (first start)', () => {
    expect(planDefaultTypeConfigs(DEFAULTS, undefined)).toEqual({
      create: DEFAULTS,
      record: DEFAULTS,
    });
  });

  it('creates nothing once every default is recorded, so a type the user disabled stays disabled', () => {
    // deployments.apps was disabled (its FTC deleted): it is in the record, so it is not created.
    expect(planDefaultTypeConfigs(DEFAULTS, DEFAULTS)).toEqual({ create: [], record: DEFAULTS });
  });

  it('creates only a default that a newer fedctl added since the record was written', () => {
    expect(planDefaultTypeConfigs([...DEFAULTS, 'jobs.batch'], DEFAULTS)).toEqual({
      create: ['jobs.batch'],
      record: ['configmaps', 'deployments.apps', 'jobs.batch', 'secrets'],
    });
  });

  it('keeps names in the record that are no longer defaults', () => {
    expect(planDefaultTypeConfigs(['configmaps'], ['configmaps', 'old.example.com'])).toEqual({
      create: [],
      record: ['configmaps', 'old.example.com'],
    });
  });

  it('covers the shipped defaults by their FTC names', () => {
    const names = defaultTypeConfigs('ns').map((f) => f.metadata?.name ?? '');
    expect(names.length).toBeGreaterThan(3);
    expect(planDefaultTypeConfigs(names, names).create).toEqual([]);
  });
});

describe('parseInstallRecord', () => {
  it('reads one name per line, ignoring blanks and spaces', () => {
    expect(parseInstallRecord({ data: { [DEFAULTS_KEY]: 'configmaps\n  secrets \n\n' } })).toEqual([
      'configmaps',
      'secrets',
    ]);
  });

  it('is undefined without a record or without the key (a host set up by an older fedctl)', () => {
    expect(parseInstallRecord(undefined)).toBeUndefined();
    expect(parseInstallRecord({ data: { other: 'x' } })).toBeUndefined();
  });

  it('is an empty list for an empty record (nothing will be created again)', () => {
    expect(parseInstallRecord({ data: { [DEFAULTS_KEY]: '' } })).toEqual([]);
  });
});
