/**
 * CI smoke test: the study's whole code path (MLL teacher, control and MCMI fine-tunes, KD/VID/ICD/no-teacher
 * students in every setting, the report with its tables and figures) on a tiny slice, one seed, cpu backend.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseQueueUrl, readSweepStatus, type SweepStatus } from '@kd-example/common/sweep-queue';
import { describeWithBackends } from '@kd/test-utils';
import { findRedisServer, startRedisServer } from '@kd/test-utils/redis-server';
import { afterAll, expect, it } from 'vitest';
import { SMOKE_STUDY } from './config';
import { readOutcome } from './outcome';
import { fineTuneId, MLL_TEACHER_ID, planStudy, studentId } from './plan';
import { QUEUE_NAME, enqueueStudy, startStudyWorker, studyRuns, validateStudyPayload } from './queue';
import { renderReport } from './report';
import { runDirectory } from './runner';
import { parseStudyArguments, runStudyInProcess } from './study';

const outDir = mkdtempSync(join(tmpdir(), 'kd-fm-study-'));
const reportDir = join(outDir, 'report');
const queueRoot = mkdtempSync(join(tmpdir(), 'kd-fm-queue-'));
afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
  rmSync(queueRoot, { recursive: true, force: true });
});

const hasRedis = findRedisServer() !== undefined;
if (!hasRedis)
  console.warn(
    'fashion-mnist study queue test: redis-server is not installed (apt-get install redis-server); it is skipped',
  );

/** An outcome without its wall-clock fields. */
function outcomeFigures(directory: string): unknown {
  return JSON.parse(readFileSync(join(directory, 'outcome.json'), 'utf8'), (key, value) =>
    ['wallSeconds', 'finishedAt', 'seconds', 'imagesPerSecond', 'backend'].includes(key) ? undefined : value,
  );
}

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
    for (const heading of [
      '## Setup',
      '## Wall time',
      '## Teachers',
      '## Students',
      '## Paired differences',
      '## Zero-shot',
      '## Figures',
    ]) {
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
        for (const teacher of teachers)
          expect(has(setting.name, method, teacher, '1/1'), `${setting.name}/${method}/${teacher}`).toBe(true);
        if (method === 'none') continue;
        for (const comparison of ['MCMI − MLL', 'MCMI − control', 'control − MLL']) {
          expect(has(setting.name, method, comparison), `${setting.name}/${method}/${comparison}`).toBe(true);
        }
      }
    }
    // Zero-shot: a column per removed class.
    expect(markdown).toContain('class 9 (Ankle boot) %');
    expect(markdown).toContain('class 7 (Sneaker) %');
    for (const name of [
      'REPORT.md',
      'results.json',
      'accuracy-vs-fraction.png',
      'zero-shot-zero-1.png',
      'zero-shot-zero-2.png',
      'teacher-cmi-vs-lambda.png',
      'teacher-accuracy-vs-lambda.png',
      'eigen-cam.png',
    ]) {
      expect(files).toContain(name);
      expect(existsSync(join(reportDir, name)), name).toBe(true);
    }
    expect(existsSync(join(runDirectory(outDir, MLL_TEACHER_ID), 'weights', 'model.json'))).toBe(true);
  }, 600_000);

  it.skipIf(!hasRedis)(
    'through the queue, two workers retrain removed runs after their teachers, with the same outcomes',
    async () => {
      // A copy of the finished study with a fine-tune and three students removed (one of them taught by that
      // fine-tune): the workers must find every other run done and retrain exactly these, in dependency order.
      const studyDir = join(queueRoot, SMOKE_STUDY.name);
      cpSync(outDir, studyDir, { recursive: true });
      const removed = [
        fineTuneId(0.2),
        studentId('full', 'kd', 'mcmi', 1),
        studentId('full', 'vid', 'mll', 1),
        studentId('zero-1', 'none', 'none', 1),
      ];
      for (const id of removed) rmSync(runDirectory(studyDir, id), { recursive: true, force: true });
      const redis = await startRedisServer();
      try {
        const address = parseQueueUrl(redis.url(0));
        const first = await enqueueStudy({ config: SMOKE_STUDY, address, attempts: 2, backoffSeconds: 1 });
        expect(first.added).toHaveLength(planStudy(SMOKE_STUDY).length);
        expect((await enqueueStudy({ config: SMOKE_STUDY, address })).added).toEqual([]);
        const lines: string[] = [];
        const log = (line: string) => void lines.push(line);
        const workers = [0, 1].map((index) =>
          startStudyWorker({ address, runsDirectory: queueRoot, stallSeconds: 10, name: `w${index}`, log }),
        );
        let status: SweepStatus | undefined;
        const deadline = Date.now() + 300_000;
        try {
          while (
            !(status = await readSweepStatus({ address, queueName: QUEUE_NAME })).done &&
            status.summary.failed === 0 &&
            Date.now() < deadline
          ) {
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        } finally {
          await Promise.all(workers.map((worker) => worker.stop()));
        }
        const detail = `${JSON.stringify(status!.runs.filter((run) => run.state !== 'finished'))}\n${lines.slice(-40).join('\n')}`;
        expect(status!.summary, detail).toMatchObject({ failed: 0, finished: planStudy(SMOKE_STUDY).length });
        const trained = status!.runs
          .filter((run) => run.skipped === false)
          .map((run) => run.name)
          .sort();
        expect(trained, detail).toEqual(removed.map((id) => `smoke/${id}`).sort());
        for (const id of removed)
          expect(outcomeFigures(runDirectory(studyDir, id)), id).toEqual(outcomeFigures(runDirectory(outDir, id)));
        expect((workers[0]!.ran.get(studyDir) ?? 0) + (workers[1]!.ran.get(studyDir) ?? 0)).toBe(removed.length);
      } finally {
        await redis.stop();
      }
      // A job is checked against this code's plan: a changed config or run is refused.
      const [teacher] = studyRuns(SMOKE_STUDY);
      expect(validateStudyPayload(teacher!.payload).name).toBe('smoke/teachers/mll');
      expect(() =>
        validateStudyPayload({ ...teacher!.payload, study: { ...teacher!.payload.study, teacherEpochs: 1000 } }),
      ).toThrow("study differs from this worker's 'smoke' config");
      expect(() =>
        validateStudyPayload({ ...teacher!.payload, run: { ...teacher!.payload.run, dependsOn: ['x'] } }),
      ).toThrow("run 'teachers/mll' differs from the plan of the 'smoke' study");
      expect(() => validateStudyPayload({ ...teacher!.payload, config: 'huge' })).toThrow(
        'config must be one of full, smoke; got "huge"',
      );
      expect(() => validateStudyPayload({ ...teacher!.payload, runs: 'x' })).toThrow(
        "validateStudyPayload: unknown option 'runs' in the job payload, did you mean 'run'? (known options: config, study, run)",
      );
    },
    600_000,
  );

  it('rejects bad command lines with the flag named', () => {
    expect(() => parseStudyArguments(['--config', 'huge'])).toThrow(/--config must be one of full, smoke/);
    expect(() => parseStudyArguments(['--workers', '2'])).toThrow(/unknown flag --workers/);
    expect(() => parseStudyArguments(['--queue', 'localhost'])).toThrow(/--queue must be a redis/);
    expect(() => parseStudyArguments(['--queue', 'redis://h:1/0', '--out', 'x'])).toThrow(
      /with --queue, the study is only enqueued/,
    );
    expect(() => parseStudyArguments(['--deadline', 'soon'])).toThrow(/--deadline must be an ISO date-time/);
    expect(() => parseStudyArguments(['--colour', 'red'])).toThrow(/unknown flag --colour/);
  });
});
