/**
 * CI smoke test: the benchmark's whole code path (both problems, MLL teachers, the control and MCMI fine-tunes,
 * students of every teacher, of the oracle and without a teacher at every training-set size, the report with
 * every table and figure) at tiny size, one seed, cpu backend.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithBackends } from '@kd/test-utils';
import { afterAll, expect, it } from 'vitest';
import { parseBenchmarkArguments, runBenchmarkInProcess } from './benchmark';
import { SMOKE_BENCHMARK } from './config';
import { planBenchmark, studentArms, trainedTeacherArms } from './plan';
import { renderReport } from './report';
import { armLabel } from './results';
import { readOutcome } from './runner';

const outDir = mkdtempSync(join(tmpdir(), 'kd-bcpd-'));
const reportDir = join(outDir, 'report');
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describeWithBackends('bcpd benchmark (smoke)', (backend) => {
  it('runs every cell once, then a second invocation skips them all', async () => {
    const quiet = () => undefined;
    const first = await runBenchmarkInProcess({ config: SMOKE_BENCHMARK, outDir, backendName: backend, log: quiet });
    const plan = planBenchmark(SMOKE_BENCHMARK);
    // 2 problems × (MLL + control + 1 λ) teachers + 2 problems × 2 sizes × 5 student arms (3 teachers, oracle, none).
    expect(plan).toHaveLength(2 * 3 + 2 * 2 * 5);
    expect(first.ranRuns).toBe(plan.length);
    for (const run of plan) {
      const outcome = readOutcome(outDir, run.id);
      expect(outcome?.status, `${run.id}: ${outcome?.message ?? ''}`).toBe('finished');
      expect(outcome?.test?.bcpdError, run.id).toBeGreaterThan(0);
      if (run.kind === 'teacher') expect(outcome?.testCmi, run.id).toBeGreaterThan(0);
    }
    const second = await runBenchmarkInProcess({ config: SMOKE_BENCHMARK, outDir, backendName: backend, log: quiet });
    expect(second.ranRuns).toBe(0);
  }, 600_000);

  it('renders every table, row and figure of the report', async () => {
    const { markdown, files } = await renderReport({ outDir, reportDir });
    for (const heading of [
      '## Findings',
      '## Setup',
      '## Wall time',
      '## Ground truth',
      '## Teachers',
      '## Teachers: paired differences',
      '## Students',
      '## Students: paired differences',
      "## Does the teacher's BCPD error predict the student?",
      '## Figures',
    ]) {
      expect(markdown).toContain(heading);
    }
    const rows = markdown.split('\n').filter((line) => line.startsWith('| '));
    const has = (...cells: string[]) => rows.some((row) => cells.every((cell) => row.includes(`| ${cell} |`)));
    for (const problem of SMOKE_BENCHMARK.problems) {
      expect(
        rows.some((row) => row.startsWith(`| ${problem.name} | `) && row.includes('samples)')),
        `${problem.name} Bayes accuracy`,
      ).toBe(true);
      for (const arm of trainedTeacherArms(SMOKE_BENCHMARK))
        expect(has(problem.name, armLabel(arm), '1/1'), `${problem.name} teacher ${arm}`).toBe(true);
      for (const comparison of ['λ = 0.2 − control', 'control − MLL'])
        expect(has(problem.name, comparison), `${problem.name} ${comparison}`).toBe(true);
      for (const size of SMOKE_BENCHMARK.trainingSizes) {
        for (const arm of studentArms(SMOKE_BENCHMARK))
          expect(has(problem.name, String(size), armLabel(arm), '1/1'), `${problem.name} n ${size} ${arm}`).toBe(true);
        for (const comparison of ['oracle − control', 'oracle − λ = 0.2', 'MLL − no teacher'])
          expect(has(problem.name, String(size), comparison)).toBe(true);
      }
    }
    const figures = [
      'teacher-bcpd-vs-lambda.png',
      ...SMOKE_BENCHMARK.problems.flatMap((problem) => [
        `student-accuracy-vs-teacher-bcpd-${problem.name}.png`,
        `student-accuracy-vs-size-${problem.name}.png`,
      ]),
    ];
    for (const name of ['REPORT.md', 'results.json', ...figures]) {
      expect(files).toContain(name);
      expect(existsSync(join(reportDir, name)), name).toBe(true);
    }
  }, 600_000);

  it('rejects bad command lines with the flag named', () => {
    expect(() => parseBenchmarkArguments(['--config', 'huge'])).toThrow(/--config must be one of full, smoke/);
    expect(() => parseBenchmarkArguments(['--workers', '0'])).toThrow(/--workers must be a positive integer/);
    expect(() => parseBenchmarkArguments(['--backend', 'gpu'])).toThrow(/--backend must be one of/);
    expect(() => parseBenchmarkArguments(['--colour', 'red'])).toThrow(/unknown flag --colour/);
    expect(() => parseBenchmarkArguments(['--workers', '2', '--worker-index', '2'])).toThrow(
      /--worker-index must be an integer in \[0, 2\)/,
    );
  });
});
