/**
 * The control-plane surface of pipelines/switchml.ts and pipelines/sharp.ts: the table,
 * action, register and counter names the programs declare and the aggregation manager
 * (src/topology/aggregation-manager.ts) writes and reads. The contract between the two lives
 * here, below both, next to the frame format (switchml.ts, sharp.ts), so that pipelines/
 * depends only on the engine and the wire format.
 */

export const SML_WORKERS_TABLE = 'switchml_workers';
export const SML_WORKERS_KEY_SRC = 'hdr.common.src';
export const SML_WORKERS_KEY_JOB = 'hdr.common.dstPort';
export const SML_SET_WORKER = 'set_worker';
export const SML_RESULT_DST_TABLE = 'switchml_result_dst';
export const SML_RESULT_DST_KEY = 'std.instance';
export const SML_SET_RESULT_DST = 'set_result_dst';
export const SML_REG_VALUES = 'switchml_values';
export const SML_REG_BITMAP = 'switchml_bitmap';
export const SML_REG_COUNT = 'switchml_count';
export const SML_REG_EXPONENT = 'switchml_exponent';
export const SML_REG_OVERFLOW = 'switchml_overflow';
export const SML_REG_SEQ = 'switchml_seq';
export const SML_STATS_COUNTER = 'switchml_stats';

/** Indices of the switchml_stats counter. */
export const SML_STAT_UNKNOWN_WORKER = 0;
export const SML_STAT_BAD_SLOT = 1;
export const SML_STAT_MALFORMED = 2;
export const SML_STAT_DUPLICATE = 3;
export const SML_STAT_STALE = 4;
/** a member's address (and job) on a port its frames cannot come from: not a contribution */
export const SML_STAT_SPOOFED = 5;
export const SML_STAT_AGGREGATED = 6;
export const SML_STAT_COMPLETED = 7;
export const SML_STAT_RESENT = 8;
export const SML_STAT_NAMES = ['unknownWorker', 'badSlot', 'malformed', 'duplicate', 'stale', 'spoofed', 'aggregated', 'completed', 'resent'] as const;
/** The drop reasons among them (the report's per-switch `aggregation` counters). */
export const SML_DROP_REASONS = ['unknownWorker', 'badSlot', 'malformed', 'duplicate', 'stale', 'spoofed'] as const;

/** pipelines/sharp.ts adds, on the same workers table: a tree child (contributions up) and the parent (results down). */
export const SHARP_SET_CHILD = 'set_tree_child';
export const SHARP_SET_PARENT = 'set_tree_parent';
/** per slot copy: 1 once the copy holds the job's total (the root: on completion; below: when the parent's result came) */
export const SHARP_REG_DONE = 'sharp_done';
/** sharp's switchml_stats has these after SML_STAT_NAMES */
export const SHARP_STAT_PARTIAL_UP = 9;
export const SHARP_STAT_PARTIAL_RESENT = 10;
export const SHARP_STAT_RESULT_DOWN = 11;
export const SHARP_STAT_NAMES = [...SML_STAT_NAMES, 'partialUp', 'partialResent', 'resultDown'] as const;

/**
 * The workers table's `ingressPort` parameter: the one port a member's frames reach this
 * switch on (its path from the member). ANY_PORT when shortest paths offer several (then only
 * the edge's source guard vouches for the address).
 */
export const SML_ANY_PORT = 0xffff;

/** The worker bitmap is one 32-bit register cell per slot copy. */
export const SML_MAX_WORKERS = 32;
export const SML_DEFAULT_SLOTS = 512;
export const SML_DEFAULT_ELEMENTS = 64;
/** Job ids are the frames' 16-bit dstPort. */
export const SML_MAX_JOB_ID = 0xffff;
