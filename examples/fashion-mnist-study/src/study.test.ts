/**
 * CI smoke test: the study's whole code path (MLL teacher, control and MCMI fine-tunes, KD/VID/ICD/no-teacher
 * students in every setting, the report with its tables and figures) on a tiny slice, one seed, cpu backend.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithBackends } from '@kd/test-utils';
import { afterAll, expect, it } from 'vitest';
import { SMOKE_STUDY } from './config';
import { readOutcome } from './outcome';
import { fineTuneId, MLL_TEACHER_ID, planStudy, studentId } from './plan';
import { renderReport } from './report';
import { runDirectory } from './runner';
import { parseStudyArguments, runStudyInProcess } from './study';

const outDir = mkdtempSync(join(tmpdir(), 'kd-fm-study-'));
const reportDir = join(outDir, 'report');
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describeWithBackends('fashion-mnist study (smoke)', (backend) => {
  it('runs every cell, then a second invocation skips them all', async () => {
    const quiet = () => undefined;
    const first = await runStudyInProcess({ config: SMOKE_STUDY, outDir, backendName: backend, log: quiet });
    const plan = planStudy(SMOKE_STUDY);
    expect(first.ranRuns).toBe(plan.length);
    for (const run of plan) {
      const outcome = readOutcome(runDirectory(outDir, run.id));
      expect(outcome?.status, `${run.id}: ${outcome?.message ?? ''}`).toBe('finished');
    }
    const teacher = readOutcome(runDirectory(outDir, fineTuneId(0.2)));
    expect(teacher?.teacherCmi).toBeGreaterThan(0);
    const mcmiStudent = readOutcome(runDirectory(outDir, studentId('full', 'kd', 'mcmi', 1)));
    expect(mcmiStudent?.teacherLambda).toBe(0.2);
    const second = await runStudyInProcess({ config: SMOKE_STUDY, outDir, backendName: backend, log: quiet });
    expect(second.ranRuns).toBe(0);
  }, 600_000);

  it('renders every table and row of the report', async () => {
    const { markdown, files } = await renderReport({ outDir, reportDir });
    for (const heading of ['## Setup', '## Wall time', '## Teachers', '## Students', '## Paired differences', '## Zero-shot', '## Figures']) {
      expect(markdown).toContain(heading);
    }
    const rows = markdown.split('\n').filter((line) => line.startsWith('| '));
    const has = (...cells: string[]) => rows.some((row) => cells.every((cell) => row.includes(`| ${cell} |`)));
    // Teachers: MLL, control and each λ.
    expect(has('MLL')).toBe(true);
    expect(has('control (λ = 0)')).toBe(true);
    expect(rows.some((row) => row.startsWith('| MCMI λ = 0.2 ← students |'))).toBe(true);
    // Students: every method × setting × teacher, one seed each.
    for (const setting of SMOKE_STUDY.settings) {
      for (const method of setting.methods) {
        const teachers = method === 'none' ? ['no teacher'] : ['MLL', 'control (λ = 0)', 'MCMI (λ = 0.2)'];
        for (const teacher of teachers) expect(has(setting.name, method, teacher, '1/1'), `${setting.name}/${method}/${teacher}`).toBe(true);
        if (method === 'none') continue;
        for (const comparison of ['MCMI − MLL', 'MCMI − control', 'control − MLL']) {
          expect(has(setting.name, method, comparison), `${setting.name}/${method}/${comparison}`).toBe(true);
        }
      }
    }
    // Zero-shot: a column per removed class.
    expect(markdown).toContain('class 9 (Ankle boot) %');
    expect(markdown).toContain('class 7 (Sneaker) %');
    for (const name of ['REPORT.md', 'results.json', 'accuracy-vs-fraction.png', 'zero-shot-zero-1.png', 'zero-shot-zero-2.png',
      'teacher-cmi-vs-lambda.png', 'teacher-accuracy-vs-lambda.png', 'eigen-cam.png']) {
      expect(files).toContain(name);
      expect(existsSync(join(reportDir, name)), name).toBe(true);
    }
    expect(existsSync(join(runDirectory(outDir, MLL_TEACHER_ID), 'weights', 'model.json'))).toBe(true);
  }, 600_000);

  it('rejects bad command lines with the flag named', () => {
    expect(() => parseStudyArguments(['--config', 'huge'])).toThrow(/--config must be one of full, smoke/);
    expect(() => parseStudyArguments(['--workers', '0'])).toThrow(/--workers must be a positive integer/);
    expect(() => parseStudyArguments(['--deadline', 'soon'])).toThrow(/--deadline must be an ISO date-time/);
    expect(() => parseStudyArguments(['--colour', 'red'])).toThrow(/unknown flag --colour/);
  });
});
