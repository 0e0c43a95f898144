/**
 * The list of runs of a study, in the order workers take them: the MLL teacher, its fine-tunes (control λ = 0
 * and each λ), then the students seed by seed, so that a study cut short by its deadline still has every cell
 * with fewer seeds rather than some cells with none.
 */
import type { StudyConfig } from './config';

/** Which teacher a student learns from: the MLL teacher, the λ = 0 control, the chosen MCMI teacher, or none. */
export type TeacherRole = 'mll' | 'control' | 'mcmi' | 'none';

export const TEACHER_ROLES: readonly Exclude<TeacherRole, 'none'>[] = ['mll', 'control', 'mcmi'];

export interface TeacherRun {
  kind: 'teacher';
  id: string;
  /** undefined: the MLL teacher (cross-entropy); a number: a fine-tune of the MLL teacher with this λ. */
  lambda?: number;
  dependsOn: string[];
}

export interface StudentRun {
  kind: 'student';
  id: string;
  setting: string;
  method: string;
  teacher: TeacherRole;
  seed: number;
  dependsOn: string[];
}

export type RunSpec = TeacherRun | StudentRun;

export const MLL_TEACHER_ID = 'teachers/mll';

/** Run id of the fine-tune with λ (λ = 0 is the control). */
export function fineTuneId(lambda: number): string {
  return `teachers/finetune-lambda-${lambda}`;
}

export function studentId(setting: string, method: string, teacher: TeacherRole, seed: number): string {
  return `students/${setting}/${method}/${teacher}/seed-${seed}`;
}

/** Every λ the study fine-tunes with, the control (0) first. */
export function allLambdas(config: StudyConfig): number[] {
  return [0, ...config.lambdas.filter((lambda) => lambda !== 0)];
}

/** The runs of `config`, in scheduling order. */
export function planStudy(config: StudyConfig): RunSpec[] {
  const runs: RunSpec[] = [{ kind: 'teacher', id: MLL_TEACHER_ID, dependsOn: [] }];
  const fineTunes = allLambdas(config).map((lambda) => fineTuneId(lambda));
  for (const lambda of allLambdas(config)) {
    runs.push({ kind: 'teacher', id: fineTuneId(lambda), lambda, dependsOn: [MLL_TEACHER_ID] });
  }
  const known = new Set(config.methods.map((method) => method.name));
  const students: StudentRun[] = [];
  for (const seed of config.seeds) {
    for (const setting of config.settings) {
      for (const method of setting.methods) {
        if (!known.has(method)) throw new Error(`planStudy: setting '${setting.name}' uses unknown method '${method}'`);
        const teachers: TeacherRole[] = method === 'none' ? ['none'] : [...TEACHER_ROLES];
        for (const teacher of teachers) {
          const dependsOn =
            teacher === 'none'
              ? []
              : teacher === 'mll'
                ? [MLL_TEACHER_ID]
                : teacher === 'control'
                  ? [fineTuneId(0)]
                  : fineTunes;
          students.push({
            kind: 'student',
            id: studentId(setting.name, method, teacher, seed),
            setting: setting.name,
            method,
            teacher,
            seed,
            dependsOn,
          });
        }
      }
    }
  }
  // Students without a teacher first: a second worker trains them while the first trains the MLL teacher.
  runs.push(...students.filter((run) => run.teacher === 'none'), ...students.filter((run) => run.teacher !== 'none'));
  return runs;
}
