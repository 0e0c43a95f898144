import { describeWithBackends } from '@kd/test-utils';
import { expect, it } from 'vitest';
import { parseCommandLine, parseRunCommand, stepArguments, usage } from './cli';
import { PRESETS, STANDARD_PAIRS, SWEEPS, getPreset, scaleMilestones } from './presets';

describeWithBackends('parseCommandLine', () => {
  it('applies the preset, then the flags', () => {
    const { command, config } = parseRunCommand([
      'distill',
      '--preset',
      'vgg13-mobilenetv2',
      '--epochs',
      '100',
      '--seed',
      '3',
      '--out-dir',
      'o',
      '--data-dir',
      'd',
      '--method',
      'crd',
    ]);
    expect(command).toBe('distill');
    expect(config.teacher).toBe('vgg13');
    expect(config.student).toBe('mobilenetv2');
    expect(config.studentLearningRate).toBe(0.01);
    expect(config.epochs).toBe(100);
    // 150/180/210 of 240 → 62.5/75/87.5 of 100, rounded
    expect(config.milestones).toEqual([63, 75, 88]);
    expect(config.seed).toBe(3);
    expect(config.method).toBe('crd');
    expect(config.dataDir).toBe('d');
  });

  it('--epochs and --lr set the stage the command trains', () => {
    expect(parseRunCommand(['finetune-mcmi', '--epochs', '5', '--lr', '0.02']).config).toMatchObject({
      mcmiEpochs: 5,
      mcmiLearningRate: 0.02,
      epochs: 240,
    });
    expect(parseRunCommand(['transfer', '--epochs', '12']).config).toMatchObject({
      transferEpochs: 12,
      transferMilestones: [3, 6, 9],
    });
    expect(parseRunCommand(['train-teacher', '--lr', '0.1']).config).toMatchObject({
      teacherLearningRate: 0.1,
      studentLearningRate: 0.05,
    });
  });

  it('rejects bad input with a message naming the flag', () => {
    expect(() => parseRunCommand(['teach'])).toThrow(/unknown command 'teach'; commands: train-teacher/);
    expect(() => parseRunCommand(['distill', '--epochs', 'ten'])).toThrow(
      "--epochs must be a decimal number, got 'ten'",
    );
    // Number() reads all of these as numbers; a flag must be written in decimal.
    for (const text of [
      '0x2',
      '0X2',
      '0b10',
      '0o7',
      ' 2',
      '2 ',
      '1_000',
      'Infinity',
      '+Infinity',
      '',
      '.',
      '1e',
      '+',
    ]) {
      expect(() => parseRunCommand(['distill', '--epochs', text]), text).toThrow(
        `--epochs must be a decimal number, got '${text}'`,
      );
    }
    expect(() => parseRunCommand(['distill', '--lr', '0x1p-3'])).toThrow("--lr must be a decimal number, got '0x1p-3'");
    expect(
      parseRunCommand(['distill', '--epochs', '2e1', '--lr', '.05', '--weight-decay', '5E-4']).config,
    ).toMatchObject({ epochs: 20, studentLearningRate: 0.05, weightDecay: 5e-4 });
    expect(() => parseRunCommand(['distill', '--epochs', '2.5'])).toThrow('--epochs must be an integer, got 2.5');
    expect(() => parseRunCommand(['distill', '--batch-size', '0'])).toThrow('--batch-size must be > 0, got 0');
    expect(() => parseRunCommand(['distill', '--backend', 'gpu'])).toThrow(
      "--backend must be one of auto, tensorflow, wasm, cpu; got 'gpu'",
    );
    expect(() => parseRunCommand(['distill', '--preset', 'resnet18'])).toThrow(
      /unknown preset 'resnet18'; known presets: resnet32x4-resnet8x4/,
    );
    expect(() => parseRunCommand(['distill', '--method', 'kdd'])).toThrow(/--method must be one of .*crd/);
    expect(() => parseRunCommand(['distill', '--bogus'])).toThrow(/distill: Unknown option '--bogus'/);
    expect(() => parseRunCommand(['train-teacher', '--fraction', '0.5'])).toThrow(
      'train-teacher: --fraction does not apply to this command',
    );
    expect(() => parseRunCommand(['few-shot', '--fraction', '1.5'])).toThrow('--fraction must be <= 1, got 1.5');
    expect(() => parseRunCommand(['few-shot', '--preset', 'wrn40_2-wrn16_2'])).toThrow(
      /has no few-shot fraction; pass --fraction/,
    );
    expect(() => parseRunCommand(['zero-shot', '--omit', '9,9'])).toThrow('--omit lists a class twice');
    expect(() => parseRunCommand(['zero-shot', '--omit', '10'])).toThrow('--omit must be <= 9, got 10');
    expect(() => parseRunCommand(['zero-shot', '--preset', 'tiny', '--omit', '1'])).toThrow(/runs on CIFAR-10/);
    expect(() => parseRunCommand(['distill', '--run-name', '../x'])).toThrow(/--run-name must use only letters/);
    expect(() => parseRunCommand(['distill', '--teacher-model', 'resnet9'])).toThrow(/--teacher-model must be one of/);
    expect(() => parseRunCommand(['sweep'])).toThrow('sweep: pass --presets a,b,c or --sweep');
    expect(() => parseRunCommand(['sweep', '--presets', 'tiny,nope'])).toThrow(/unknown preset 'nope'/);
    expect(() => parseRunCommand(['distill', 'extra'])).toThrow("distill: unexpected argument 'extra'");
  });

  it('a sweep passes on only the flags each step accepts', () => {
    const { config } = parseRunCommand([
      'sweep',
      '--sweep',
      'few-shot',
      '--epochs',
      '2',
      '--allow-collapse',
      '--method',
      'crd',
    ]);
    expect(config.sweepPresets).toEqual(['few-shot-5', 'few-shot-10', 'few-shot-25', 'few-shot-50', 'few-shot-75']);
    expect(stepArguments('train-teacher', 'few-shot-5', config.flags)).toEqual([
      'train-teacher',
      '--preset',
      'few-shot-5',
      '--epochs',
      '2',
    ]);
    expect(stepArguments('finetune-mcmi', 'few-shot-5', config.flags)).toEqual([
      'finetune-mcmi',
      '--preset',
      'few-shot-5',
      '--epochs',
      '2',
      '--allow-collapse',
    ]);
    expect(stepArguments('few-shot', 'few-shot-5', config.flags)).toEqual([
      'few-shot',
      '--preset',
      'few-shot-5',
      '--epochs',
      '2',
      '--method',
      'crd',
    ]);
  });

  it('--help anywhere asks for help instead of running', () => {
    expect(parseCommandLine([])).toEqual({ kind: 'help', command: undefined });
    expect(parseCommandLine(['--help'])).toEqual({ kind: 'help', command: undefined });
    expect(parseCommandLine(['distill', '--epochs', '3', '--help'])).toEqual({ kind: 'help', command: 'distill' });
  });

  it('help lists every command and preset', () => {
    const text = usage();
    for (const preset of PRESETS) expect(text).toContain(preset.name);
    expect(usage('transfer')).toContain('--target <value>');
  });
});

describeWithBackends('presets', () => {
  it('hold the reference recipes', () => {
    expect(STANDARD_PAIRS).toHaveLength(13);
    expect(SWEEPS.pairs).toHaveLength(13);
    const pair = getPreset('resnet32x4-resnet8x4');
    expect(pair).toMatchObject({
      epochs: 240,
      batchSize: 64,
      weightDecay: 5e-4,
      milestones: [150, 180, 210],
      teacherLearningRate: 0.05,
      studentLearningRate: 0.05,
      mcmiLambda: 0.25,
      mcmiEpochs: 20,
      mcmiLearningRate: 0.05,
      gamma: 0.1,
      alpha: 0.9,
      beta: 0,
      temperature: 4,
      dkdBeta: 8,
      transferEpochs: 120,
      transferLearningRate: 0.05,
      transferMilestones: [30, 60, 90],
    });
    for (const student of ['shufflev1', 'shufflev2', 'mobilenetv2']) {
      expect(
        PRESETS.filter((preset) => preset.student === student).every((preset) => preset.studentLearningRate === 0.01),
      ).toBe(true);
    }
    expect(SWEEPS['few-shot']!.map((name) => getPreset(name).fewShotFraction)).toEqual([0.05, 0.1, 0.25, 0.5, 0.75]);
    expect(SWEEPS['zero-shot']!.map((name) => getPreset(name).omittedClasses)).toEqual([
      [9],
      [9, 7],
      [9, 7, 5],
      [9, 7, 5, 3, 1],
      [9, 7, 5, 3, 1, 0],
    ]);
    expect(SWEEPS['zero-shot']!.every((name) => getPreset(name).dataset === 'cifar10')).toBe(true);
    expect(SWEEPS.lambda!.map((name) => getPreset(name).mcmiLambda)).toEqual([0.1, 0.15, 0.2, 0.25, 0.3, 0.35]);
  });

  it('getPreset returns a copy', () => {
    getPreset('tiny').milestones.push(1);
    expect(getPreset('tiny').milestones).toEqual([]);
  });

  it('scaleMilestones keeps the schedule shape and drops milestones past the end', () => {
    expect(scaleMilestones([150, 180, 210], 240, 240)).toEqual([150, 180, 210]);
    expect(scaleMilestones([150, 180, 210], 240, 24)).toEqual([15, 18, 21]);
    expect(scaleMilestones([30, 60, 90], 120, 1)).toEqual([]);
  });
});
