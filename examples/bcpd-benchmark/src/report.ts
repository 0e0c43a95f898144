/**
 * Renders the benchmark's report from its run directory: `pnpm report [--out runs/full] [--report report]`
 * writes `REPORT.md` (every table and the findings), `results.json` (the numbers behind them) and the PNG
 * figures. Runs that did not finish are shown as such, never left out silently.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderLinePlot, type LineSeries, type RasterImage } from '@kd/plot';
import { writePng } from '@kd/plot/node';
import { writeJsonAtomic, type PairedDifference } from '@kd-example/common';
import { PACKAGE_DIRECTORY } from './benchmark';
import { ECE_BINS } from './metrics';
import { allLambdas, lambdaArm, studentArms, trainedTeacherArms } from './plan';
import {
  armLabel,
  correlationPoints,
  loadResults,
  summarise,
  type ArmResult,
  type BenchmarkResults,
  type Comparison,
  type PerSeed,
  type ProblemResults,
} from './results';

const percent = (value: number, digits = 2) => (Number.isFinite(value) ? (100 * value).toFixed(digits) : '—');
const fixed = (value: number, digits = 4) => (Number.isFinite(value) ? value.toFixed(digits) : '—');
const seconds = (value: number) => (value >= 120 ? `${(value / 60).toFixed(1)} min` : `${value.toFixed(0)} s`);

function meanStd(values: PerSeed, format: (value: number) => string): string {
  const summary = summarise(values);
  if (summary.n === 0) return 'not run';
  return `${format(summary.mean)} ± ${format(summary.std)}`;
}

function seedsCell(arm: ArmResult): string {
  return `${arm.accuracy.size}/${arm.planned}${arm.notFinished.length > 0 ? ` (${arm.notFinished.join(', ')})` : ''}`;
}

/** `d̄ ± s_d, t` with * when |t| exceeds the two-sided 95 % critical value. */
function differenceCell(d: PairedDifference, format: (value: number) => string): string {
  if (d.differences.length === 0) return 'no pair';
  const sign = d.mean >= 0 ? '+' : '−';
  const t = Number.isFinite(d.t) ? `, t = ${d.t.toFixed(2)}${d.significant ? ' *' : ''}` : '';
  return `${sign}${format(Math.abs(d.mean))} ± ${format(d.std)}${t}`;
}

const points = (value: number) => (100 * value).toFixed(2);
const nats = (value: number) => value.toFixed(4);

/** Plain sentences computed from the numbers: what the benchmark shows. */
function findings(results: BenchmarkResults): string[] {
  const lines: string[] = [];
  const lambdas = allLambdas(results.config).filter((lambda) => lambda > 0);
  for (const problem of results.problems) {
    const byLabel = (comparisons: Comparison[], label: string) => comparisons.find((row) => row.label === label)!;
    const teacherRows = lambdas.map((lambda) => ({
      lambda,
      d: byLabel(problem.teacherComparisons, `λ = ${lambda} − control`),
    }));
    const lower = teacherRows
      .filter((row) => row.d.bcpdError.significant && row.d.bcpdError.mean < 0)
      .map((row) => row.lambda);
    const higher = teacherRows
      .filter((row) => row.d.bcpdError.significant && row.d.bcpdError.mean > 0)
      .map((row) => row.lambda);
    const cmiUp = teacherRows.filter((row) => row.d.cmi.significant && row.d.cmi.mean > 0).map((row) => row.lambda);
    lines.push(
      `- **${problem.name}: does MCMI lower the teacher's BCPD error?** ` +
        (lower.length > 0
          ? `Yes for λ ∈ {${lower.join(', ')}} (paired t significant). `
          : 'No λ lowers it significantly. ') +
        (higher.length > 0 ? `It is significantly *higher* than the control's for λ ∈ {${higher.join(', ')}}. ` : '') +
        `Paired differences vs the control (nats): ${teacherRows.map((row) => `λ = ${row.lambda}: ${differenceCell(row.d.bcpdError, nats)}`).join('; ')}. ` +
        `The teacher CMI on the test sample rises significantly for λ ∈ {${cmiUp.join(', ') || 'none'}}.`,
    );
    const correlationText = problem.correlations
      .map(
        (row) =>
          `n = ${row.size}: r = ${fixed(row.trained.r, 2)} (within seed ${fixed(row.trained.withinSeedR, 2)}; with the oracle ${fixed(row.withOracle.r, 2)})`,
      )
      .join('; ');
    lines.push(
      `- **${problem.name}: does a lower teacher BCPD error predict a better student?** Pearson r between teacher BCPD error and student accuracy ` +
        `over the trained teachers' (teacher, seed) points (negative = lower error, better student): ${correlationText}.`,
    );
    const gaps = problem.students.map((row) => {
      const best = lambdas
        .map((lambda) => ({
          lambda,
          value: summarise(row.arms.find((arm) => arm.arm === lambdaArm(lambda))!.accuracy).mean,
        }))
        .filter((entry) => Number.isFinite(entry.value))
        .sort((a, b) => b.value - a.value)[0];
      const oracle = summarise(row.arms.find((arm) => arm.arm === 'oracle')!.accuracy).mean;
      const control = byLabel(row.comparisons, 'oracle − control');
      return best === undefined
        ? `n = ${row.size}: no MCMI student`
        : `n = ${row.size}: oracle ${percent(oracle)}% vs best MCMI (λ = ${best.lambda}) ${percent(best.value)}% (oracle − control, points: ${differenceCell(control.accuracy, points)})`;
    });
    lines.push(`- **${problem.name}: how far are MCMI students from oracle students?** ${gaps.join('; ')}.`);
  }
  return lines;
}

/** The Markdown of every table. */
export function renderMarkdown(results: BenchmarkResults): string {
  const { config } = results;
  const lines: string[] = [];
  const table = (header: string[], rows: string[][]) => {
    lines.push(
      `| ${header.join(' | ')} |`,
      `|${header.map(() => '---').join('|')}|`,
      ...rows.map((row) => `| ${row.join(' | ')} |`),
      '',
    );
  };
  lines.push(`# BCPD benchmark: report (config '${config.name}')`, '');
  lines.push(
    "Generated by `pnpm report` from the run directory; every number below is read from the runs' `outcome.json` and the problems' `problem.json`.",
    '',
  );

  lines.push('## Findings', '');
  lines.push(...findings(results), '');

  lines.push('## Setup', '');
  table(
    ['item', 'value'],
    [
      ...config.problems.map((problem) => [
        `problem '${problem.name}'`,
        `${problem.description}; parameter seed ${problem.spec.seed}`,
      ]),
      [
        'data',
        `per seed a fresh training pool of ${config.poolSize} samples; one test sample of ${config.testSize} per problem; inputs [N, 1, 1, d] float32, no augmentation`,
      ],
      [
        'teacher',
        `zoo mlp, hidden ${JSON.stringify(config.teacherHidden)}, cross-entropy (MLL), ${config.teacherEpochs} epochs, lr ${config.teacherLearningRate} cosine, batch ${config.batchSize}, SGD 0.9, wd 5e-4`,
      ],
      [
        'fine-tunes',
        `from each seed's MLL teacher, ${config.fineTuneEpochs} epochs, lr ${config.fineTuneLearningRate} cosine, CE − λ·CMI with fixed full-pass centroids, λ ∈ {0 (control), ${config.lambdas.join(', ')}}, collapse guard ${config.collapseGuard ? 'on' : 'off'}`,
      ],
      [
        'students',
        `zoo mlp, hidden ${JSON.stringify(config.studentHidden)}, ${config.distillationDescription}; the first n ∈ {${config.trainingSizes.join(', ')}} samples of the seed's pool, cycled to ${config.poolSize} samples per epoch, ${config.studentEpochs} epochs, lr ${config.studentLearningRate} cosine`,
      ],
      [
        'arms',
        'students of every teacher (MLL, control, each λ), of the oracle (logits log P*(y|x)), and without a teacher (cross-entropy only, same schedule)',
      ],
      [
        'seeds',
        `${config.seeds.join(', ')}: seed s draws pool s and initialises teacher s and the students of seed s (paired across arms)`,
      ],
      [
        'scores',
        `on the test sample, float64: accuracy; BCPD error E_x[KL(P*(·|x) ‖ P_T(·|x))] (nats); ECE (${ECE_BINS} bins); teachers' CMI (1/n) Σ KL(P_x ‖ Q_y) (eval mode, nats)`,
      ],
      [
        'backend',
        `${[...new Set(results.invocations.map((invocation) => invocation.backend))].join(', ') || '—'}; ${results.invocations.map((invocation) => invocation.workers).join('/') || '—'} worker process(es)`,
      ],
    ],
  );

  lines.push('## Wall time', '');
  lines.push(
    'Measured on the shared 2-core machine while other jobs ran (load average well above 2), so these are not idle-machine figures.',
    '',
  );
  table(
    ['part', 'wall time'],
    [
      ...results.problems.flatMap((problem) => [
        [`${problem.name}: teachers (sum over runs)`, seconds(problem.teacherSeconds)],
        [`${problem.name}: students (sum over runs)`, seconds(problem.studentSeconds)],
      ]),
      ['all runs (sum; workers overlap)', seconds(results.computeSeconds)],
      [
        `**elapsed: ${results.invocations.length} invocation(s) of \`pnpm benchmark\`**`,
        `**${seconds(results.elapsedSeconds)}**`,
      ],
    ],
  );

  lines.push('## Ground truth', '');
  lines.push(
    'Bayes accuracy = E_x[max_c P*(c|x)], a Monte-Carlo mean over fresh samples (± its standard error); the oracle row is P* itself scored like a teacher on the test sample.',
    '',
  );
  table(
    [
      'problem',
      'Bayes accuracy %',
      'Bayes error %',
      'oracle on the test sample: accuracy %',
      'BCPD error',
      'ECE',
      'CMI (nats)',
    ],
    results.problems.map((problem) => {
      const summary = problem.summary;
      if (summary === undefined) return [problem.name, 'not run', '', '', '', '', ''];
      return [
        problem.name,
        `${percent(summary.bayesAccuracy)} ± ${percent(summary.bayesAccuracyStandardError, 2)} (${summary.bayesSamples} samples)`,
        percent(1 - summary.bayesAccuracy),
        percent(summary.oracleTest.accuracy),
        summary.oracleTest.bcpdError.toExponential(1),
        fixed(summary.oracleTest.ece),
        fixed(summary.oracleTest.cmi),
      ];
    }),
  );

  lines.push('## Teachers', '');
  lines.push('Mean ± sample std over seeds, test sample.', '');
  table(
    ['problem', 'teacher', 'seeds', 'accuracy %', 'BCPD error (nats)', 'ECE', 'CMI (nats)'],
    results.problems.flatMap((problem) =>
      problem.teachers.map((arm) => [
        problem.name,
        armLabel(arm.arm),
        seedsCell(arm),
        meanStd(arm.accuracy, points),
        meanStd(arm.bcpdError, nats),
        meanStd(arm.ece, nats),
        meanStd(arm.cmi, nats),
      ]),
    ),
  );

  lines.push('## Teachers: paired differences', '');
  lines.push(
    'd = A − B per seed (the same MLL teacher underlies both fine-tunes of a seed): mean ± sample std of d, t = d̄ / (s_d / √n), ' +
      "* when |t| exceeds the two-sided 95 % critical value of Student's t with n − 1 degrees of freedom. Many comparisons are made: expect about one in twenty to be marked by chance.",
    '',
  );
  table(
    ['problem', 'A − B', 'BCPD error (nats)', 'CMI (nats)', 'accuracy (points)'],
    results.problems.flatMap((problem) =>
      problem.teacherComparisons.map((row) => [
        problem.name,
        row.label,
        differenceCell(row.bcpdError, nats),
        differenceCell(row.cmi, nats),
        differenceCell(row.accuracy, points),
      ]),
    ),
  );

  lines.push('## Students', '');
  lines.push('Mean ± sample std over seeds, test sample; n = training-set size.', '');
  table(
    ['problem', 'n', 'teacher', 'seeds', 'accuracy %', 'BCPD error (nats)', 'ECE'],
    results.problems.flatMap((problem) =>
      problem.students.flatMap((row) =>
        row.arms.map((arm) => [
          problem.name,
          String(row.size),
          armLabel(arm.arm),
          seedsCell(arm),
          meanStd(arm.accuracy, points),
          meanStd(arm.bcpdError, nats),
          meanStd(arm.ece, nats),
        ]),
      ),
    ),
  );

  lines.push('## Students: paired differences', '');
  lines.push(
    'd = A − B per seed between students of the same seed (same pool, initialisation and batch order), as for the teachers.',
    '',
  );
  table(
    ['problem', 'n', 'A − B', 'accuracy (points)', 'BCPD error (nats)'],
    results.problems.flatMap((problem) =>
      problem.students.flatMap((row) =>
        row.comparisons.map((comparison) => [
          problem.name,
          String(row.size),
          comparison.label,
          differenceCell(comparison.accuracy, points),
          differenceCell(comparison.bcpdError, nats),
        ]),
      ),
    ),
  );

  lines.push("## Does the teacher's BCPD error predict the student?", '');
  lines.push(
    'Pearson r between the teacher\'s BCPD error and its student\'s accuracy, one point per (teacher, seed); "within seed" subtracts each seed\'s mean from both coordinates first (so the pool and initialisation of a seed cancel); "with the oracle" adds the oracle\'s points (BCPD error 0).',
    '',
  );
  table(
    ['problem', 'n', 'r (trained teachers)', 'points', 'r within seed', 'r with the oracle', 'points'],
    results.problems.flatMap((problem) =>
      problem.correlations.map((row) => [
        problem.name,
        String(row.size),
        fixed(row.trained.r, 3),
        String(row.trained.n),
        fixed(row.trained.withinSeedR, 3),
        fixed(row.withOracle.r, 3),
        String(row.withOracle.n),
      ]),
    ),
  );

  lines.push('## Figures', '');
  lines.push(
    "- `teacher-bcpd-vs-lambda.png`: teachers' BCPD error (mean over seeds) vs λ (0 = the control), per problem, with the MLL teachers as flat lines.",
  );
  for (const problem of results.problems) {
    lines.push(
      `- \`student-accuracy-vs-teacher-bcpd-${problem.name}.png\`: ${problem.name}: each student's accuracy vs its teacher's BCPD error, one point per (teacher, seed), one colour per training-set size (oracle at 0).`,
    );
    lines.push(
      `- \`student-accuracy-vs-size-${problem.name}.png\`: ${problem.name}: students' accuracy (mean over seeds) vs log10 of the training-set size, per teacher, with the oracle students and the Bayes accuracy.`,
    );
  }
  lines.push('');
  return `${lines.join('\n')}\n`;
}

/** A scatter plot from the line renderer: a non-finite y between points breaks the line, so each point stands alone. */
function scatter(pointsOf: ReadonlyArray<readonly [number, number]>): Array<readonly [number, number]> {
  return pointsOf.flatMap((point) => [point, [point[0], Number.NaN] as const]);
}

async function writeFigures(results: BenchmarkResults, reportDir: string): Promise<string[]> {
  const written: string[] = [];
  const save = async (name: string, image: RasterImage) => {
    await writePng(join(reportDir, name), image);
    written.push(name);
  };
  const lambdas = allLambdas(results.config);
  const xRange = [0, Math.max(...lambdas)];

  const bcpdSeries: LineSeries[] = results.problems
    .flatMap((problem) => {
      const tuned = lambdas
        .map(
          (lambda) =>
            [lambda, summarise(problem.teachers.find((arm) => arm.arm === lambdaArm(lambda))!.bcpdError).mean] as const,
        )
        .filter(([, value]) => Number.isFinite(value));
      const mll = summarise(problem.teachers.find((arm) => arm.arm === 'mll')!.bcpdError).mean;
      return [
        { name: `${problem.name}: fine-tuned (0 = control)`, points: tuned },
        ...(Number.isFinite(mll)
          ? [{ name: `${problem.name}: MLL`, points: xRange.map((x) => [x, mll] as const) }]
          : []),
      ];
    })
    .filter((series) => series.points.length > 0);
  if (bcpdSeries.length > 0) {
    await save(
      'teacher-bcpd-vs-lambda.png',
      renderLinePlot({
        series: bcpdSeries,
        title: 'Teacher BCPD error vs λ',
        xLabel: 'λ (MCMI fine-tune; 0 = control)',
        yLabel: 'E_x KL(P* || P_T), nats (mean over seeds)',
      }),
    );
  }

  for (const problem of results.problems) {
    const trainedArms = trainedTeacherArms(results.config);
    const scatterSeries: LineSeries[] = problem.students
      .map((row) => ({
        name: `n = ${row.size}`,
        points: scatter(
          correlationPoints(problem.teachers, row.arms, [...trainedArms, 'oracle']).map(
            (point) => [point.teacherError, 100 * point.studentAccuracy] as const,
          ),
        ),
      }))
      .filter((series) => series.points.length > 0);
    if (scatterSeries.length > 0) {
      await save(
        `student-accuracy-vs-teacher-bcpd-${problem.name}.png`,
        renderLinePlot({
          series: scatterSeries,
          title: `${problem.name}: student accuracy vs teacher BCPD error`,
          xLabel: 'teacher BCPD error (nats; oracle = 0)',
          yLabel: 'student test accuracy %',
        }),
      );
    }
    const sizeSeries: LineSeries[] = studentArms(results.config)
      .map((arm) => ({
        name: armLabel(arm),
        points: problem.students
          .map(
            (row) =>
              [
                Math.log10(row.size),
                100 * summarise(row.arms.find((candidate) => candidate.arm === arm)!.accuracy).mean,
              ] as const,
          )
          .filter(([, value]) => Number.isFinite(value)),
      }))
      .filter((series) => series.points.length > 0);
    if (problem.summary !== undefined && sizeSeries.length > 0) {
      const sizes = results.config.trainingSizes.map(Math.log10);
      sizeSeries.push({
        name: 'Bayes accuracy',
        points: [Math.min(...sizes), Math.max(...sizes)].map((x) => [x, 100 * problem.summary!.bayesAccuracy] as const),
        color: [0, 0, 0],
      });
    }
    if (sizeSeries.length > 0) {
      const ys = sizeSeries.flatMap((series) => series.points.map(([, y]) => y));
      // Head-room above the curves keeps the legend (top right) off the points.
      const yRange = [Math.floor(Math.min(...ys) / 5) * 5 - 5, Math.ceil(Math.max(...ys) / 5) * 5 + 25] as const;
      await save(
        `student-accuracy-vs-size-${problem.name}.png`,
        renderLinePlot({
          series: sizeSeries,
          yRange,
          height: 480,
          title: `${problem.name}: student accuracy vs training-set size`,
          xLabel: 'log10(training-set size)',
          yLabel: 'student test accuracy % (mean over seeds)',
        }),
      );
    }
  }
  return written;
}

function resultsJson(results: BenchmarkResults): unknown {
  const arm = (row: ArmResult) => ({
    arm: row.arm,
    accuracy: Object.fromEntries(row.accuracy),
    bcpdError: Object.fromEntries(row.bcpdError),
    ece: Object.fromEntries(row.ece),
    cmi: Object.fromEntries(row.cmi),
    notFinished: row.notFinished,
    wallSeconds: row.wallSeconds,
  });
  return {
    config: results.config,
    problems: results.problems.map((problem: ProblemResults) => ({
      name: problem.name,
      summary: problem.summary,
      teachers: problem.teachers.map(arm),
      teacherComparisons: problem.teacherComparisons,
      students: problem.students.map((row) => ({
        size: row.size,
        arms: row.arms.map(arm),
        comparisons: row.comparisons,
      })),
      correlations: problem.correlations,
      teacherSeconds: problem.teacherSeconds,
      studentSeconds: problem.studentSeconds,
    })),
    invocations: results.invocations,
    elapsedSeconds: results.elapsedSeconds,
    computeSeconds: results.computeSeconds,
  };
}

/** Renders REPORT.md, results.json and the figures of the benchmark in `outDir` into `reportDir`. */
export async function renderReport({
  outDir,
  reportDir,
}: {
  outDir: string;
  reportDir: string;
}): Promise<{ markdown: string; files: string[] }> {
  const results = loadResults(outDir);
  mkdirSync(reportDir, { recursive: true });
  const markdown = renderMarkdown(results);
  const figures = await writeFigures(results, reportDir);
  writeJsonAtomic(join(reportDir, 'results.json'), resultsJson(results));
  writeFileSync(join(reportDir, 'REPORT.md'), markdown);
  return { markdown, files: ['REPORT.md', 'results.json', ...figures] };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2)[0] === '--' ? process.argv.slice(3) : process.argv.slice(2);
  const flag = (name: string) => {
    const index = argv.indexOf(`--${name}`);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  for (let index = 0; index < argv.length; index += 2) {
    if (!['--out', '--report'].includes(argv[index] as string) || argv[index + 1] === undefined) {
      throw new Error(
        `report: usage: pnpm report [--out <benchmark directory>] [--report <output directory>]; got '${argv.join(' ')}'`,
      );
    }
  }
  const outDir = resolve(flag('out') ?? join(PACKAGE_DIRECTORY, 'runs', 'full'));
  const reportDir = resolve(flag('report') ?? join(PACKAGE_DIRECTORY, 'report'));
  const { files } = await renderReport({ outDir, reportDir });
  process.stderr.write(`report: wrote ${files.join(', ')} to ${reportDir}\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  });
}
