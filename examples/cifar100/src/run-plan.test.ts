import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { parseRunCommand, COMMANDS } from './cli';
import { runCommandLine } from './main';
import { STANDARD_PAIRS, ZERO_SHOT_CIFAR10_NORMALIZATION, getPreset } from './presets';
import { runPlan } from './run-plan';

const trainingCommands = COMMANDS.filter(
  (command) => !['eigencam', 'sweep', 'worker', 'sweep-status'].includes(command),
);

/** What `--print-config` writes, parsed; the data directory does not exist, so nothing can be loaded. */
async function printedConfig(argv: string[]): Promise<Record<string, unknown>> {
  const printed: string[] = [];
  const outcome = await runCommandLine([...argv, '--print-config', '--data-dir', '/nonexistent/kd-data'], {
    log: () => undefined,
    print: (text) => void printed.push(text),
  });
  expect(outcome).toBeUndefined();
  expect(printed).toHaveLength(1);
  return JSON.parse(printed[0]!) as Record<string, unknown>;
}

describeWithBackends('run plan and --print-config', () => {
  it("distill uses RepDistiller's run_cifar_distill.sh weights for every method", () => {
    const expected: Record<string, Array<[string, number]>> = {
      kd: [
        ['ce', 0.1],
        ['kd', 0.9],
      ],
      fitnet: [
        ['ce', 1],
        ['fitnet', 100],
      ],
      at: [
        ['ce', 1],
        ['at', 1000],
      ],
      sp: [
        ['ce', 1],
        ['sp', 3000],
      ],
      cc: [
        ['ce', 1],
        ['cc', 0.02],
      ],
      vid: [
        ['ce', 1],
        ['vid', 1],
      ],
      rkd: [
        ['ce', 1],
        ['rkd', 1],
      ],
      pkt: [
        ['ce', 1],
        ['pkt', 30000],
      ],
      nst: [
        ['ce', 1],
        ['nst', 50],
      ],
      ft: [
        ['ce', 1],
        ['ft', 200],
      ],
      crd: [
        ['ce', 1],
        ['crd', 0.8],
      ],
      ab: [
        ['ce', 1],
        ['ab', 0],
      ],
      fsp: [
        ['ce', 1],
        ['fsp', 0],
      ],
      icd: [
        ['ce', 1],
        ['icd', 1],
      ],
      dkd: [
        ['ce', 1],
        ['dkd', 1],
      ],
    };
    for (const [method, weights] of Object.entries(expected)) {
      const objectives = runPlan('distill', parseRunCommand(['distill', '--method', method]).config).trainer
        .objectives!;
      expect(
        objectives.map((objective) => [objective.method, objective.weight]),
        method,
      ).toEqual(weights);
    }
    // Flags still override, and a method without reference weights needs --beta.
    const custom = runPlan(
      'distill',
      parseRunCommand(['distill', '--method', 'at', '--beta', '500', '--alpha', '0.5']).config,
    ).trainer.objectives!;
    expect(custom.map((objective) => [objective.method, objective.weight])).toEqual([
      ['ce', 1],
      ['kd', 0.5],
      ['at', 500],
    ]);
    expect(() => parseRunCommand(['distill', '--method', 'mimkd'])).toThrow('--method mimkd has no reference weight');
    expect(
      runPlan(
        'distill',
        parseRunCommand(['distill', '--method', 'mimkd', '--beta', '2']).config,
      ).trainer.objectives!.at(-1),
    ).toEqual({ method: 'mimkd', weight: 2 });
  });

  it("DKD gets mdistiller's per-pair β, CE weight 1 and the trainer's warm-up", () => {
    const betas = Object.fromEntries(
      STANDARD_PAIRS.map(([teacher, student]) => {
        const objectives = runPlan(
          'distill',
          parseRunCommand(['distill', '--preset', `${teacher}-${student}`, '--method', 'dkd']).config,
        ).trainer.objectives!;
        expect(objectives[0]).toEqual({ method: 'ce', weight: 1 });
        return [`${teacher}-${student}`, (objectives[1]!.options as { beta: number }).beta];
      }),
    );
    expect(betas).toEqual({
      'resnet32x4-resnet8x4': 8,
      'wrn40_2-wrn16_2': 6,
      'resnet56-resnet20': 2,
      'resnet110-resnet20': 2,
      'resnet110-resnet32': 2,
      'vgg13-vgg8': 6,
      'vgg13-mobilenetv2': 6,
      'resnet50-mobilenetv2': 8,
      'resnet50-vgg8': 8,
      'resnet32x4-shufflev1': 8,
      'resnet32x4-shufflev2': 8,
      'wrn40_2-shufflev1': 8,
      'wrn40_2-wrn40_1': 6,
    });
  });

  it("zero-shot presets normalise CIFAR-10 with the MCMI authors' std and mask per batch", () => {
    const { config } = parseRunCommand(['zero-shot', '--preset', 'zero-shot-9-7']);
    const plan = runPlan('zero-shot', config);
    expect(plan.trainer.normalization).toEqual({ mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] });
    expect(ZERO_SHOT_CIFAR10_NORMALIZATION.std).toEqual([0.2023, 0.1994, 0.201]);
    expect(plan.data.zeroShot).toEqual({ omittedClasses: [9, 7], protocol: 'mask-batches' });
    expect(getPreset('resnet56-resnet20').normalization.std).toEqual([0.2675, 0.2565, 0.2761]);
  });

  it('--print-config prints the resolved configuration of every training command as JSON, loading nothing', async () => {
    for (const command of trainingCommands) {
      const argv =
        command === 'few-shot'
          ? [command, '--preset', 'few-shot-5']
          : command === 'zero-shot'
            ? [command, '--preset', 'zero-shot-9']
            : [command];
      const printed = await printedConfig(argv);
      expect(printed.command, command).toBe(command);
      expect(printed.trainer, command).toBeDefined();
    }
    const at = await printedConfig(['distill', '--method', 'at']);
    expect(at.trainer).toMatchObject({
      epochs: 240,
      batchSize: 64,
      learningRate: 0.05,
      schedule: { kind: 'step', milestones: [150, 180, 210], decayFactor: 0.1 },
    });
    expect((at.trainer as { objectives: unknown }).objectives).toEqual([
      { method: 'ce', weight: 1 },
      { method: 'at', weight: 1000 },
    ]);
    expect(at.models).toMatchObject({
      teacher: { architecture: 'resnet32x4' },
      student: { architecture: 'resnet8x4' },
    });
    const crd = await printedConfig(['distill', '--method', 'crd']);
    expect((crd.trainer as { objectives: unknown }).objectives).toEqual([
      { method: 'ce', weight: 1 },
      { method: 'crd', weight: 0.8 },
    ]);
    const dkd = await printedConfig(['distill', '--method', 'dkd']);
    expect((dkd.trainer as { objectives: unknown }).objectives).toEqual([
      { method: 'ce', weight: 1 },
      { method: 'dkd', weight: 1, options: { beta: 8 } },
    ]);
    const fewShot = await printedConfig(['few-shot', '--preset', 'few-shot-5']);
    expect(fewShot.data).toMatchObject({
      fewShot: { fraction: 0.05, mode: 'head', trainSamples: 2500, epochLength: 50000 },
    });
    expect(fewShot.trainer).toMatchObject({ epochLength: 50000 });
    const mcmi = await printedConfig(['finetune-mcmi']);
    expect(mcmi.trainer).toMatchObject({ epochs: 20, learningRate: 0.05, schedule: { kind: 'cosine' }, lambda: 0.25 });
  });
});
