import { readFileSync } from 'node:fs';
import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { METHOD_NAMES, REFERENCE_WEIGHTS, referenceObjectives } from './registry';

describeWithBackends('reference weights', () => {
  it("equal RepDistiller's run_cifar_distill.sh (and mdistiller's DKD, ICD's authors')", () => {
    // -r (γ), -a (α), -b (β) of each line of the script.
    expect(REFERENCE_WEIGHTS).toEqual({
      ce: { gamma: 1, alpha: 0, beta: 0 },
      kd: { gamma: 0.1, alpha: 0.9, beta: 0 },
      dkd: { gamma: 1, alpha: 0, beta: 1 },
      at: { gamma: 1, alpha: 0, beta: 1000 },
      sp: { gamma: 1, alpha: 0, beta: 3000 },
      rkd: { gamma: 1, alpha: 0, beta: 1 },
      pkt: { gamma: 1, alpha: 0, beta: 30000 },
      nst: { gamma: 1, alpha: 0, beta: 50 },
      ab: { gamma: 1, alpha: 0, beta: 0 },
      fsp: { gamma: 1, alpha: 0, beta: 0 },
      fitnet: { gamma: 1, alpha: 0, beta: 100 },
      vid: { gamma: 1, alpha: 0, beta: 1 },
      cc: { gamma: 1, alpha: 0, beta: 0.02 },
      crd: { gamma: 1, alpha: 0, beta: 0.8 },
      icd: { gamma: 1, alpha: 0, beta: 1 },
      ft: { gamma: 1, alpha: 0, beta: 200 },
    });
  });

  it('build the reference objective lists', () => {
    expect(referenceObjectives('kd')).toEqual([{ method: 'ce', weight: 0.1 }, { method: 'kd', weight: 0.9 }]);
    expect(referenceObjectives('at')).toEqual([{ method: 'ce', weight: 1 }, { method: 'at', weight: 1000 }]);
    expect(referenceObjectives('dkd', { beta: 2 })).toEqual([{ method: 'ce', weight: 1 }, { method: 'dkd', weight: 1, options: { beta: 2 } }]);
    expect(() => referenceObjectives('mimkd')).toThrow("referenceObjectives: 'mimkd' has no reference weights");
    expect(() => referenceObjectives('kdd')).toThrow("referenceObjectives: unknown method 'kdd'");
  });

  it("are the README method table's β column", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const method of METHOD_NAMES) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${method}\` |`));
      expect(row, method).toBeDefined();
      const beta = row!.split('|').at(-2)!.trim();
      const weights = REFERENCE_WEIGHTS[method];
      if (method === 'ce') expect(beta).toBe('γ = 1 (0.1 with KD)');
      else if (method === 'kd') expect(beta).toBe(`α = ${weights!.alpha}`);
      else if (weights === undefined) expect(beta, method).toBe('–');
      else expect(beta.split(' ')[0], method).toBe(String(weights.beta));
    }
  });
});
