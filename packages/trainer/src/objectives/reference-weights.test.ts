import { readFileSync } from 'node:fs';
import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { REFERENCE_WEIGHTS, listMethods, referenceObjectives } from './registry';

/** The rows of the README's method table: | `name` | summary | reads | options | β |. */
function readmeRows(): Map<string, { summary: string; reads: string; options: string; beta: string }> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const rows = new Map<string, { summary: string; reads: string; options: string; beta: string }>();
  const lines = readme.split('\n');
  const header = lines.indexOf('| method | summary | reads | options | RepDistiller β |');
  const end = lines.indexOf('', header);
  for (const line of lines.slice(header + 2, end)) {
    const match = /^\| `([A-Za-z0-9_-]+)` \|(.*)\|$/.exec(line);
    if (match === null) continue;
    const cells = match[2]!.split(' | ').map((cell) => cell.trim());
    const [summary, reads, options, beta] = cells as [string, string, string, string];
    rows.set(match[1]!, { summary, reads, options, beta });
  }
  return rows;
}

/** The reads column: `stages`, or `student pooled; teacher lastStage` when the sides differ, `logits` when none. */
function formatReads({ student, teacher }: { student: readonly string[]; teacher: readonly string[] }): string {
  const list = (names: readonly string[]) =>
    names.length === 0 ? 'logits' : names.map((name) => `\`${name}\``).join(', ');
  return student.join() === teacher.join() ? list(student) : `student ${list(student)}; teacher ${list(teacher)}`;
}

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
    expect(referenceObjectives('kd')).toEqual([
      { method: 'ce', weight: 0.1 },
      { method: 'kd', weight: 0.9 },
    ]);
    expect(referenceObjectives('at')).toEqual([
      { method: 'ce', weight: 1 },
      { method: 'at', weight: 1000 },
    ]);
    expect(referenceObjectives('dkd', { beta: 2 })).toEqual([
      { method: 'ce', weight: 1 },
      { method: 'dkd', weight: 1, options: { beta: 2 } },
    ]);
    expect(() => referenceObjectives('mimkd')).toThrow("referenceObjectives: 'mimkd' has no reference weights");
    expect(() => referenceObjectives('kdd' as never)).toThrow("referenceObjectives: unknown method 'kdd'");
  });

  it("are the README method table's β column", () => {
    for (const { name, referenceWeights: weights } of listMethods()) {
      const beta = readmeRows().get(name)?.beta;
      expect(beta, name).toBeDefined();
      if (name === 'ce') expect(beta).toBe('γ = 1 (0.1 with KD)');
      else if (name === 'kd') expect(beta).toBe(`α = ${weights!.alpha}`);
      else if (weights === undefined) expect(beta, name).toBe('–');
      else expect(beta!.split(' ')[0], name).toBe(String(weights.beta));
    }
  });
});

describeWithBackends('the README method table', () => {
  it('has one row per registered method, with its summary, the features it reads and its option keys', () => {
    const rows = readmeRows();
    const methods = listMethods();
    expect([...rows.keys()]).toEqual(methods.map(({ name }) => name));
    for (const method of methods) {
      const row = rows.get(method.name)!;
      expect(row.summary, method.name).toBe(method.summary);
      expect(row.reads, method.name).toBe(formatReads(method.reads));
      const keys = [...row.options.matchAll(/`([A-Za-z]+)`/g)].map((match) => match[1]);
      expect(keys, method.name).toEqual(Object.keys(method.options));
    }
  });
});
