/**
 * The sizes a regularizer infers when they are left out of its options: where each stands in an input of
 * `loss()` and in the saved weights, so that one piece of code builds every head from its inputs or its weights.
 */
import { nhwc } from './checks';

/** What one input of `loss()` must look like: its axes (for messages) and its sizes after the batch axis. */
export interface InputLayout {
  /** The axes, e.g. `'[N, D_s]'`. */
  layout: string;
  /** The sizes after the batch axis (its length fixes the rank); undefined entries are free or not inferred yet. */
  sizes: Array<number | undefined>;
}

/** Where a saved weight holds a size: the weight's name and the axis of its shape. */
export type SavedAxis = [weight: string, axis: number];

/** `[height, width, channels]` of a feature map. */
export type MapSize = [number, number, number];

/**
 * One size of a head, given or inferred (`size` is undefined until known), with the layout of the `loss()` input
 * it is read from (`layout` names the axes for messages):
 * - `'vector'`: D of a `[N, D]` input;
 * - `'channels'`: C of an `[N, H, W, C]` map;
 * - `'map'`: the whole `[H, W, C]` of an `[N, H, W, C]` map (saved weights never determine it).
 *
 * `saved` names the weight whose shape holds the size, for `loadWeights` on an unbuilt head.
 */
export type InferredSize =
  | { kind: 'vector' | 'channels'; layout: string; size: number | undefined; saved?: SavedAxis }
  | { kind: 'map'; layout: string; size: MapSize | undefined };

/** The student's and the teacher's inferred size. */
export interface InferredSizes {
  student: InferredSize;
  teacher: InferredSize;
}

/** The layout an input must have, with the size known so far. */
export function inputLayout(inferred: InferredSize): InputLayout {
  if (inferred.kind === 'map') {
    return { layout: inferred.layout, sizes: inferred.size === undefined ? nhwc() : [...inferred.size] };
  }
  return { layout: inferred.layout, sizes: inferred.kind === 'vector' ? [inferred.size] : nhwc(inferred.size) };
}

/** The size read from the full shape (batch axis included) of an input that fits {@link inputLayout}. */
export function sizeFromShape(inferred: InferredSize, shape: readonly number[]): number | MapSize {
  if (inferred.kind === 'vector') return shape[1] as number;
  if (inferred.kind === 'channels') return shape[3] as number;
  return shape.slice(1) as MapSize;
}

/** The size given, else the one the saved weights' shapes (name → shape) hold, else undefined. */
export function sizeFromWeights(
  inferred: InferredSize,
  shapes: ReadonlyMap<string, number[]>,
): number | MapSize | undefined {
  if (inferred.size !== undefined || inferred.kind === 'map' || inferred.saved === undefined) return inferred.size;
  const [weight, axis] = inferred.saved;
  return shapes.get(weight)?.[axis];
}

/**
 * The sizes of a head that embeds a `[N, D_s]` student vector and a `[N, D_t]` teacher vector with the dense
 * layers `embed/student` and `embed/teacher` (CC, ICD, CRD); `batchAxis` names the batch axis in messages.
 */
export function embeddedVectorSizes(
  { studentDim, teacherDim }: { studentDim?: number; teacherDim?: number },
  batchAxis = 'N',
): InferredSizes {
  return {
    student: { kind: 'vector', layout: `[${batchAxis}, D_s]`, size: studentDim, saved: ['embed/student/kernel', 0] },
    teacher: { kind: 'vector', layout: `[${batchAxis}, D_t]`, size: teacherDim, saved: ['embed/teacher/kernel', 0] },
  };
}

/**
 * The sizes of a head on a student and a teacher `[N, H, W, C]` map whose channels C_s, C_t it infers (VID, FT),
 * read back from the saved weights `saved.student` and `saved.teacher`.
 */
export function channelSizes(
  { studentChannels, teacherChannels }: { studentChannels?: number; teacherChannels?: number },
  saved: { student: SavedAxis; teacher: SavedAxis },
): InferredSizes {
  return {
    student: { kind: 'channels', layout: '[N, H, W, C_s]', size: studentChannels, saved: saved.student },
    teacher: { kind: 'channels', layout: '[N, H, W, C_t]', size: teacherChannels, saved: saved.teacher },
  };
}
